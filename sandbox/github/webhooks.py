"""Outgoing webhooks: ``issues`` and ``projects_v2_item`` events, signed as GitHub signs them.

``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>``, ``X-GitHub-Event``,
``X-GitHub-Delivery`` (a GUID), ``X-GitHub-Hook-ID`` and the ``sender`` in the body
(https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
docs/tracker-apis.md §3.6). GitHub does not retry failed deliveries; neither does the sandbox,
it records them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from .graphql_api import WebhookEvent
from .payloads import JSON, issue_json, label_json, org_json, repo_json, user_json, viewer_json
from .state import GitHubState, Issue, Label, ProjectItem

HOOK_ID = 424242


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One delivery attempt, as the sandbox recorded it."""

    delivery_id: str
    event: str
    action: str
    status: int | None
    error: str | None = None


def sign_body(secret: str, body: bytes) -> str:
    """Return the ``X-Hub-Signature-256`` header value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _item_json(state: GitHubState, base: str, item: ProjectItem) -> JSON:
    project = state.project_of_item(item)
    content = state.item_content(project, item)
    return {
        "id": item.id, "node_id": item.node_id, "project_node_id": project.node_id,
        "content_node_id": content.node_id,
        "content_type": {"ISSUE": "Issue", "PULL_REQUEST": "PullRequest",
                         "DRAFT_ISSUE": "DraftIssue"}[item.kind],
        "creator": viewer_json(state, base), "created_at": item.created_at,
        "updated_at": item.updated_at, "archived_at": None,
    }  # fmt: skip


def build_payload(
    state: GitHubState, base: str, event: WebhookEvent, *, by_human: bool = False
) -> JSON:
    """Return the JSON body GitHub would send for ``event``; ``by_human``: the person sent it."""
    payload: JSON = {"action": event.action}
    if isinstance(event.subject, Issue):
        payload["issue"] = issue_json(state, base, event.subject)
        payload["repository"] = repo_json(state, base, state.repos[event.subject.repo])
    else:
        payload["projects_v2_item"] = _item_json(state, base, event.subject)
    for key, value in event.extra.items():
        payload[key] = label_json(state, base, value) if isinstance(value, Label) else value
    payload["organization"] = org_json(state, base)
    payload["sender"] = (
        user_json(base, login=state.human_login, user_id=state.human_id)
        if by_human
        else viewer_json(state, base)
    )
    return payload


def build_request(*, url: str, secret: str | None, event: str, payload: JSON) -> httpx.Request:
    """Return the signed POST request of one delivery."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/sandbox",
        "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-GitHub-Hook-Installation-Target-Type": "organization",
    }  # fmt: skip
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign_body(secret, body)
    return httpx.Request("POST", url, content=body, headers=headers)


async def deliver(
    client: httpx.AsyncClient, request: httpx.Request, *, action: str
) -> WebhookDelivery:
    """Send one delivery; failures are recorded, never raised (GitHub does not retry)."""
    delivery_id = request.headers["X-GitHub-Delivery"]
    event = request.headers["X-GitHub-Event"]
    try:
        response = await client.send(request)
    except httpx.HTTPError as exc:
        return WebhookDelivery(delivery_id, event, action, None, type(exc).__name__)
    return WebhookDelivery(delivery_id, event, action, response.status_code)


def as_events(raw: Any) -> list[WebhookEvent]:
    """Return the webhook events a handler queued on the request state."""
    return [e for e in raw or () if isinstance(e, WebhookEvent)]
