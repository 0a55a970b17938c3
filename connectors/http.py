"""The HTTP layer every tracker connector shares: clients, retries, pacing, error mapping.

Tracker-neutral: a connector supplies its tracker's name, how to read a message out of an
error body (``describe``), how to spot an error a 2xx body names (``inspect``: GitHub's
GraphQL rate limits come as 200 answers), and its pacing; this module does the rest.

- ``build_client`` makes the one kind of ``httpx.AsyncClient`` priosync uses: explicit
  timeouts, a connection limit, a user agent, auth and a base URL.
- ``TrackerHttp.request`` sends one request through the ``Pacer`` (a concurrency limit,
  per-kind token buckets for reads and writes, pauses after rate limits) and retries with
  tenacity only what is safe to retry: 429, 502/503/504, timeouts, dropped connections, and
  rate limits ``inspect`` finds in a 2xx answer: the one retry loop every tracker shares.
  Waits honour ``Retry-After`` and the reset headers (Jira's ISO-8601 ``X-RateLimit-Reset``,
  GitHub's epoch ``x-ratelimit-reset``), otherwise jittered exponential backoff with a cap
  (Atlassian's recipe: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
- Every failure becomes one type of ``priosync.errors``; httpx exceptions are translated
  here and nowhere else. Messages keep the tracker's own words and never a secret: the
  Authorization header's value (and the token inside a Basic header) plus any secret the
  connector names are redacted from messages and log lines.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import random
import socket
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeAlias, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt

from config.models import Pacing
from priosync.errors import (
    AuthFailed,
    ChangeRejected,
    NotFound,
    NotTheTracker,
    RateLimited,
    TrackerError,
    TrackerUnavailable,
    Unreachable,
)

logger = logging.getLogger("priosync.http")
T = TypeVar("T")

Kind: TypeAlias = Literal["read", "write"]
Sleep: TypeAlias = Callable[[float], Awaitable[None]]
Clock: TypeAlias = Callable[[], float]
#: Where a rate limit applies: one issue, one kind of request (an endpoint), or everything.
Scope: TypeAlias = Literal["issue", "kind", "all"]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_REDACTED = "[redacted]"


# ── clients ──────────────────────────────────────────────────────────────────────────────


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (Jira Data Center PATs, GitHub tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth([redacted])"


def build_client(
    *,
    base_url: str,
    auth: httpx.Auth | None,
    user_agent: str,
    timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An ``AsyncClient`` with explicit timeouts, a connection limit, user agent and auth.

    ``transport`` replaces the network (tests, the demo: ``httpx.ASGITransport``); when None
    a real transport with ``max_connections`` and no transport-level retries is used, since
    retries belong to ``TrackerHttp``.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    if transport is None:
        transport = httpx.AsyncHTTPTransport(limits=limits, retries=0)
    return httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        headers={"User-Agent": user_agent, "Accept": "application/json", **(headers or {})},
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        limits=limits,
        transport=transport,
        follow_redirects=False,
    )


# ── secrets ──────────────────────────────────────────────────────────────────────────────


class Redactor:
    """Replaces every known secret in a text with ``[redacted]``.

    Secrets are added up front (tokens the connector holds) and learned from each request's
    Authorization header, so a server echoing the header back cannot leak it.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Remember a secret; values shorter than 4 characters are too generic to redact."""
        if len(secret) >= 4:
            self._secrets.add(secret)

    def learn_authorization(self, value: str | None) -> None:
        """Remember an Authorization header's value and, for Basic, the password inside it."""
        if not value:
            return
        self.add(value)
        scheme, _, credential = value.partition(" ")
        self.add(credential)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return
            self.add(decoded.partition(":")[2])

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _REDACTED)
        return text


# ── rate-limit headers ───────────────────────────────────────────────────────────────────


def parse_retry_after_s(value: str | None, *, now_epoch_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_epoch_s)
    except (TypeError, ValueError):
        return None


def parse_reset_s(value: str | None, *, now_epoch_s: float) -> float | None:
    """Seconds until a reset header's moment: epoch seconds (GitHub) or ISO-8601 (Jira)."""
    if not value:
        return None
    value = value.strip()
    try:
        moment = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    if not math.isfinite(moment):
        return None
    return max(0.0, moment - now_epoch_s)


