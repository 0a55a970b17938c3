"""A sandbox Jira (Cloud REST v3/v2, or Data Center v2) for the demo, tests and benchmarks.

Public API::

    sandbox = JiraSandbox.seeded(issues=200, seed=7)     # state: issues, logs, persistence
    app = create_jira_app(sandbox)                        # Starlette app (ASGITransport, uvicorn)
    run_jira_sandbox(port=8080, email=None, token=None, state_path=None, dc=False, echo=print)

Fixed site facts (field ids, options, priorities) are in ``catalog``; faults in ``faults``.
"""

from .app import create_jira_app
from .catalog import FIELDS, PRIORITIES
from .faults import Faults
from .serve import run_jira_sandbox
from .state import (
    DEFAULT_EMAIL,
    DEFAULT_PAT,
    DEFAULT_TOKEN,
    NOTIFY_FORBIDDEN,
    EditRecord,
    IssueView,
    JiraSandbox,
    RequestLogEntry,
)
from .webhooks import WebhookDelivery, sign_body

__all__ = [
    "DEFAULT_EMAIL",
    "DEFAULT_PAT",
    "DEFAULT_TOKEN",
    "FIELDS",
    "NOTIFY_FORBIDDEN",
    "PRIORITIES",
    "EditRecord",
    "Faults",
    "IssueView",
    "JiraSandbox",
    "RequestLogEntry",
    "WebhookDelivery",
    "create_jira_app",
    "run_jira_sandbox",
    "sign_body",
]
