"""Thin async glue: send ``protocol`` requests through ``TrackerHttp`` and parse the answers.

Adds what GitHub needs beyond the shared layer (docs/tracker-apis.md §3.7):
- writes (REST ``POST``/``PATCH``/``DELETE`` and every GraphQL mutation) go one at a time,
  spaced by the pacer's write rate and charged against a points-per-minute budget;
- GraphQL rate limits arrive as 200 answers with errors: ``protocol.inspect_answer`` names
  them to ``TrackerHttp``, whose one retry loop pauses and retries them like a 429;
- the hourly GraphQL budget (``rateLimit`` in every document) is tracked, and a write phase
  that cannot finish in what is left waits for the reset, saying so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from config.models import GitHubSource
from config.secrets import BearerCredentials, GitHubAppCredentials
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.auth import build_auth
from connectors.http import PacingDefaults, RetryPolicy, TrackerHttp, json_body, open_http
from priosync.errors import (
    AuthFailed,
    ChangeRejected,
    NotFound,
    NotTheTracker,
    TrackerError,
    TrackerUnavailable,
)

logger = logging.getLogger("priosync.github")

TIMEOUT_S = 30.0
#: At most a few requests in flight (octokit's throttling allows 10; §3.7 caps at 100), and
#: "wait at least 1 second between POST, PATCH, PUT and DELETE requests" (GitHub's best
#: practices, §3.7); octokit applies the same to every GraphQL call that writes.
PACING = PacingDefaults(concurrency=4, reads_per_s=10.0, writes_per_s=1.0)
#: A spent hourly budget resets within the hour: wait for it rather than fail (logged).
PRIMARY_MAX_WAIT_S = 3660.0

#: Secondary-limit points per minute (§3.7): 2,000 on the GraphQL endpoint, 900 per REST
#: endpoint; a GraphQL document with mutations costs 5, a REST write 5. priosync spends at
#: most half of each by default, leaving the rest to the token's other users.
GRAPHQL_POINTS_PER_MINUTE = 2000
REST_POINTS_PER_MINUTE = 900
WRITE_POINTS = 5
BUDGET_SHARE = 0.5


class PointBudget:
    """Spends secondary-limit points at no more than ``points_per_minute`` (no burst)."""

    def __init__(
        self,
        points_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.points_per_minute = points_per_minute
        self._seconds_per_point = 60.0 / points_per_minute
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0
        #: Points spent so far (benchmarks compare the rate with the ceiling).
        self.spent = 0

    async def spend(self, points: int) -> None:
        """Wait until ``points`` fit the rate, then take them."""
        now = self._clock()
        start = max(self._tat, now)
        self._tat = start + points * self._seconds_per_point
        self.spent += points
        if start - now > 1e-9:
            await self._sleep(start - now)


class GitHubClient:
    """One GitHub API host (REST and GraphQL) over an injected ``TrackerHttp``."""

    def __init__(
        self,
        http: TrackerHttp,
        *,
        api_url: str,
        graphql_points: PointBudget | None = None,
        rest_points: PointBudget | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.api_url = api_url
        sleep = http.retry.sleep
        self.graphql_points = graphql_points or PointBudget(
            GRAPHQL_POINTS_PER_MINUTE * BUDGET_SHARE, sleep=sleep
        )
        self.rest_points = rest_points or PointBudget(
            REST_POINTS_PER_MINUTE * BUDGET_SHARE, sleep=sleep
        )
        self._wall_clock = wall_clock
        self._writing = asyncio.Lock()
        #: The last ``rateLimit`` GitHub reported.
        self.budget: p.RateBudget | None = None
        #: Mutation documents sent and mutations inside them (a retried document counts
        #: once; ``http.sent`` counts attempts).
        self.documents = 0
        self.mutations = 0
        #: Scopes of a classic token (``x-oauth-scopes``); None for fine-grained tokens and Apps.
        self.last_scopes: frozenset[str] | None = None

    # ── GraphQL ───────────────────────────────────────────────────────────────────────

    async def graphql(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        tolerate: Sequence[str] = (),
        mutations: int = 0,
    ) -> p.GraphQLResult:
        """Run one document (rate limits are retried below, in ``TrackerHttp``); errors at
        ``tolerate`` aliases come back in the result, others raise."""
        request = p.build_graphql_request(self.api_url, document, variables)
        try:
            response = await self._send(request, mutations=mutations)
        except NotFound:
            raise NotTheTracker(
                f"{p.TRACKER}: {request.path} is not found at {self.api_url}, so this is not "
                "GitHub's API; check the source's api_url (GitHub Enterprise Server: "
                "https://HOST/api/v3)",
                tracker=p.TRACKER,
                status=404,
            ) from None
        self.last_scopes = parse_scopes(response.headers)
        result = p.parse_graphql(
            json_body(response, tracker=p.TRACKER),
            headers=response.headers,
            now_epoch_s=self._wall_clock(),
            tolerate=tolerate,
        )
        self.budget = p.parse_rate_budget(result.data) or self.budget
        return result

    async def mutate(self, entries: Sequence[Sequence[g.Mutation]]) -> list[TrackerError | None]:
        """One document of aliased mutations, ``entries`` in order (an entry's mutations in a
        row); for each entry the error its aliases met, None when all of them landed. A
        document refused whole fails every entry with that error; ``AuthFailed`` raises."""
        mutations = [m for entry in entries for m in entry]
        document, variables = g.build_mutation_batch(mutations)
        aliases = [g.mutation_alias(i) for i in range(len(mutations))]
        try:
            result = await self.graphql(
                document, variables, tolerate=aliases, mutations=len(mutations)
            )
        except AuthFailed:
            raise
        except TrackerError as exc:
            return [exc for _ in entries]
        errors: list[TrackerError | None] = []
        start = 0
        for entry in entries:
            found = [
                e.message for a in aliases[start : start + len(entry)] for e in result.errors_at(a)
            ]
            start += len(entry)
            errors.append(
                ChangeRejected(f"{p.TRACKER}: {'; '.join(found)}", tracker=p.TRACKER, status=200)
                if found
                else None
            )
        return errors

    async def wait_for_budget(self, cost: int) -> None:
        """When the hourly GraphQL budget cannot pay ``cost``, wait for its reset (logged)."""
        budget = self.budget
        if budget is None or budget.remaining >= cost or budget.reset_at_epoch_s is None:
            return
        wait = max(0.0, budget.reset_at_epoch_s - self._wall_clock())
        logger.warning(
            "GitHub GraphQL budget: %d points left, the writes need about %d; waiting %.0f s "
            "for the hourly reset",
            budget.remaining,
            cost,
            wait,
        )
        self.http.pacer.pause(wait, scope="all", kind="write")

    # ── REST ──────────────────────────────────────────────────────────────────────────

    async def rest(self, request: p.ApiRequest) -> Any:
        """Send one REST request; the decoded JSON body (None for 204)."""
        return json_body(await self._send(request), tracker=p.TRACKER)

    async def rest_pages(self, request: p.ApiRequest) -> list[Any]:
        """Every element of a paged list, following ``Link: rel="next"`` (never built URLs)."""
        response = await self._send(request)
        found = page_of(response)
        url = p.next_link(response.headers)
        while url is not None:
            response = await self._send(p.ApiRequest("GET", url, "read"))
            found.extend(page_of(response))
            url = p.next_link(response.headers)
        return found

    # ── sending ───────────────────────────────────────────────────────────────────────

    async def _send(self, request: p.ApiRequest, *, mutations: int = 0) -> httpx.Response:
        if request.kind == "read":
            return await self._request(request)
        async with self._writing:
            graphql = request.path.endswith("/graphql")
            await (self.graphql_points if graphql else self.rest_points).spend(WRITE_POINTS)
            if graphql:
                self.documents += 1
                self.mutations += mutations
            return await self._request(request)

    async def _request(self, request: p.ApiRequest) -> httpx.Response:
        return await self.http.request(
            request.method,
            request.path,
            kind=request.kind,
            params=request.params or None,
            json=request.json,
        )


def open_client(
    source: GitHubSource,
    credentials: BearerCredentials | GitHubAppCredentials,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> GitHubClient:
    """The client for one configured source, paced by its settings; no request is sent yet.

    ``retry`` sets attempts, backoff and the ``sleep`` that retries and pacing use (tests
    inject a fast one); without it a spent hourly limit is waited out.
    """
    secret = (
        credentials.token if isinstance(credentials, BearerCredentials) else credentials.private_key
    )
    http = open_http(
        tracker=p.TRACKER,
        base_url=source.api_url,
        auth=build_auth(credentials, api_url=source.api_url),
        pacing=source.pacing,
        defaults=PACING,
        timeout_s=TIMEOUT_S,
        retry=retry or RetryPolicy(max_wait_s=PRIMARY_MAX_WAIT_S),
        describe=p.describe_error,
        inspect=p.inspect_answer,
        secrets=[secret.get_secret_value()],
        transport=transport,
        headers={"Accept": p.ACCEPT, "X-GitHub-Api-Version": p.API_VERSION},
    )
    return GitHubClient(http, api_url=source.api_url)


def parse_scopes(headers: httpx.Headers) -> frozenset[str] | None:
    """A classic token's scopes from ``x-oauth-scopes``; None when the header is absent."""
    raw = headers.get("x-oauth-scopes")
    if raw is None:
        return None
    return frozenset(s.strip() for s in raw.split(",") if s.strip())


def page_of(response: httpx.Response) -> list[Any]:
    """The elements of one page of a REST list; any other body: ``TrackerUnavailable``."""
    body = json_body(response, tracker=p.TRACKER)
    if not isinstance(body, list):
        raise TrackerUnavailable(
            f"{p.TRACKER} {response.request.url.path} answered with a page that is not a list",
            tracker=p.TRACKER,
            status=response.status_code,
        )
    return body
