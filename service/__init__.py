"""`priosync serve`: webhook-triggered rescoring plus the scheduled full sync (design §10).

Pure parts: ``verify`` (signatures on the raw body) and ``metrics`` (Prometheus text); what
a payload asks for is decided by each tracker's ``connectors.<tracker>.webhooks``. Stateful
parts: ``queue`` (coalescing work queue, delivery de-duplication), ``rescore`` (the snapshot
and the pipeline runs), ``schedule`` (cron), ``app`` (the Starlette app, which routes each
delivery by its tracker's ``WebhookSpec``) and ``run`` (uvicorn with draining shutdown).
"""

from service.app import create_service_app
from service.run import run_service

__all__ = ["create_service_app", "run_service"]
