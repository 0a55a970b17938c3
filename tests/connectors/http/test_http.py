"""The shared HTTP layer: client building, retries, pacing, error mapping and redaction."""

from __future__ import annotations

import base64
import logging
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from config.models import Pacing
from connectors.http import (
    USER_AGENT,
    BearerAuth,
    Inspect,
    Pacer,
    PacingDefaults,
    Redactor,
    RetryPolicy,
    TrackerHttp,
    build_client,
    describe_plain,
    gather_all,
    open_http,
    parse_reset_s,
    parse_retry_after_s,
    scope_for,
)
from priosync.errors import (
    AuthFailed,
    ChangeRejected,
    NotFound,
    NotTheTracker,
    RateLimited,
    TrackerUnavailable,
    Unreachable,
)

BASE = "https://tracker.test"
TOKEN = "tok-SECRET-1234567890"


class FakeTime:
    """A clock whose sleeps advance it instantly, recording every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_http(
    router: respx.MockRouter,
    fake: FakeTime,
    *,
    auth: httpx.Auth | None = None,
    attempts: int = 4,
    inspect: Inspect | None = None,
) -> TrackerHttp:
    client = build_client(
        base_url=BASE,
        auth=auth or BearerAuth(TOKEN),
        user_agent="priosync-test",
        timeout_s=5.0,
        max_connections=4,
        transport=httpx.MockTransport(router.async_handler),
    )
    pacer = Pacer(concurrency=4, clock=fake.clock, sleep=fake.sleep)
    retry = RetryPolicy(max_attempts=attempts, sleep=fake.sleep, rng=random.Random(1))
    return TrackerHttp(
        client, tracker="jira", pacer=pacer, retry=retry, inspect=inspect, wall_clock=lambda: 0.0
    )


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


class TestBuildClient:
    async def test_sets_base_url_agent_timeout_and_auth(self, router: respx.MockRouter) -> None:
        """The client carries the base URL, user agent, timeout and bearer auth it was given."""
        route = router.get("/ping").respond(200, json={})
        client = build_client(
            base_url=BASE,
            auth=BearerAuth(TOKEN),
            user_agent="priosync/1",
            timeout_s=7.0,
            max_connections=3,
            transport=httpx.MockTransport(router.async_handler),
            headers={"X-Extra": "1"},
        )
        async with client:
            await client.get("/ping")
        sent = route.calls.last.request
        assert sent.headers["user-agent"] == "priosync/1"
        assert sent.headers["authorization"] == f"Bearer {TOKEN}"
        assert sent.headers["x-extra"] == "1"
        assert client.timeout.read == 7.0


class TestOpenHttp:
    async def test_source_pacing_overrides_the_trackers_defaults(self, fake: FakeTime) -> None:
        """A source's concurrency replaces the default, its burst follows, the rates stay."""
        defaults = PacingDefaults(
            concurrency=8, reads_per_s=50.0, writes_per_s=25.0, burst_of_concurrency=True
        )
        http = open_http(
            tracker="t",
            base_url=BASE,
            auth=BearerAuth(TOKEN),
            pacing=Pacing(concurrency=2),
            defaults=defaults,
            timeout_s=5.0,
            retry=RetryPolicy(sleep=fake.sleep),
            describe=describe_plain,
            secrets=[TOKEN],
        )
        assert http.pacer.concurrency == 2
        assert http.client.headers["user-agent"] == USER_AGENT
        for _ in range(3):
            async with http.pacer.slot("write"):
                pass
        assert len(fake.sleeps) == 1  # two go out as a burst, the third waits for 1/25 s
        assert fake.sleeps[0] == pytest.approx(0.04, abs=0.01)
        await http.aclose()


