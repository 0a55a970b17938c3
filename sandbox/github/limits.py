"""Primary and secondary rate limits as GitHub documents them.

Sources: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
(summarised in docs/tracker-apis.md §3.7). Primary limits are hourly budgets per resource
(``core`` for REST, ``graphql`` in points). Secondary limits are concurrent requests,
points per minute (REST reads 1, REST writes 5, GraphQL queries 1, documents with
mutations 5) and content creation per minute and per hour. The clock is injectable so
tests can move time.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Resource = Literal["core", "graphql"]


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """The knobs; defaults are github.com's documented limits for a personal token."""

    rest_per_hour: int = 5000
    graphql_points_per_hour: int = 5000
    max_concurrent: int = 100
    rest_points_per_minute: int = 900
    graphql_points_per_minute: int = 2000
    content_creation_per_minute: int = 80
    content_creation_per_hour: int = 500
    #: GitHub answers secondary limits with 403 or 429; pick which.
    secondary_status: Literal[403, 429] = 403
    window_s: int = 3600


@dataclass(frozen=True, slots=True)
class Budget:
    """A primary budget as the ``x-ratelimit-*`` headers report it."""

    resource: Resource
    limit: int
    remaining: int
    used: int
    reset: int

    def headers(self) -> dict[str, str]:
        """Return the ``x-ratelimit-*`` response headers for this budget."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-resource": self.resource,
        }


@dataclass(slots=True)
class _Window:
    """A sliding window of (time, amount) events."""

    span_s: float
    events: deque[tuple[float, int]] = field(default_factory=deque)

    def total(self, now: float) -> int:
        while self.events and self.events[0][0] <= now - self.span_s:
            self.events.popleft()
        return sum(amount for _, amount in self.events)

    def seconds_until_room(self, now: float, amount: int, limit: int) -> int:
        """Return how long until ``amount`` more fits under ``limit`` (0 when it fits now)."""
        excess = self.total(now) + amount - limit
        if excess <= 0:
            return 0
        freed = 0
        for moment, spent in self.events:
            freed += spent
            if freed >= excess:
                return max(1, math.ceil(moment + self.span_s - now))
        return max(1, math.ceil(self.span_s))


class RateLimiter:
    """Tracks one token's budgets and answers whether a request may proceed."""

    def __init__(
        self, policy: RateLimitPolicy | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy or RateLimitPolicy()
        self.clock = clock
        self.in_flight = 0
        self._used: dict[Resource, int] = {"core": 0, "graphql": 0}
        self._reset: dict[Resource, float] = {}
        self._points = {"rest": _Window(60.0), "graphql": _Window(60.0)}
        self._created_minute = _Window(60.0)
        self._created_hour = _Window(3600.0)

    def _limit(self, resource: Resource) -> int:
        if resource == "core":
            return self.policy.rest_per_hour
        return self.policy.graphql_points_per_hour

    def budget(self, resource: Resource) -> Budget:
        """Return the current primary budget of ``resource``, starting a window if needed."""
        now = self.clock()
        reset = self._reset.get(resource)
        if reset is None or now >= reset:
            reset = now + self.policy.window_s
            self._reset[resource] = reset
            self._used[resource] = 0
        limit = self._limit(resource)
        used = self._used[resource]
        return Budget(resource, limit, max(0, limit - used), used, math.ceil(reset))

    def charge(self, resource: Resource, cost: int) -> bool:
        """Spend ``cost`` of the primary budget; False (nothing spent) if it does not fit."""
        budget = self.budget(resource)
        if cost > budget.remaining:
            return False
        self._used[resource] += cost
        return True

    def secondary_retry_after(
        self, *, endpoint: Literal["rest", "graphql"], points: int, creates_content: bool = False
    ) -> int:
        """Record a request against the secondary limits; return 0 if allowed, else the
        ``retry-after`` seconds (the request is then not recorded)."""
        now = self.clock()
        limit = (self.policy.rest_points_per_minute if endpoint == "rest"
                 else self.policy.graphql_points_per_minute)  # fmt: skip
        waits = [self._points[endpoint].seconds_until_room(now, points, limit)]
        if creates_content:
            waits.append(
                self._created_minute.seconds_until_room(
                    now, 1, self.policy.content_creation_per_minute
                )
            )
            waits.append(
                self._created_hour.seconds_until_room(now, 1, self.policy.content_creation_per_hour)
            )
        wait = max(waits)
        if wait:
            return wait
        self._points[endpoint].events.append((now, points))
        if creates_content:
            self._created_minute.events.append((now, 1))
            self._created_hour.events.append((now, 1))
        return 0

    def enter(self) -> bool:
        """Count a request in flight; False when that would exceed the concurrency limit."""
        if self.in_flight >= self.policy.max_concurrent:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        """Count a request as finished."""
        self.in_flight -= 1
