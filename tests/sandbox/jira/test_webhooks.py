"""Outgoing jira:issue_updated webhooks: payload, changelog, actor, and the HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.jira import DEFAULT_EMAIL as EMAIL
from sandbox.jira import DEFAULT_TOKEN as TOKEN
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.jira.testing import asgi_client
from sandbox.jira.webhooks import deliver_pending
from sandbox.loopback import serve_in_thread

SECRET = "s3cret"


def make_receiver() -> tuple[Starlette, list[tuple[dict[str, str], bytes]]]:
    """A webhook receiver app that records (headers, raw body) of every delivery."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), received


def verify(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-hub-signature"], expected)


class TestWebhooks:
    async def test_edit_posts_signed_payload_with_changelog(self) -> None:
        """An API edit delivers one signed jira:issue_updated event naming the API account."""
        receiver, received = make_receiver()
        sandbox = JiraSandbox.seeded(
            issues=10, webhook_url="http://hooks.test/hook", webhook_secret=SECRET
        )
        sandbox.webhook_transport = httpx.ASGITransport(app=receiver)
        sandbox.human_edit("WEB-2", fields={"labels": ["roadmap:later"]})
        sandbox.pending_events.clear()
        async with asgi_client(sandbox) as client:
            response = await client.put(
                "/rest/api/3/issue/WEB-2",
                json={
                    "fields": {c.REACH: 900},
                    "update": {"labels": [{"add": "roadmap:now"}, {"remove": "roadmap:later"}]},
                },
            )
        assert response.status_code == 204
        assert len(received) == 1
        headers, body = received[0]
        assert verify(headers, body)
        event: dict[str, Any] = json.loads(body)
        assert event["webhookEvent"] == "jira:issue_updated"
        assert event["user"]["accountId"] == sandbox.account.account_id
        assert event["issue"]["key"] == "WEB-2"
        items = {i["fieldId"]: i for i in event["changelog"]["items"]}
        assert items[c.REACH]["toString"] == "900"
        assert items[c.REACH]["fieldtype"] == "custom"
        assert (items["labels"]["fromString"], items["labels"]["toString"]) == (
            "roadmap:later",
            "roadmap:now",
        )
        assert sandbox.webhook_log[0].status == 204

    async def test_human_edit_carries_the_person_and_no_change_sends_nothing(self) -> None:
        """A person's edit is attributed to their accountId; an edit that changes nothing fires no event."""
        receiver, received = make_receiver()
        sandbox = JiraSandbox.seeded(
            issues=10, webhook_url="http://hooks.test/hook", webhook_secret=SECRET
        )
        sandbox.webhook_transport = httpx.ASGITransport(app=receiver)
        sandbox.human_edit("WEB-3", fields={c.EFFORT: 4})
        sandbox.human_edit("WEB-3", fields={c.EFFORT: 4})
        await deliver_pending(sandbox)
        assert len(received) == 1
        event = json.loads(received[0][1])
        assert event["user"]["accountId"] == sandbox.human.account_id != sandbox.account.account_id

    def test_delivery_over_loopback(self) -> None:
        """Served on loopback, the sandbox posts the event to a real receiver URL."""
        receiver, received = make_receiver()
        sandbox = JiraSandbox.seeded(issues=10, webhook_secret=SECRET)
        with serve_in_thread(receiver) as hooks, serve_in_thread(create_jira_app(sandbox)) as jira:
            sandbox.webhook_url = f"{hooks}/hook"
            with httpx.Client(base_url=jira, auth=(EMAIL, TOKEN)) as client:
                assert (
                    client.put("/rest/api/2/issue/WEB-1", json={"fields": {c.EASE: 9}}).status_code
                    == 204
                )
            for _ in range(200):
                if received:
                    break
                time.sleep(0.01)
        assert len(received) == 1
        assert verify(*received[0])
