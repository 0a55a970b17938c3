"""A local GitHub that speaks the REST and GraphQL subset priosync uses (design §9).

``GitHubSandbox.seeded(...)`` holds the data, ``create_github_app(sandbox)`` serves it as an
ASGI app (through ``httpx.ASGITransport`` or uvicorn), ``run_github_sandbox(...)`` runs it
on loopback for ``priosync sandbox github``.
"""

from .app import (
    GitHubSandbox,
    IssueSnapshot,
    ItemSnapshot,
    RequestLogEntry,
    create_github_app,
)
from .faults import DroppedConnection, Faults
from .limits import RateLimitPolicy
from .serve import DEFAULT_TOKEN, run_github_sandbox
from .webhooks import WebhookDelivery, sign_body

__all__ = [
    "DEFAULT_TOKEN",
    "DroppedConnection",
    "Faults",
    "GitHubSandbox",
    "IssueSnapshot",
    "ItemSnapshot",
    "RateLimitPolicy",
    "RequestLogEntry",
    "WebhookDelivery",
    "create_github_app",
    "run_github_sandbox",
    "sign_body",
]
