"""Fault injection: rate limits with Jira's headers, 5xx, drops, latency, all deterministic."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from sandbox.jira import DEFAULT_EMAIL as EMAIL
from sandbox.jira import DEFAULT_TOKEN as TOKEN
from sandbox.jira import Faults, JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.jira.testing import asgi_client
from sandbox.loopback import serve_in_thread


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestRateLimits:
    async def test_burst_bucket_refuses_with_jira_headers(self) -> None:
        """Past the burst bucket, GETs get 429 with Retry-After, X-RateLimit-Reset and the reason."""
        clock = FakeClock()
        faults = Faults(
            rate_limits=True, rate_scale=0.05, burst_s=1.0, clock=clock
        )  # GET 5/s, bucket 5
        async with asgi_client(JiraSandbox.seeded(issues=10, faults=faults)) as client:
            statuses = [(await client.get("/rest/api/3/myself")).status_code for _ in range(6)]
            refused = await client.get("/rest/api/3/myself")
            clock.now += 1.0
            refilled = await client.get("/rest/api/3/myself")
        assert statuses == [200] * 5 + [429]
        assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert datetime.fromisoformat(refused.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert refilled.status_code == 200

    async def test_buckets_are_per_endpoint_and_method(self) -> None:
        """Exhausting GET myself leaves GET field untouched."""
        faults = Faults(
            rate_limits=True, rate_scale=0.01, burst_s=1.0, clock=FakeClock()
        )  # bucket of 1
        async with asgi_client(JiraSandbox.seeded(issues=10, faults=faults)) as client:
            first = await client.get("/rest/api/3/myself")
            second = await client.get("/rest/api/3/myself")
            other = await client.get("/rest/api/3/field")
        assert (first.status_code, second.status_code, other.status_code) == (200, 429, 200)

    async def test_per_issue_write_limit(self) -> None:
        """The 21st write to one issue within 2 s is refused; other issues still take writes."""
        clock = FakeClock()
        sandbox = JiraSandbox.seeded(issues=10, faults=Faults(rate_limits=True, clock=clock))
        async with asgi_client(sandbox) as client:
            statuses = []
            for n in range(21):
                response = await client.put(
                    "/rest/api/3/issue/WEB-1", json={"fields": {c.RICE_SCORE: n}}
                )
                statuses.append(response.status_code)
                clock.now += 0.01
            other = await client.put("/rest/api/3/issue/WEB-2", json={"fields": {c.RICE_SCORE: 1}})
        assert statuses == [204] * 20 + [429]
        assert response.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
        assert other.status_code == 204
        assert sandbox.request_log[-2].fault == "429"


class TestServerFaults:
    async def test_error_rate_is_deterministic(self) -> None:
        """The same seed and request sequence meet the same 5xx answers."""

        async def statuses() -> list[int]:
            sandbox = JiraSandbox.seeded(issues=10, faults=Faults(seed=3, error_rate=0.3))
            async with asgi_client(sandbox) as client:
                return [(await client.get("/rest/api/3/field")).status_code for _ in range(30)]

        first, second = await statuses(), await statuses()
        assert first == second
        assert {s for s in first if s != 200} <= {500, 502, 503, 504}
        assert 3 <= sum(s != 200 for s in first) <= 18

    async def test_drop_in_process_raises_transport_error(self) -> None:
        """In-process, a dropped connection reaches the client as httpx.RemoteProtocolError."""
        sandbox = JiraSandbox.seeded(issues=10, faults=Faults(drop_rate=1.0))
        async with asgi_client(sandbox) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/rest/api/3/field")
        assert sandbox.request_log[-1].fault == "drop"
        assert sandbox.request_log[-1].status == 0

    def test_drop_on_loopback_cuts_the_connection(self) -> None:
        """On a real socket a dropped request fails in the client's transport, not with a status."""
        sandbox = JiraSandbox.seeded(issues=10, faults=Faults(drop_rate=1.0))
        with (
            serve_in_thread(create_jira_app(sandbox), log_level="critical") as url,
            httpx.Client(base_url=url, auth=(EMAIL, TOKEN)) as client,
            pytest.raises(httpx.TransportError),
        ):
            client.get("/rest/api/3/field")

    async def test_latency_is_logged(self) -> None:
        """Injected latency shows in the request log's duration."""
        sandbox = JiraSandbox.seeded(issues=10, faults=Faults(latency_ms=30, jitter_ms=10))
        async with asgi_client(sandbox) as client:
            await client.get("/rest/api/3/serverInfo")
        assert sandbox.request_log[0].duration_ms >= 30


class TestRequestLog:
    async def test_entries_carry_method_path_status_and_kind(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Reads (POST searches included) and writes are told apart, with the endpoint template."""
        await client.post("/rest/api/3/search/jql", json={"jql": "project = WEB"})
        await client.put("/rest/api/3/issue/WEB-1", json={"fields": {c.RICE_SCORE: 3}})
        await client.get("/rest/api/3/issue/WEB-1", params={"fields": "summary"})
        log = sandbox.request_log
        assert [(e.method, e.kind, e.endpoint, e.status) for e in log] == [
            ("POST", "read", "/search/jql", 200),
            ("PUT", "write", "/issue/{key}", 204),
            ("GET", "read", "/issue/{key}", 200),
        ]
        assert log[2].path == "/rest/api/3/issue/WEB-1"
        assert log[2].query == "fields=summary"