class TestRetries:
    async def test_429_waits_retry_after_then_succeeds(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """A 429 with Retry-After is retried after at least that many seconds."""
        route = router.get("/x").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "3"}, json={}),
                httpx.Response(200, json={"ok": True}),
            ]
        )
        http = make_http(router, fake)
        assert await http.request_json("GET", "/x", kind="read") == {"ok": True}
        assert route.call_count == 2
        assert max(fake.sleeps) >= 3.0

    async def test_503_is_retried(self, router: respx.MockRouter, fake: FakeTime) -> None:
        """A 503 is retried with backoff and the later success is returned."""
        route = router.get("/x").mock(
            side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[])]
        )
        http = make_http(router, fake)
        assert await http.request_json("GET", "/x", kind="read") == []
        assert route.call_count == 3
        assert len(fake.sleeps) >= 2

    async def test_dropped_connection_is_retried(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """A connection dropped mid-response is retried."""
        route = router.get("/x").mock(
            side_effect=[httpx.RemoteProtocolError("peer closed"), httpx.Response(200, json=1)]
        )
        http = make_http(router, fake)
        assert await http.request_json("GET", "/x", kind="read") == 1
        assert route.call_count == 2

    @pytest.mark.parametrize(
        ("failure", "said"),
        [
            (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
            (
                httpx.ConnectError("[Errno -2] Name or service not known"),
                "the host name does not resolve",
            ),
        ],
    )
    async def test_unreachable_hosts_fail_fast_naming_the_host(
        self, router: respx.MockRouter, fake: FakeTime, failure: Exception, said: str
    ) -> None:
        """A refused connection or an unknown host is tried twice, a second apart, then
        reported naming host and port: no half minute of backoff, no word about tokens."""
        route = router.get("/x").mock(side_effect=failure)
        http = make_http(router, fake, attempts=5)
        with pytest.raises(Unreachable) as caught:
            await http.request("GET", "/x", kind="read")
        assert route.call_count == 2
        assert sum(fake.sleeps) <= 1.0
        assert f"could not connect to tracker.test:443 ({said})" in str(caught.value)
        assert "token" not in str(caught.value).lower()

    async def test_a_web_page_where_the_api_should_be(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """HTML in answer to an API call says the URL is not the tracker's API."""
        router.get("/x").mock(
            return_value=httpx.Response(
                200, text="<html>Sign in</html>", headers={"content-type": "text/html"}
            )
        )
        http = make_http(router, fake)
        with pytest.raises(NotTheTracker, match="with a web page, not jira's API"):
            await http.request_json("GET", "/x", kind="read")

    async def test_timeout_exhausts_attempts_as_unavailable(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """Timeouts are retried up to max_attempts, then raise TrackerUnavailable."""
        route = router.get("/x").mock(side_effect=httpx.ReadTimeout("slow"))
        http = make_http(router, fake, attempts=3)
        with pytest.raises(TrackerUnavailable, match="timed out"):
            await http.request("GET", "/x", kind="read")
        assert route.call_count == 3

    @pytest.mark.parametrize(
        ("status", "kind", "error"),
        [
            (400, "write", ChangeRejected),
            (401, "read", AuthFailed),
            (403, "write", AuthFailed),
            (404, "read", NotFound),
            (500, "read", TrackerUnavailable),
        ],
    )
    async def test_non_retryable_statuses_fail_at_once(
        self, router: respx.MockRouter, fake: FakeTime, status: int, kind: str, error: type
    ) -> None:
        """400/401/403/404/500 are sent once and map to their error type."""
        route = router.put("/x").respond(status, json={"errorMessages": ["nope"]})
        http = make_http(router, fake)
        with pytest.raises(error):
            await http.request("PUT", "/x", kind=kind)  # type: ignore[arg-type]
        assert route.call_count == 1
        assert fake.sleeps == []

    async def test_rate_limit_reset_far_away_fails_without_sleeping(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """A spent quota (reset in an hour) raises RateLimited with the wait instead of sleeping."""
        router.get("/x").respond(429, headers={"Retry-After": "3600"}, json={})
        http = make_http(router, fake)
        with pytest.raises(RateLimited) as caught:
            await http.request("GET", "/x", kind="read")
        assert caught.value.retry_after_s == 3600.0
        assert fake.sleeps == []

    async def test_github_403_with_exhausted_quota_is_a_rate_limit(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """GitHub's 403 with x-ratelimit-remaining 0 is retried after x-ratelimit-reset."""
        route = router.get("/x").mock(
            side_effect=[
                httpx.Response(
                    403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "5"}
                ),
                httpx.Response(200, json={}),
            ]
        )
        http = make_http(router, fake)
        await http.request("GET", "/x", kind="read")
        assert route.call_count == 2
        assert max(fake.sleeps) >= 5.0

    async def test_rate_limit_named_in_a_200_body_is_retried_in_the_same_loop(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """What ``inspect`` names in a 2xx body is waited for and retried like a 429."""
        route = router.post("/graphql").mock(
            side_effect=[
                httpx.Response(200, json={"errors": ["slow down"]}),
                httpx.Response(200, json={"data": {}}),
            ]
        )
        http = make_http(router, fake, inspect=limited_when_errors)
        assert await http.request_json("POST", "/graphql", kind="read") == {"data": {}}
        assert route.call_count == 2
        assert http.sent["read"] == 2
        assert max(fake.sleeps) >= 7.0

    async def test_quota_named_in_a_200_body_pauses_every_kind(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """A spent quota found by ``inspect`` holds back writes too, not only its own kind."""
        router.post("/graphql").respond(200, json={"errors": ["quota spent"]})
        http = make_http(router, fake, inspect=limited_when_errors, attempts=1)
        with pytest.raises(RateLimited):
            await http.request("POST", "/graphql", kind="read")
        assert http.pacer.paused_for_s("write") == pytest.approx(7.0)


def limited_when_errors(response: httpx.Response, now_epoch_s: float) -> RateLimited | None:
    """An ``inspect`` that reads any ``errors`` in a body as a spent quota asking for 7 s."""
    if "errors" not in response.json():
        return None
    return RateLimited("limited", tracker="t", retry_after_s=7.0, reason="primary-quota")


class TestBackoff:
    def test_backoff_doubles_with_jitter_and_cap(self) -> None:
        """Waits start at initial_s, double, stay within the jitter band and never pass the cap."""
        policy = RetryPolicy(initial_s=2.0, cap_s=10.0, jitter=(0.7, 1.3), rng=random.Random(3))
        waits = [policy.backoff_s(n) for n in range(1, 7)]
        for n, wait in enumerate(waits, start=1):
            base = min(10.0, 2.0 * 2 ** (n - 1))
            assert 0.7 * base <= wait <= 1.3 * base

    def test_retry_after_is_a_minimum(self) -> None:
        """A tracker's Retry-After is never shortened by jitter."""
        policy = RetryPolicy(rng=random.Random(5))
        exc = RateLimited("slow down", tracker="jira", retry_after_s=4.0)
        assert all(policy.wait_s(exc, 1) >= 4.0 for _ in range(50))


class TestHeaders:
    def test_retry_after_http_date(self) -> None:
        """Retry-After given as an HTTP date becomes the seconds until then."""
        now = datetime(2026, 1, 1, tzinfo=UTC)
        later = "Thu, 01 Jan 2026 00:00:30 GMT"
        assert parse_retry_after_s(later, now_epoch_s=now.timestamp()) == 30.0

    def test_reset_iso_and_epoch(self) -> None:
        """X-RateLimit-Reset is read as ISO-8601 (Jira) or epoch seconds (GitHub)."""
        now = datetime(2026, 1, 1, tzinfo=UTC)
        iso = (now + timedelta(seconds=12)).isoformat().replace("+00:00", "Z")
        assert parse_reset_s(iso, now_epoch_s=now.timestamp()) == 12.0
        assert parse_reset_s(str(now.timestamp() + 7), now_epoch_s=now.timestamp()) == 7.0
        assert parse_reset_s("garbage", now_epoch_s=0.0) is None

    @pytest.mark.parametrize(
        ("reason", "scope"),
        [
            ("jira-per-issue-on-write", "issue"),
            ("jira-burst-based", "kind"),
            ("jira-quota-tenant-based", "all"),
            (None, "kind"),
        ],
    )
    def test_scope_from_ratelimit_reason(self, reason: str | None, scope: str) -> None:
        """RateLimit-Reason decides whether one issue, one kind or everything slows down."""
        assert scope_for(reason, httpx.Headers()) == scope


class TestPacer:
    async def test_rate_spaces_requests(self, fake: FakeTime) -> None:
        """At 10 requests a second without burst, ten requests take about 0.9 s of waiting."""
        pacer = Pacer(concurrency=2, rates_per_s={"read": 10.0}, clock=fake.clock, sleep=fake.sleep)
        for _ in range(10):
            async with pacer.slot("read"):
                pass
        assert sum(fake.sleeps) == pytest.approx(0.9)

    async def test_burst_allows_initial_requests_unpaced(self, fake: FakeTime) -> None:
        """A burst of 5 lets five requests through at once before pacing starts."""
        pacer = Pacer(
            concurrency=2, rates_per_s={"write": 10.0}, burst=5, clock=fake.clock, sleep=fake.sleep
        )
        for _ in range(5):
            async with pacer.slot("write"):
                pass
        assert fake.sleeps == []

    async def test_issue_pause_delays_only_that_issue(self, fake: FakeTime) -> None:
        """A per-issue pause holds back writes to that issue and nothing else."""
        pacer = Pacer(concurrency=2, clock=fake.clock, sleep=fake.sleep)
        pacer.pause(2.0, scope="issue", kind="write", issue="WEB-1")
        assert pacer.paused_for_s("write", "WEB-2") == 0.0
        assert pacer.paused_for_s("read") == 0.0
        async with pacer.slot("write", issue="WEB-1"):
            pass
        assert fake.sleeps == [2.0]

    async def test_global_pause_holds_every_kind(self, fake: FakeTime) -> None:
        """A quota pause applies to reads and writes alike."""
        pacer = Pacer(concurrency=2, clock=fake.clock, sleep=fake.sleep)
        pacer.pause(5.0, scope="all", kind="read")
        assert pacer.paused_for_s("write", "WEB-9") == 5.0

    async def test_429_pauses_the_kind_for_later_requests(
        self, router: respx.MockRouter, fake: FakeTime
    ) -> None:
        """A burst-limit 429 pauses that kind, so the next request of the kind waits too."""
        router.get("/x").mock(
            side_effect=[
                httpx.Response(
                    429, headers={"Retry-After": "2", "RateLimit-Reason": "jira-burst-based"}
                ),
                httpx.Response(200, json={}),
            ]
        )
        http = make_http(router, fake)
        http.retry = RetryPolicy(max_attempts=1)
        with pytest.raises(RateLimited):
            await http.request("GET", "/x", kind="read")
        assert http.pacer.paused_for_s("read") == pytest.approx(2.0)
        assert http.pacer.paused_for_s("write") == 0.0


class TestSecrets:
    async def test_token_absent_from_errors_and_logs(
        self, router: respx.MockRouter, fake: FakeTime, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A server echoing the Authorization header leaks no token into errors or log lines."""

        def echo(request: httpx.Request) -> httpx.Response:
            header = request.headers["authorization"]
            return httpx.Response(
                400, json={"errorMessages": [f"bad header {header}"], "errors": {"x": TOKEN}}
            )

        router.put("/x").mock(side_effect=echo)
        router.get("/y").mock(
            side_effect=[httpx.Response(503, text=f"down {TOKEN}"), httpx.Response(200)]
        )
        http = make_http(router, fake, auth=httpx.BasicAuth("me@example.com", TOKEN))
        caplog.set_level(logging.DEBUG, logger="priosync.http")
        with pytest.raises(ChangeRejected) as caught:
            await http.request("PUT", "/x", kind="write")
        await http.request("GET", "/y", kind="read")
        basic = base64.b64encode(f"me@example.com:{TOKEN}".encode()).decode()
        texts = [str(caught.value), *caught.value.errors.values(), caplog.text]
        assert all(TOKEN not in t and basic not in t for t in texts)
        assert "[redacted]" in str(caught.value)

    def test_redactor_learns_basic_password(self) -> None:
        """The password inside a Basic header is redacted on its own too."""
        redact = Redactor()
        header = "Basic " + base64.b64encode(b"a@b.c:hunter2-long").decode()
        redact.learn_authorization(header)
        assert redact("pw=hunter2-long") == "pw=[redacted]"

    def test_bearer_auth_repr_hides_token(self) -> None:
        """Printing the auth object never shows the token."""
        assert TOKEN not in repr(BearerAuth(TOKEN))


class TestGatherAll:
    async def test_first_failure_is_raised_as_itself(self) -> None:
        """A failing coroutine surfaces as its own TrackerError, not an ExceptionGroup."""

        async def ok() -> int:
            return 1

        async def fail() -> int:
            raise NotFound("gone", tracker="jira", status=404)

        with pytest.raises(NotFound):
            await gather_all([ok(), fail(), ok()])
        assert await gather_all([ok(), ok()]) == [1, 1]
