"""The HTTP surface: refusals (401/413/400), replays, health, metrics, status and report."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from priosync.errors import ConfigError
from sandbox.jira import catalog
from service import create_service_app
from sync.audit import SqliteAuditLog
from sync.standings import Standings

from .conftest import ENVIRON, SECRET, eventually, load_test_config, running_service

GITHUB_SECRET = "gh-s3cret"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def jira_update(key: str, reach: float) -> bytes:
    return json.dumps({
        "webhookEvent": "jira:issue_updated", "user": {"accountId": "human"},
        "issue": {"key": key, "self": "https://elsewhere.invalid/rest/api/2/issue/1"},
        "changelog": {"items": [{"field": "Reach", "fieldId": catalog.REACH, "toString": str(reach)}]},
    }).encode()  # fmt: skip


def jira_headers(body: bytes, delivery: str, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature": sign(secret, body), "X-Atlassian-Webhook-Identifier": delivery,
            "Content-Type": "application/json"}  # fmt: skip


class TestStartup:
    def test_refuses_to_start_without_a_secret(self) -> None:
        """No PRIOSYNC_JIRA_WEBHOOK_SECRET: a ConfigError naming the variable to set."""
        environ = {k: v for k, v in ENVIRON.items() if "WEBHOOK" not in k}
        with pytest.raises(ConfigError) as caught:
            create_service_app(load_test_config(), environ=environ)
        assert "PRIOSYNC_JIRA_WEBHOOK_SECRET" in str(caught.value)
        assert "--accept-unsigned" in str(caught.value)

    def test_starts_unsigned_only_when_told(self) -> None:
        """The flag or server.accept_unsigned lets an unsigned endpoint start."""
        environ = {k: v for k, v in ENVIRON.items() if "WEBHOOK" not in k}
        assert create_service_app(load_test_config(), environ=environ, accept_unsigned=True)
        assert create_service_app(load_test_config(accept_unsigned=True), environ=environ)

    def test_a_github_secret_enables_the_github_endpoint_only_then(self) -> None:
        """Without GitHub sources or secret, GitHub needs no secret to start."""
        assert create_service_app(load_test_config(), environ=ENVIRON)

    def test_an_invalid_timezone_is_a_config_error(self) -> None:
        """A schedule with an unknown time zone is refused by the config, before serve starts."""
        loaded = load_test_config()
        raw = loaded.config.model_dump(mode="json", exclude_none=True)
        raw["schedule"] = {"cron": "0 * * * *", "timezone": "Mars/Olympus"}
        from pathlib import Path

        from config import validate_config

        with pytest.raises(ConfigError) as caught:
            validate_config(raw, file=Path("t.toml"), environ={})
        assert caught.value.key == "schedule.timezone"


class TestJiraEndpoint:
    async def test_refusals_have_their_status_codes(self) -> None:
        """Bad signature 401, oversized 413 (declared or streamed), malformed 400."""
        async with running_service() as svc:
            body = jira_update("WEB-1", 5)
            wrong = await svc.client.post(
                "/webhooks/jira", content=body, headers=jira_headers(body, "a", "nope")
            )
            unsigned = await svc.client.post("/webhooks/jira", content=body)
            big = b"{" + b" " * 5000 + b"}"
            declared = await svc.client.post(
                "/webhooks/jira", content=big, headers=jira_headers(big, "b")
            )

            async def stream() -> AsyncIterator[bytes]:
                for _ in range(100):
                    yield b" " * 1000

            streamed = await svc.client.post("/webhooks/jira", content=stream())
            junk = b"{not json"
            malformed = await svc.client.post(
                "/webhooks/jira", content=junk, headers=jira_headers(junk, "c")
            )
            assert (wrong.status_code, unsigned.status_code) == (401, 401)
            assert (declared.status_code, streamed.status_code) == (413, 413)
            assert malformed.status_code == 400
            assert (
                svc.metric("priosync_webhook_events_total", tracker="jira", outcome="bad-signature")
                == 2
            )
            assert (
                svc.metric("priosync_webhook_events_total", tracker="jira", outcome="too-large")
                == 2
            )

    async def test_a_replayed_delivery_is_not_rescored_twice(self) -> None:
        """The same X-Atlassian-Webhook-Identifier twice: 202 then 200 duplicate, one rescore."""
        async with running_service() as svc:
            key = sorted(svc.ranking())[0]
            svc.sandbox.human_edit(key, fields={catalog.REACH: 777})
            body = json.dumps(svc.sandbox.pending_events.pop()).encode()  # the sandbox's own event
            first = await svc.client.post(
                "/webhooks/jira", content=body, headers=jira_headers(body, "d-1")
            )
            second = await svc.client.post(
                "/webhooks/jira", content=body, headers=jira_headers(body, "d-1")
            )
            await svc.settled()
            assert (first.status_code, second.status_code) == (202, 200)
            assert second.json() == {"status": "duplicate"}
            assert svc.app.state.metrics.total("priosync_rescores_total") == 1
            await asyncio.sleep(0.3)
            third = await svc.client.post(
                "/webhooks/jira", content=body, headers=jira_headers(body, "d-1")
            )
            await svc.settled()
            assert third.status_code == 200
            assert svc.app.state.metrics.total("priosync_rescores_total") == 1

    async def test_after_1000_bad_requests_the_service_is_healthy_and_wrote_nothing(self) -> None:
        """A flood of refusals and replays leaves the service serving and the tracker untouched."""
        async with running_service() as svc:
            key = sorted(svc.ranking())[0]
            good = jira_update(key, 1)
            await svc.client.post(
                "/webhooks/jira", content=good, headers=jira_headers(good, "seen")
            )
            await svc.settled()
            edits_before = len(svc.sandbox.edit_log)
            rescores_before = svc.app.state.metrics.total("priosync_rescores_total")
            big = b"[" + b"0," * 3000 + b"0]"
            junk = b'{"webhookEvent": 5}'
            kinds: list[tuple[bytes, dict[str, str]]] = [
                (good, jira_headers(good, "x", "wrong-secret")),
                (big, jira_headers(big, "y")),
                (junk, jira_headers(junk, "z")),
                (good, jira_headers(good, "seen")),
            ]

            async def one(n: int) -> int:
                body, headers = kinds[n % len(kinds)]
                response = await svc.client.post("/webhooks/jira", content=body, headers=headers)
                return int(response.status_code)

            statuses: list[int] = []
            for start in range(0, 1000, 50):
                statuses += await asyncio.gather(*(one(n) for n in range(start, start + 50)))
            await svc.settled()
            health = await svc.client.get("/healthz")
            assert sorted(set(statuses)) == [200, 400, 401, 413]
            assert statuses.count(401) == statuses.count(413) == statuses.count(400) == 250
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            assert len(svc.sandbox.edit_log) == edits_before
            assert svc.app.state.metrics.total("priosync_rescores_total") == rescores_before

    async def test_token_mode_for_jira_that_cannot_sign(self) -> None:
        """With only PRIOSYNC_JIRA_WEBHOOK_TOKEN set, the URL token is checked instead."""
        environ = {**{k: v for k, v in ENVIRON.items() if "WEBHOOK" not in k},
                   "PRIOSYNC_JIRA_WEBHOOK_TOKEN": "url-t0ken"}  # fmt: skip
        async with running_service(environ=environ) as svc:
            body = jira_update("WEB-1", 3)
            ok = await svc.client.post("/webhooks/jira?token=url-t0ken", content=body)
            bad = await svc.client.post("/webhooks/jira?token=guess", content=body)
            missing = await svc.client.post("/webhooks/jira", content=body)
            assert (ok.status_code, bad.status_code, missing.status_code) == (202, 401, 401)

    async def test_unknown_events_are_accepted_and_ignored(self) -> None:
        """A signed comment event gets 202 with the reason, and queues nothing."""
        async with running_service() as svc:
            body = json.dumps({"webhookEvent": "comment_created", "comment": {}}).encode()
            response = await svc.client.post(
                "/webhooks/jira", content=body, headers=jira_headers(body, "e")
            )
            assert response.status_code == 202
            assert response.json()["status"] == "ignored"
            assert svc.service.queue.depth == 0


def github_headers(
    body: bytes, event: str, delivery: str, secret: str = GITHUB_SECRET
) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(secret, body), "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}  # fmt: skip


class TestGitHubEndpoint:
    async def test_github_deliveries_are_verified_and_answered(self) -> None:
        """ping → 200 pong; bad signature → 401; an unconfigured repo → 202 ignored; replay → 200."""
        environ = {**ENVIRON, "PRIOSYNC_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
        async with running_service(environ=environ) as svc:
            ping = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
            issue: dict[str, Any] = {"action": "edited", "issue": {"number": 3},
                                     "repository": {"full_name": "acme/app"}, "sender": {"login": "pat"}}  # fmt: skip
            body = json.dumps(issue).encode()
            pong = await svc.client.post(
                "/webhooks/github", content=ping, headers=github_headers(ping, "ping", "g1")
            )
            wrong = await svc.client.post(
                "/webhooks/github", content=body, headers=github_headers(body, "issues", "g2", "x")
            )
            ignored = await svc.client.post(
                "/webhooks/github", content=body, headers=github_headers(body, "issues", "g3")
            )
            again = await svc.client.post(
                "/webhooks/github", content=body, headers=github_headers(body, "issues", "g3")
            )
            assert (pong.status_code, pong.json()) == (200, {"status": "pong"})
            assert wrong.status_code == 401
            assert ignored.status_code == 202
            assert "no GitHub source" in ignored.json()["reason"]
            assert again.json() == {"status": "duplicate"}

    async def test_github_endpoint_is_off_without_source_or_secret(self) -> None:
        """No GitHub source and no secret: the endpoint answers 404."""
        async with running_service() as svc:
            response = await svc.client.post("/webhooks/github", content=b"{}")
            assert response.status_code == 404


class TestPages:
    async def test_status_metrics_and_report(self) -> None:
        """/ shows runs and recent changes, /metrics is Prometheus text, /report the ranking."""
        async with running_service(server={"report": True}) as svc:
            key = max(svc.ranking().values(), key=lambda r: r.rank or 0).item.key
            svc.sandbox.human_edit(key, fields={catalog.REACH: 9_000_000})
            await svc.deliver()
            await eventually(lambda: svc.app.state.metrics.total("priosync_rescores_total") == 1)
            await svc.settled()
            status = await svc.client.get("/")
            metrics = await svc.client.get("/metrics")
            report = await svc.client.get("/report")
            assert status.status_code == 200
            assert "webhook" in status.text
            assert key in status.text
            assert "/report" in status.text
            assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert 'priosync_rescores_total{outcome="ok"} 1' in metrics.text
            assert 'priosync_syncs_total{outcome="ok",trigger="start"} 1' in metrics.text
            assert "priosync_queue_depth 0" in metrics.text
            assert report.status_code == 200
            assert key in report.text

    async def test_the_report_compares_with_the_sync_before_the_last(self, tmp_path: Path) -> None:
        """With a SQLite state the report shows movement since the full sync before the last
        one, read from the standings file when asked (the service does not hold them)."""
        audit = SqliteAuditLog(tmp_path / "state.sqlite3")
        async with running_service(server={"report": True}, audit=audit) as svc:
            first = await svc.client.get("/report")
            assert "No earlier sync is recorded" in first.text
            key = max(svc.ranking().values(), key=lambda r: r.rank or 0).item.key
            svc.sandbox.human_edit(key, fields={catalog.REACH: 9_000_000})
            await svc.service.rescorer.full_sync("schedule")
            second = await svc.client.get("/report")
        assert "No earlier sync is recorded" not in second.text
        assert "<span class=up>↑" in second.text
        held = vars(svc.service.rescorer).values()
        assert not any(isinstance(value, Standings) for value in held)

    async def test_report_waits_for_the_first_sync(self) -> None:
        """Before any full sync, /report says so with 503 and /healthz still answers."""
        async with running_service(
            sync_at_start=False, wait_for_snapshot=False, server={"report": True}
        ) as svc:
            report = await svc.client.get("/report")
            health = await svc.client.get("/healthz")
            assert report.status_code == 503
            assert health.json()["snapshot"] is False