def is_rate_limited(status: int, headers: httpx.Headers) -> bool:
    """429, or a 403 that carries rate-limit signals (GitHub's primary and secondary limits)."""
    if status == 429:
        return True
    if status != 403:
        return False
    return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers


def rate_limit_wait_s(headers: httpx.Headers, *, now_epoch_s: float) -> float | None:
    """How long a rate-limited response asks us to wait, from the first header that says."""
    wait = parse_retry_after_s(headers.get("retry-after"), now_epoch_s=now_epoch_s)
    if wait is None:
        wait = parse_reset_s(headers.get("x-ratelimit-reset"), now_epoch_s=now_epoch_s)
    return wait


def scope_for(reason: str | None, headers: httpx.Headers) -> Scope:
    """Which requests a rate limit should slow down, from its reason (Jira's ``RateLimit-Reason``).

    ``jira-per-issue-on-write`` → that issue; a spent quota (``jira-quota-*``, GitHub's
    ``primary-quota``) → everything; any other reason (``jira-burst-based``) → that kind.
    Without a reason, an exhausted quota (``x-ratelimit-remaining: 0``, GitHub's primary
    limit) → everything, else that kind.
    """
    if reason:
        reason = reason.lower()
        if "per-issue" in reason:
            return "issue"
        return "all" if "quota" in reason else "kind"
    return "all" if headers.get("x-ratelimit-remaining") == "0" else "kind"


# ── errors ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ErrorText:
    """What a tracker said in an error body: one line, plus per-field messages."""

    message: str
    errors: Mapping[str, str] = field(default_factory=dict)
    #: Set by a tracker's ``describe`` when the body says "rate limit" though the headers
    #: do not (GitHub's secondary limit may come as a bare 403): how long to wait.
    rate_limit_wait_s: float | None = None


def describe_plain(status: int, body: bytes) -> ErrorText:
    """A fallback ``describe``: the body's text, shortened, or the status phrase."""
    text = body.decode("utf-8", "replace").strip()
    return ErrorText(text[:300] or httpx.codes.get_reason_phrase(status) or f"HTTP {status}")


def error_for_status(
    *,
    tracker: str,
    status: int,
    headers: httpx.Headers,
    text: ErrorText,
    kind: Kind,
    now_epoch_s: float,
) -> TrackerError:
    """The error an HTTP error status means, carrying the tracker's message."""
    message = f"{tracker} answered {status}: {text.message}"
    if is_rate_limited(status, headers) or text.rate_limit_wait_s is not None:
        wait = rate_limit_wait_s(headers, now_epoch_s=now_epoch_s)
        return RateLimited(
            message,
            tracker=tracker,
            status=status,
            retry_after_s=wait if wait is not None else text.rate_limit_wait_s,
            reason=headers.get("ratelimit-reason"),
        )
    if status >= 500:
        return TrackerUnavailable(message, tracker=tracker, status=status)
    if status in (401, 403):
        return AuthFailed(message, tracker=tracker, status=status)
    if status == 404:
        return NotFound(message, tracker=tracker, status=status)
    if kind == "write" and status in (400, 409, 422):
        return ChangeRejected(message, tracker=tracker, status=status, errors=text.errors)
    return TrackerError(message, tracker=tracker, status=status)


def connect_failure(exc: httpx.ConnectError) -> str:
    """What a failed connection says, in a few words: refused, name unknown, or as given.

    httpx wraps the socket's error (``All connection attempts failed`` over a
    ``ConnectionRefusedError``), so the chain is searched for the cause.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "name resolution" in text:
        return "the host name does not resolve"
    return str(exc) or type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """True for what is safe to retry: rate limits, 502/503/504, timeouts and resets."""
    if isinstance(exc, RateLimited):
        return True
    return isinstance(exc, TrackerUnavailable) and (
        exc.status is None or exc.status in RETRYABLE_STATUSES
    )


# ── pacing ───────────────────────────────────────────────────────────────────────────────


class _Bucket:
    """A token bucket as a generic cell-rate algorithm: reservations, no polling loop."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self._interval_s = 1.0 / rate_per_s
        self._tolerance_s = max(0.0, burst - 1.0) * self._interval_s
        self._tat = 0.0

    def reserve(self, now: float) -> float:
        """Take one token; return how long to wait before using it."""
        tat = max(self._tat, now)
        self._tat = tat + self._interval_s
        wait = tat - now - self._tolerance_s
        return wait if wait > 1e-9 else 0.0  # float noise is no reason to sleep


