"""Outgoing ``jira:issue_updated`` webhooks, signed as Jira signs admin webhooks.

Payload and signing from docs/tracker-apis.md §1.7: the body carries ``timestamp``,
``webhookEvent``, ``issue_event_type_name``, ``user`` (the actor, with ``accountId``),
``issue`` (REST v2 shape, all fields) and ``changelog`` (``id`` and ``items``). With a
secret, ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``. Each delivery also
carries ``X-Atlassian-Webhook-Identifier``. Deliveries are attempted once; the outcome is
appended to ``sandbox.webhook_log``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from .edits import ChangeItem
from .model import StoredIssue
from .render import render_issue

if TYPE_CHECKING:
    from .state import Account, JiraSandbox

_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One outgoing webhook attempt: HTTP status, or the transport error's name."""

    event_id: str
    url: str
    status: int | None
    error: str | None


def sign_body(secret: str, body: bytes) -> str:
    """Return the ``X-Hub-Signature`` value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_issue_updated(
    sandbox: JiraSandbox,
    issue: StoredIssue,
    changes: list[ChangeItem],
    *,
    actor: Account,
    at: datetime,
    changelog_id: str,
) -> dict[str, Any]:
    """Return the ``jira:issue_updated`` payload for one edit."""
    base = sandbox.site_url
    return {
        "timestamp": int(at.timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {
            "self": f"{base}/rest/api/2/user?accountId={actor.account_id}",
            "accountId": actor.account_id,
            "displayName": actor.display_name,
            "active": True,
            "accountType": "atlassian",
            "timeZone": "UTC",
        },
        "issue": render_issue(
            issue,
            base_url=base,
            api="2",
            fields=sandbox.fields.ids(),
            site=sandbox.fields,
            find=sandbox.find,
        ),
        "changelog": {"id": changelog_id, "items": [change.to_json() for change in changes]},
    }


def delivery(event: dict[str, Any], *, secret: str | None) -> tuple[bytes, dict[str, str]]:
    """The body and headers Jira sends ``event`` with, signed when there is a secret."""
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Atlassian Webhook HTTP Client",
        "X-Atlassian-Webhook-Identifier": f"{event['changelog']['id']}-{event['issue']['id']}",
    }
    if secret:
        headers["X-Hub-Signature"] = sign_body(secret, body)
    return body, headers


def signed_edit(
    sandbox: JiraSandbox, key: str, fields: dict[str, Any], *, secret: str, changelog_id: str
) -> tuple[bytes, dict[str, str]]:
    """A person edits ``key``; the signed ``jira:issue_updated`` delivery Jira would send,
    for harnesses that post it themselves (benchmarks, replica tests)."""
    record = sandbox.human_edit(key, fields=fields)
    stored = sandbox.find(key)
    assert stored is not None
    event = build_issue_updated(
        sandbox,
        stored,
        list(record.changes),
        actor=sandbox.human,
        at=record.at,
        changelog_id=changelog_id,
    )
    return delivery(event, secret=secret)


async def deliver_pending(sandbox: JiraSandbox) -> None:
    """POST every queued event to the sandbox's webhook URL, oldest first."""
    url = sandbox.webhook_url
    if not url:
        sandbox.pending_events.clear()
        return
    async with httpx.AsyncClient(transport=sandbox.webhook_transport, timeout=_TIMEOUT_S) as client:
        while sandbox.pending_events:
            event = sandbox.pending_events.pop(0)
            await _deliver_one(sandbox, client, url, event)


async def _deliver_one(
    sandbox: JiraSandbox, client: httpx.AsyncClient, url: str, event: dict[str, Any]
) -> None:
    body, headers = delivery(event, secret=sandbox.webhook_secret)
    event_id = headers["X-Atlassian-Webhook-Identifier"]
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        sandbox.webhook_log.append(WebhookDelivery(event_id, url, None, type(error).__name__))
        return
    sandbox.webhook_log.append(WebhookDelivery(event_id, url, response.status_code, None))
