"""Requests built to hurt: every one gets a 4xx (never a 500), costs nothing, and leaves
no false alarm in the metrics or the log."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
from urllib.parse import urlencode, urlsplit

import pytest

from priosync.logs import EscapingFormatter, escape_controls

from .conftest import ENVIRON, SECRET, running_service

GITHUB_SECRET = "gh-s3cret"
BOTH = {**ENVIRON, "PRIOSYNC_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def jira_headers(body: bytes, delivery: str) -> dict[str, str]:
    return {"X-Hub-Signature": sign(SECRET, body), "X-Atlassian-Webhook-Identifier": delivery}


def github_headers(body: bytes, event: str = "ping", delivery: str = "g-1") -> dict[str, str]:
    return {
        "X-Hub-Signature-256": sign(GITHUB_SECRET, body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


NESTED = b"[" * 1000 + b"]" * 1000
PING = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()


class TestDeepNesting:
    async def test_every_endpoint_and_event_refuses_deep_nesting_with_400(self) -> None:
        """1,000 nested arrays, signed: 400 from Jira, a GitHub ping and an unhandled event."""
        async with running_service(environ=BOTH, server={"max_body_bytes": 8192}) as svc:
            jira = await svc.client.post(
                "/webhooks/jira", content=NESTED, headers=jira_headers(NESTED, "n-1")
            )
            ping = await svc.client.post(
                "/webhooks/github", content=NESTED, headers=github_headers(NESTED)
            )
            other = await svc.client.post(
                "/webhooks/github",
                content=NESTED,
                headers=github_headers(NESTED, "star", "g-2"),
            )
            assert [r.status_code for r in (jira, ping, other)] == [400, 400, 400]
            assert "nested deeper" in ping.json()["error"]
            assert svc.metric("priosync_errors_total", stage="request") == 0


class TestHangUps:
    async def test_a_client_that_hangs_up_mid_body_is_not_an_error(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Content-Length 3000 then a hang-up after 100 bytes: no crash log, no error count."""
        async with running_service() as svc:
            url = urlsplit(svc.base)
            _reader, writer = await asyncio.open_connection(url.hostname, url.port)
            writer.write(
                b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 3000\r\n\r\n" + b"{" * 100
            )
            await writer.drain()
            await asyncio.sleep(0.2)  # the handler is reading the body now
            writer.close()
            await writer.wait_closed()
            await asyncio.sleep(0.3)
            assert svc.metric("priosync_errors_total", stage="request") == 0
            assert (
                svc.metric("priosync_webhook_events_total", tracker="jira", outcome="disconnected")
                == 1
            )
            assert "crashed" not in caplog.text


class TestDeliveryIds:
    async def test_long_ids_sharing_a_prefix_are_two_deliveries(self) -> None:
        """Ids that differ after 200 characters are not mistaken for a replay."""
        async with running_service(environ=BOTH) as svc:
            prefix = "d" * 300
            first = await svc.client.post(
                "/webhooks/github",
                content=PING,
                headers=github_headers(PING, delivery=prefix + "1"),
            )
            second = await svc.client.post(
                "/webhooks/github",
                content=PING,
                headers=github_headers(PING, delivery=prefix + "2"),
            )
            assert (first.status_code, second.status_code) == (200, 200)
            assert second.json() == {"status": "pong"}


class TestEncodings:
    async def test_github_form_payloads_are_accepted(self) -> None:
        """A webhook set up as x-www-form-urlencoded: the signature covers the form."""
        async with running_service(environ=BOTH) as svc:
            form = urlencode({"payload": PING.decode()}).encode()
            headers = {
                **github_headers(form),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            response = await svc.client.post("/webhooks/github", content=form, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json() == {"status": "pong"}

    async def test_gzip_is_undone_and_bounded(self) -> None:
        """A gzip body is read; one that inflates past the limit is 413, not read whole."""
        async with running_service(environ=BOTH, server={"max_body_bytes": 4096}) as svc:
            packed = gzip.compress(PING)
            headers = {**github_headers(PING), "Content-Encoding": "gzip"}
            fine = await svc.client.post("/webhooks/github", content=packed, headers=headers)
            bomb = gzip.compress(b"[" + b" " * 10_000_000 + b"]")
            bomb_headers = {
                **github_headers(b"", delivery="g-bomb"),
                "Content-Encoding": "gzip",
            }
            refused = await svc.client.post("/webhooks/github", content=bomb, headers=bomb_headers)
            assert fine.status_code == 200, fine.text
            assert refused.status_code == 413

    @pytest.mark.parametrize(
        ("header", "value"),
        [("Content-Encoding", "br"), ("Content-Type", "text/plain")],
    )
    async def test_unknown_encodings_and_types_are_415(self, header: str, value: str) -> None:
        """An encoding or content type priosync does not read is 415, naming the fix."""
        async with running_service(environ=BOTH) as svc:
            headers = {**github_headers(PING), header: value}
            response = await svc.client.post("/webhooks/github", content=PING, headers=headers)
            assert response.status_code == 415
            assert (
                "application/json" in response.json()["error"] or "gzip" in response.json()["error"]
            )


class TestReport:
    async def test_the_report_is_off_unless_enabled(self) -> None:
        """By default /report is 404 and says how to turn it on; the status page hides the link."""
        async with running_service() as svc:
            report = await svc.client.get("/report")
            status = await svc.client.get("/")
            assert report.status_code == 404
            assert "server.report = true" in report.text
            assert "/report" not in status.text

    async def test_with_a_token_the_report_needs_it(self) -> None:
        """PRIOSYNC_REPORT_TOKEN set: 401 without it, 200 with the bearer token or ?token=."""
        environ = {**ENVIRON, "PRIOSYNC_REPORT_TOKEN": "r3port-token"}
        async with running_service(environ=environ, server={"report": True}) as svc:
            missing = await svc.client.get("/report")
            wrong = await svc.client.get("/report", headers={"Authorization": "Bearer nope"})
            bearer = await svc.client.get(
                "/report", headers={"Authorization": "Bearer r3port-token"}
            )
            query = await svc.client.get("/report", params={"token": "r3port-token"})
            assert (missing.status_code, wrong.status_code) == (401, 401)
            assert (bearer.status_code, query.status_code) == (200, 200)


class TestLogLines:
    def test_control_characters_cannot_forge_a_line(self) -> None:
        """A newline or an escape in a logged value is written as \\x0a / \\x1b."""
        formatter = EscapingFormatter("%(levelname)s %(message)s")
        record = logging.LogRecord(
            "priosync.server", logging.INFO, __file__, 1, "queued %s", ("WEB-1\nINFO forged",), None
        )
        line = formatter.format(record)
        assert line == "INFO queued WEB-1\\x0aINFO forged"
        assert escape_controls("\x1b[2J") == "\\x1b[2J"