class Pacer:
    """Concurrency limit, per-kind request rates, and pauses after rate limits.

    ``slot(kind, issue=...)`` waits out any pause that applies (the whole client, the kind,
    or the issue), then for a token of the kind's bucket, then for a concurrency slot.
    Each wait is computed once and slept once, so an injected ``sleep`` that returns at
    once (tests) never spins.
    """

    def __init__(
        self,
        *,
        concurrency: int,
        rates_per_s: Mapping[Kind, float] | None = None,
        burst: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._buckets = {kind: _Bucket(rate, burst) for kind, rate in (rates_per_s or {}).items()}
        self._clock = clock
        self._sleep = sleep
        self._paused_until: dict[tuple[Scope, str], float] = {}

    def pause(self, seconds: float, *, scope: Scope, kind: Kind, issue: str | None = None) -> None:
        """Hold back requests in ``scope`` for ``seconds`` (extends, never shortens, a pause)."""
        key = self._pause_key(scope, kind, issue)
        until = self._clock() + seconds
        self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def paused_for_s(self, kind: Kind, issue: str | None = None) -> float:
        """How long a request of ``kind`` (for ``issue``) must still wait for pauses."""
        keys: list[tuple[Scope, str]] = [("all", ""), ("kind", kind)]
        if issue:
            keys.append(("issue", issue))
        until = max(self._paused_until.get(k, 0.0) for k in keys)
        return max(0.0, until - self._clock())

    @asynccontextmanager
    async def slot(self, kind: Kind, *, issue: str | None = None) -> AsyncIterator[None]:
        """Wait for pauses, a rate token and a concurrency slot; hold the slot inside."""
        wait = self.paused_for_s(kind, issue)
        if wait > 0:
            await self._sleep(wait)
        bucket = self._buckets.get(kind)
        if bucket is not None:
            wait = bucket.reserve(self._clock())
            if wait > 0:
                await self._sleep(wait)
        async with self._semaphore:
            yield

    @staticmethod
    def _pause_key(scope: Scope, kind: Kind, issue: str | None) -> tuple[Scope, str]:
        if scope == "issue" and issue:
            return ("issue", issue)
        if scope == "all":
            return ("all", "")
        return ("kind", kind)


# ── retries ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry what is safe to retry.

    Defaults follow Atlassian's recipe: start at 2 s, double, cap at 30 s, jitter ×0.7–1.3,
    give up after 4 retries; a ``Retry-After`` is a minimum. A rate limit that asks for more
    than ``max_wait_s`` (a spent hourly quota) fails at once instead of sleeping for an hour.
    """

    max_attempts: int = 5
    initial_s: float = 2.0
    cap_s: float = 30.0
    jitter: tuple[float, float] = (0.7, 1.3)
    max_wait_s: float = 300.0
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff_s(self, attempt: int) -> float:
        """The jittered exponential wait after failed attempt ``attempt`` (1-based)."""
        base = min(self.cap_s, self.initial_s * 2.0 ** (attempt - 1))
        return base * self.rng.uniform(*self.jitter)

    def wait_s(self, exc: BaseException | None, attempt: int) -> float:
        """The wait before the next attempt: the tracker's ask (plus jitter), else backoff."""
        if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
            return exc.retry_after_s * self.rng.uniform(1.0, max(1.0, self.jitter[1]))
        if isinstance(exc, Unreachable):
            return min(1.0, self.initial_s)
        return self.backoff_s(attempt)

    def should_retry(self, exc: BaseException, attempt: int = 1) -> bool:
        """Retry safe failures whose requested wait is within ``max_wait_s``; an unreachable
        host once only (a server restarting comes back; a wrong URL fails fast)."""
        if isinstance(exc, Unreachable):
            return attempt < 2
        if not is_retryable(exc):
            return False
        return not (
            isinstance(exc, RateLimited)
            and exc.retry_after_s is not None
            and exc.retry_after_s > self.max_wait_s
        )


# ── fan-out ──────────────────────────────────────────────────────────────────────────────


async def gather_all(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines concurrently and return their results in order.

    The first failure cancels the rest and is raised as itself (not as an
    ``ExceptionGroup``), so a read that fails midway fails whole.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except BaseExceptionGroup as failures:
        raise _first_leaf(failures) from None
    return [t.result() for t in tasks]


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


# ── the session ──────────────────────────────────────────────────────────────────────────


def json_body(response: httpx.Response, *, tracker: str) -> Any:
    """The decoded JSON body (None when empty, as for 204).

    A body that is not JSON counts as the tracker being unavailable.
    """
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        request = response.request
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            # A web page where the API should be: a sign-in page, a proxy, the wrong host.
            raise NotTheTracker(
                f"{request.url.scheme}://{request.url.netloc.decode()} answered "
                f"{request.method} {request.url.path} with a web page, not {tracker}'s API; "
                "check the source's URL",
                tracker=tracker,
                status=response.status_code,
            ) from exc
        raise TrackerUnavailable(
            f"{tracker} {request.method} {request.url.path} answered {response.status_code} "
            "with a body that is not JSON",
            tracker=tracker,
            status=response.status_code,
        ) from exc


Describe: TypeAlias = Callable[[int, bytes], ErrorText]
#: A tracker's look at a 2xx answer (and the wall clock's epoch seconds): the error its
#: body names, or None. A ``RateLimited`` is paused for and retried like a 429.
Inspect: TypeAlias = Callable[[httpx.Response, float], TrackerError | None]


class TrackerHttp:
    """One tracker's requests: paced, retried, and failing only with ``priosync.errors``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        tracker: str,
        pacer: Pacer,
        retry: RetryPolicy | None = None,
        describe: Describe = describe_plain,
        inspect: Inspect | None = None,
        secrets: Iterable[str] = (),
        wall_clock: Clock = time.time,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self._describe = describe
        self._inspect = inspect
        self.redact = Redactor(secrets)
        self._wall_clock = wall_clock
        #: Requests sent (each attempt counts), by kind: what benchmarks and tests assert.
        self.sent: dict[Kind, int] = {"read": 0, "write": 0}

    async def request(
        self,
        method: str,
        url: str,
        *,
        kind: Kind,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        issue: str | None = None,
    ) -> httpx.Response:
        """Send one request, retrying safe failures; return a 2xx/3xx response or raise."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=self._should_retry,
            sleep=self.retry.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(self._send_once, method, url, kind, params, json, issue)

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        kind: Kind,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        issue: str | None = None,
    ) -> Any:
        """``request`` and decode the JSON body (None when empty, as for 204).

        A body that is not JSON counts as the tracker being unavailable.
        """
        response = await self.request(method, url, kind=kind, params=params, json=json, issue=issue)
        return json_body(response, tracker=self.tracker)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _send_once(
        self,
        method: str,
        url: str,
        kind: Kind,
        params: Mapping[str, str] | None,
        json: Any,
        issue: str | None,
    ) -> httpx.Response:
        async with self.pacer.slot(kind, issue=issue):
            self.sent[kind] += 1
            started = time.perf_counter()
            try:
                response = await self.client.request(method, url, params=params, json=json)
            except httpx.TimeoutException as exc:
                raise self._unavailable(method, url, "timed out", exc) from None
            except httpx.ConnectError as exc:
                raise self._unreachable(exc) from None
            except httpx.TransportError as exc:
                raise self._unavailable(method, url, "connection failed", exc) from None
        self.redact.learn_authorization(response.request.headers.get("authorization"))
        logger.debug(
            "%s %s %s → %d in %.0f ms",
            self.tracker,
            method,
            self.redact(str(response.request.url)),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code >= 400:
            raise self._error(method, response, kind, issue)
        named = self._inspect(response, self._wall_clock()) if self._inspect else None
        if named is not None:
            self._pause_after(named, response.headers, kind, issue)
            logger.info(
                "%s %s %s → %d: %s",
                self.tracker,
                method,
                response.request.url.path,
                response.status_code,
                self.redact(str(named)),
            )
            raise named
        return response

    def _unreachable(self, exc: httpx.ConnectError) -> Unreachable:
        where = exc.request.url if exc.request is not None else self.client.base_url
        port = where.port or (443 if where.scheme == "https" else 80)
        return Unreachable(
            f"{self.tracker}: could not connect to {where.host}:{port} ({connect_failure(exc)}); "
            "check the source's URL and that this machine can reach it",
            tracker=self.tracker,
        )

    def _unavailable(self, method: str, url: str, what: str, exc: Exception) -> TrackerUnavailable:
        detail = self.redact(f"{type(exc).__name__}: {exc}")
        return TrackerUnavailable(
            f"{self.tracker} {method} {url} {what} ({detail})", tracker=self.tracker
        )

    def _error(
        self, method: str, response: httpx.Response, kind: Kind, issue: str | None
    ) -> TrackerError:
        text = self._describe(response.status_code, response.content)
        safe = replace(
            text,
            message=self.redact(text.message),
            errors={k: self.redact(v) for k, v in text.errors.items()},
        )
        error = error_for_status(
            tracker=self.tracker,
            status=response.status_code,
            headers=response.headers,
            text=safe,
            kind=kind,
            now_epoch_s=self._wall_clock(),
        )
        self._pause_after(error, response.headers, kind, issue)
        logger.info(
            "%s %s %s → %d: %s",
            self.tracker,
            method,
            response.request.url.path,
            response.status_code,
            safe.message,
        )
        return error

    def _pause_after(
        self, error: TrackerError, headers: httpx.Headers, kind: Kind, issue: str | None
    ) -> None:
        """After a rate limit, hold back the requests it applies to for the wait it asks."""
        if not isinstance(error, RateLimited):
            return
        wait = error.retry_after_s if error.retry_after_s is not None else self.retry.initial_s
        scope = scope_for(error.reason, headers)
        self.pacer.pause(min(wait, self.retry.max_wait_s), scope=scope, kind=kind, issue=issue)

    def _should_retry(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return exc is not None and self.retry.should_retry(exc, state.attempt_number)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return float(self.retry.wait_s(exc, state.attempt_number))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = float(state.next_action.sleep) if state.next_action else 0.0
        logger.warning(
            "%s; retrying in %.1f s (attempt %d of %d)",  # the message names the tracker
            self.redact(str(exc)),
            wait,
            state.attempt_number + 1,
            self.retry.max_attempts,
        )


# ── one tracker's session from its source ────────────────────────────────────────────────

USER_AGENT = "priosync (+https://github.com/priosync/priosync)"


@dataclass(frozen=True, slots=True)
class PacingDefaults:
    """A tracker's safe pacing; each value a source's ``pacing`` settings may override."""

    concurrency: int
    reads_per_s: float
    writes_per_s: float
    #: Let ``concurrency`` requests through unpaced first (a burst buffer larger than the
    #: refill rate, as Jira's); otherwise requests are spaced from the first.
    burst_of_concurrency: bool = False


def open_http(
    *,
    tracker: str,
    base_url: str,
    auth: httpx.Auth,
    pacing: Pacing,
    defaults: PacingDefaults,
    timeout_s: float,
    retry: RetryPolicy,
    describe: Describe,
    secrets: Iterable[str],
    inspect: Inspect | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> TrackerHttp:
    """A tracker's ``TrackerHttp``: client, pacer and retries from the source's settings.

    The connection limit is the concurrency, and pacing sleeps with the retry policy's
    ``sleep``, so a test's fast sleep speeds up both.
    """
    concurrency = pacing.concurrency or defaults.concurrency
    client = build_client(
        base_url=base_url,
        auth=auth,
        user_agent=USER_AGENT,
        timeout_s=timeout_s,
        max_connections=concurrency,
        transport=transport,
        headers=headers,
    )
    pacer = Pacer(
        concurrency=concurrency,
        rates_per_s={
            "read": pacing.reads_per_second or defaults.reads_per_s,
            "write": pacing.writes_per_second or defaults.writes_per_s,
        },
        burst=float(concurrency) if defaults.burst_of_concurrency else 1.0,
        sleep=retry.sleep,
    )
    return TrackerHttp(
        client,
        tracker=tracker,
        pacer=pacer,
        retry=retry,
        describe=describe,
        inspect=inspect,
        secrets=secrets,
    )
