"""Fault injection for the sandbox Jira, deterministic from a seed.

Knobs (all off by default):

- ``latency_ms`` + ``jitter_ms``: every request waits latency + uniform(0, jitter).
- ``error_rate``: that fraction of requests answers 500/502/503/504 (503 carries
  ``Retry-After: 1``) before touching state.
- ``drop_rate``: that fraction of requests loses its connection: on a real server the
  response is cut after the headers; in-process (``httpx.ASGITransport``) the client gets
  ``httpx.RemoteProtocolError``, as it would from a dropped socket.
- ``rate_limits``: Jira Cloud's burst limits, a token bucket per method and endpoint
  (GET 100/s, POST 100/s, PUT 50/s, DELETE 50/s; GET issue 150/s; bucket holds
  ``burst_s`` seconds of refill), and the per-issue write limit (20 writes / 2 s and
  100 / 30 s). Scale every rate with ``rate_scale`` (0.1 → a tenth). A refused request
  gets 429 with ``Retry-After``, ``X-RateLimit-Reset`` (ISO-8601), ``RateLimit-Reason``
  (``jira-burst-based`` / ``jira-per-issue-on-write``), ``X-RateLimit-Limit`` and
  ``X-RateLimit-Remaining``. Source: docs/tracker-apis.md §1.8.

Random draws come from ``random.Random(seed)`` in request order, so the same sequence of
requests meets the same faults. ``clock`` (seconds, monotonic) is injectable for tests.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

FaultKind = Literal["5xx", "drop", "429"]

DEFAULT_BURST_RATES: dict[str, float] = {"GET": 100.0, "POST": 100.0, "PUT": 50.0, "DELETE": 50.0}
#: Endpoints whose burst rate differs from their method's default (docs/tracker-apis.md §1.8).
ENDPOINT_BURST_RATES: dict[str, float] = {"GET /issue/{key}": 150.0}
PER_ISSUE_WRITE_WINDOWS: tuple[tuple[int, float], ...] = ((20, 2.0), (100, 30.0))


@dataclass
class Faults:
    """What can go wrong, and how often. The default injects nothing."""

    seed: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    rate_limits: bool = False
    rate_scale: float = 1.0
    burst_s: float = 2.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A fault that answers instead of the handler (5xx or 429), or cuts the connection."""

    kind: FaultKind
    status: int
    headers: dict[str, str]
    message: str


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token; return 0 when granted, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FaultInjector:
    """Decides, request by request, which fault (if any) applies."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)  # noqa: S311 - reproducible faults, not security
        self.buckets: dict[str, _Bucket] = {}
        self.issue_writes: dict[str, deque[float]] = {}

    def delay_s(self) -> float:
        """Return this request's injected latency in seconds (0 when off)."""
        f = self.faults
        if f.latency_ms <= 0 and f.jitter_ms <= 0:
            return 0.0
        return (f.latency_ms + self.rng.uniform(0.0, f.jitter_ms)) / 1000.0

    def decide(
        self, *, method: str, endpoint: str, issue_key: str | None, write: bool
    ) -> Refusal | None:
        """Return the fault for this request, or None to let it through."""
        f = self.faults
        if f.drop_rate > 0 and self.rng.random() < f.drop_rate:
            return Refusal("drop", 0, {}, "connection dropped")
        if f.error_rate > 0 and self.rng.random() < f.error_rate:
            return self.server_error()
        if f.rate_limits:
            return self.rate_limit(
                method=method, endpoint=endpoint, issue_key=issue_key, write=write
            )
        return None

    def server_error(self) -> Refusal:
        status = self.rng.choice((500, 502, 503, 504))
        headers = {"Retry-After": "1"} if status == 503 else {}
        return Refusal("5xx", status, headers, "Internal server error (injected by the sandbox)")

    def rate_limit(
        self, *, method: str, endpoint: str, issue_key: str | None, write: bool
    ) -> Refusal | None:
        now = self.faults.clock()
        bucket = self.bucket_for(method, endpoint, now)
        wait_s = bucket.take(now)
        if wait_s > 0:
            return _too_many(wait_s, "jira-burst-based", limit=int(bucket.capacity))
        if write and issue_key is not None:
            return self.per_issue_write(issue_key, now)
        return None

    def bucket_for(self, method: str, endpoint: str, now: float) -> _Bucket:
        name = f"{method} {endpoint}"
        bucket = self.buckets.get(name)
        if bucket is None:
            base = ENDPOINT_BURST_RATES.get(name, DEFAULT_BURST_RATES.get(method, 100.0))
            rate = max(base * self.faults.rate_scale, 0.001)
            capacity = max(rate * self.faults.burst_s, 1.0)
            bucket = self.buckets[name] = _Bucket(rate, capacity, capacity, now)
        return bucket

    def per_issue_write(self, issue_key: str, now: float) -> Refusal | None:
        history = self.issue_writes.setdefault(issue_key, deque())
        longest = max(window for _, window in PER_ISSUE_WRITE_WINDOWS)
        while history and now - history[0] >= longest:
            history.popleft()
        for limit, window in PER_ISSUE_WRITE_WINDOWS:
            scaled = max(1, int(limit * min(self.faults.rate_scale, 1.0)))
            recent = [t for t in history if now - t < window]
            if len(recent) >= scaled:
                wait_s = window - (now - recent[-scaled])
                return _too_many(wait_s, "jira-per-issue-on-write", limit=scaled)
        history.append(now)
        return None


def _too_many(wait_s: float, reason: str, *, limit: int) -> Refusal:
    reset_at = datetime.now(UTC) + timedelta(seconds=wait_s)
    headers = {
        "Retry-After": str(max(1, math.ceil(wait_s))),
        "X-RateLimit-Reset": reset_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "RateLimit-Reason": reason,
    }
    return Refusal("429", 429, headers, "Rate limit exceeded.")
