"""The sandbox GitHub as one object (:class:`GitHubSandbox`) and its ASGI app.

Every request passes one pipeline (:class:`_Pipeline`): injected latency, bearer-token
auth (401 otherwise), injected 5xx, the concurrency limit, REST primary and secondary
limits (GraphQL's are applied once its cost is known), the handler, ``x-ratelimit-*``
headers, an optional dropped connection, the request log, then outgoing webhooks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .backlog import seed_state
from .faults import DroppedConnection, FaultDecision, FaultInjector, Faults
from .graphql_api import FieldValueRef, ResolveContext, item_field_values
from .graphql_exec import PreparedRequest, execute_prepared, prepare_request
from .limits import RateLimiter, RateLimitPolicy, Resource
from .rest import base_url, error_response, rest_routes
from .state import GitHubState, Issue, ProjectItem
from .webhooks import WebhookDelivery, as_events, build_payload, build_request, deliver

RequestKind = Literal["rest-read", "rest-write", "graphql"]
HUMAN_TOKEN = "sandbox-human-token"  # noqa: S105 - the documented sandbox default
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID."
)


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One request as the sandbox saw it.

    ``status`` is 0 for a dropped connection. For GraphQL, ``mutations`` is the number of
    mutation fields in the document and ``cost`` the points charged; ``outcome`` names an
    injected fault or a limit hit (``"5xx"``, ``"dropped"``, ``"primary-limit"``,
    ``"secondary-limit"``, ``"unauthorized"``) and is None otherwise.
    """

    method: str
    path: str
    status: int
    duration_ms: float
    kind: RequestKind
    mutations: int = 0
    cost: int | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class IssueSnapshot:
    """The end state of an issue or pull request."""

    key: str
    title: str
    state: str
    labels: tuple[str, ...]
    #: Organization issue field values by field name.
    fields: dict[str, float | str]


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    """The end state of a project item: field values by field name, readable.

    Single-select values are option names, iterations their titles.
    """

    node_id: str
    kind: str
    content_ref: str
    title: str
    fields: dict[str, float | str] = field(default_factory=dict)


def _readable(ref: FieldValueRef) -> float | str:
    if ref.field.data_type == "SINGLE_SELECT":
        option = ref.field.find_option(str(ref.value))
        return option.name if option else str(ref.value)
    if ref.field.data_type == "ITERATION":
        iteration = ref.field.find_iteration(str(ref.value))
        return iteration.title if iteration else str(ref.value)
    return ref.value


class GitHubSandbox:
    """A local GitHub organization with a project, served by :func:`create_github_app`."""

    def __init__(
        self,
        state: GitHubState,
        *,
        token: str = "sandbox-token",  # noqa: S107
        faults: Faults | None = None,
        limits: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.state = state
        self.token = token
        self.injector = FaultInjector(faults)
        self.limiter = RateLimiter(limits, clock=clock)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_transport = webhook_transport
        self.request_log: list[RequestLogEntry] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        #: What the person of ``priosync sandbox edit`` signs in with: their edits go out as
        #: webhooks sent by ``state.human_login``, as a person's edits in the UI would.
        self.human_token = HUMAN_TOKEN

    @classmethod
    def seeded(
        cls,
        *,
        issues: int = 200,
        seed: int = 7,
        org: str = "acme",
        repos: Sequence[str] = ("app", "web"),
        token: str = "sandbox-token",  # noqa: S107
        faults: Faults | None = None,
        limits: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        bare: bool = False,
    ) -> GitHubSandbox:
        """Return a sandbox holding a freshly seeded backlog (see :func:`seed_state`)."""
        state = seed_state(issues=issues, seed=seed, org=org, repos=repos, bare=bare)
        return cls(state, token=token, faults=faults, limits=limits, clock=clock,
                   webhook_url=webhook_url, webhook_secret=webhook_secret,
                   webhook_transport=webhook_transport)  # fmt: skip

    # ── persistence ────────────────────────────────────────────────────────────────────

    def save(self, path: Path) -> None:
        """Write the tracker state (not the log or limits) to a JSON file."""
        self.state.save(path)

    @classmethod
    def load(cls, path: Path, **options: Any) -> GitHubSandbox:
        """Return a sandbox over the state saved at ``path``; options as for ``__init__``."""
        return cls(GitHubState.load(path), **options)

    # ── end-state accessors ────────────────────────────────────────────────────────────

    def issue(self, repo: str, number: int) -> IssueSnapshot:
        """Return the end state of issue/PR ``number`` in ``repo``; KeyError if absent."""
        issue = self.state.find_issue(repo, number)
        if issue is None:
            raise KeyError(f"{repo}#{number}")
        by_id = {f.id: f.name for f in self.state.issue_fields}
        fields = {by_id[k]: v for k, v in issue.issue_field_values.items() if k in by_id}
        return IssueSnapshot(
            f"{self.state.org}/{repo}#{number}",
            issue.title,
            issue.state,
            tuple(sorted(issue.labels, key=str.casefold)),
            fields,
        )

    def _snapshot(self, item: ProjectItem) -> ItemSnapshot:
        refs = item_field_values(self.state, item)
        content = self.state.item_content(self.state.project_of_item(item), item)
        return ItemSnapshot(
            item.node_id,
            item.kind,
            item.content_ref,
            content.title,
            {r.field.name: _readable(r) for r in refs},
        )

    def item(self, ref: str, *, project: int = 1) -> ItemSnapshot:
        """Return a project item by its node id or content (``"app#12"``, or a draft's node id)."""
        found = self.state.find_node(ref)
        if not isinstance(found, ProjectItem):
            found = next(
                (it for it in self.state.projects[project].items if it.content_ref == ref), None
            )
        if found is None:
            raise KeyError(ref)
        return self._snapshot(found)

    def items(self, *, project: int = 1) -> list[ItemSnapshot]:
        """Return the end state of every item of a project, in project order."""
        return [self._snapshot(it) for it in self.state.projects[project].items]

    def repo_labels(self, repo: str) -> list[str]:
        """Return the names of a repository's labels."""
        return [lb.name for lb in self.state.repos[repo].labels]

    def count_requests(self, kind: RequestKind | None = None) -> int:
        """Return how many requests (of one kind) were logged."""
        return sum(1 for e in self.request_log if kind is None or e.kind == kind)

    # ── scripted faults ────────────────────────────────────────────────────────────────

    def fail_next(self, status: int = 503, *, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``status``."""
        self.injector.script(FaultDecision(status=status), count=count)

    def drop_next(self, *, count: int = 1) -> None:
        """Process the next ``count`` requests but drop the connection before the body."""
        self.injector.script(FaultDecision(drop=True), count=count)

    def human_set_value(
        self, ref: str, field: str, value: float | str, *, at: str, project: int = 1
    ) -> None:
        """Set a project field on the item for ``ref`` (``"app#12"``) as a person would in the
        UI at ``at`` (``2025-01-06T09:00:00Z``): the value's ``updatedAt`` becomes ``at``. A
        single select takes an option name."""
        board = self.state.projects[project]
        item = next((it for it in board.items if it.content_ref == ref), None)
        found = board.find_field(name=field)
        if item is None or found is None:
            raise KeyError(f"{ref} / {field}")
        if found.data_type == "SINGLE_SELECT":
            option = next((o for o in found.options if o.name == value), None)
            if option is None:
                raise KeyError(f"{field} has no option {value!r}")
            value = option.id
        item.values[found.id] = value
        item.value_updated[found.id] = at
        item.updated_at = at

    def issue_object(self, repo: str, number: int) -> Issue:
        """Return the live issue object (for tests that edit as a person would)."""
        issue = self.state.find_issue(repo, number)
        if issue is None:
            raise KeyError(f"{repo}#{number}")
        return issue


def _classify(method: str, path: str) -> RequestKind:
    if path.rstrip("/") == "/graphql":
        return "graphql"
    return "rest-read" if method in ("GET", "HEAD", "OPTIONS") else "rest-write"


def _creates_content(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/labels") and "/issues/" not in path


def _bearer(scope: Scope) -> str | None:
    """Return the token of an ``Authorization: Bearer|token …`` header, if any."""
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() in ("bearer", "token"):
                return credential.strip()
    return None


@dataclass
class _Outcome:
    kind: RequestKind
    resource: Resource
    status: int = 0
    outcome: str | None = None
    started: float = 0.0
    logged: bool = False


class _Pipeline:
    """ASGI middleware applying auth, faults, limits, headers, the log and webhooks."""

    def __init__(self, app: ASGIApp, sandbox: GitHubSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = _classify(scope["method"], scope["path"])
        outcome = _Outcome(
            kind, "graphql" if kind == "graphql" else "core", started=time.perf_counter()
        )
        scope.setdefault("state", {}).update(events=[], log={})
        try:
            await self._serve(scope, receive, send, outcome)
        finally:
            self._record(scope, outcome)
        await self._send_webhooks(scope)

    def _record(self, scope: Scope, outcome: _Outcome) -> None:
        """Log the request once: before its last byte leaves, so a client that has the
        answer always finds the request in the log."""
        if outcome.logged:
            return
        outcome.logged = True
        log = scope["state"]["log"]
        self.sandbox.request_log.append(RequestLogEntry(
            scope["method"], scope["path"], outcome.status,
            round((time.perf_counter() - outcome.started) * 1000, 3), outcome.kind,
            log.get("mutations", 0), log.get("cost"), outcome.outcome or log.get("outcome"),
        ))  # fmt: skip

    async def _serve(self, scope: Scope, receive: Receive, send: Send, outcome: _Outcome) -> None:
        sandbox = self.sandbox
        decision = sandbox.injector.decide()
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        early = self._refuse(scope, decision, outcome)
        if early is not None:
            await self._respond(early, scope, receive, send, outcome, drop=False)
            return
        if not sandbox.limiter.enter():
            outcome.outcome = "secondary-limit"
            await self._respond(_secondary(sandbox, 60), scope, receive, send, outcome, drop=False)
            return
        try:
            await self._respond(self.app, scope, receive, send, outcome, drop=decision.drop)
        finally:
            sandbox.limiter.leave()

    def _refuse(self, scope: Scope, decision: FaultDecision, outcome: _Outcome) -> Response | None:
        """Return the response for auth failures, injected errors and REST limits, if any."""
        sandbox = self.sandbox
        if _bearer(scope) == sandbox.human_token:
            scope["state"]["actor"] = "human"
        elif _bearer(scope) != sandbox.token:
            outcome.outcome = "unauthorized"
            return error_response(
                401, "Bad credentials" if _bearer(scope) else "Requires authentication"
            )
        if decision.status is not None:
            outcome.outcome = "5xx"
            message = "Service Unavailable" if decision.status == 503 else "Server Error"
            return JSONResponse({"message": message}, status_code=decision.status)
        if outcome.kind == "graphql":
            return None
        method, path = scope["method"], scope["path"]
        points = 1 if outcome.kind == "rest-read" else 5
        wait = sandbox.limiter.secondary_retry_after(
            endpoint="rest", points=points, creates_content=_creates_content(method, path)
        )
        if wait:
            outcome.outcome = "secondary-limit"
            return _secondary(sandbox, wait)
        if path.rstrip("/") != "/rate_limit" and not sandbox.limiter.charge("core", 1):
            outcome.outcome = "primary-limit"
            budget = sandbox.limiter.budget("core")
            return error_response(
                403,
                f"API rate limit exceeded for user ID {sandbox.state.viewer_id}.",
                headers=budget.headers(),
            )
        return None

    async def _respond(
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        outcome: _Outcome,
        *,
        drop: bool,
    ) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await app(scope, receive, capture)
        resource: Resource = scope["state"]["log"].get("resource", outcome.resource)
        for message in messages:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                message["headers"] = list(message.get("headers", [])) + self._headers(
                    resource, message
                )
                await send(message)
                if drop:
                    outcome.status, outcome.outcome = 0, "dropped"
                    raise DroppedConnection("sandbox dropped the connection (injected)")
            else:
                if not message.get("more_body", False):
                    self._record(scope, outcome)
                await send(message)

    def _headers(self, resource: Resource, start: Message) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in start.get("headers", [])}
        extra = dict(self.sandbox.limiter.budget(resource).headers())
        extra["x-github-request-id"] = uuid.uuid4().hex[:20].upper()
        extra["x-github-api-version-selected"] = "2022-11-28"
        return [(k.encode(), v.encode()) for k, v in extra.items() if k.encode() not in present]

    async def _send_webhooks(self, scope: Scope) -> None:
        sandbox = self.sandbox
        events = as_events(scope["state"].get("events"))
        if not events or sandbox.webhook_url is None:
            return
        base = base_url(Request(scope))
        human = scope["state"].get("actor") == "human"
        async with httpx.AsyncClient(transport=sandbox.webhook_transport, timeout=10.0) as client:
            for event in events:
                payload = build_payload(sandbox.state, base, event, by_human=human)
                request = build_request(
                    url=sandbox.webhook_url,
                    secret=sandbox.webhook_secret,
                    event=event.event,
                    payload=payload,
                )
                sandbox.webhook_deliveries.append(
                    await deliver(client, request, action=event.action)
                )


def _secondary(sandbox: GitHubSandbox, wait_s: int) -> Response:
    return error_response(
        sandbox.limiter.policy.secondary_status,
        SECONDARY_MESSAGE,
        headers={"retry-after": str(wait_s)},
    )


def _rate_limit_view(sandbox: GitHubSandbox, cost: int, nodes: int) -> Callable[[], dict[str, Any]]:
    def view() -> dict[str, Any]:
        budget = sandbox.limiter.budget("graphql")
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(budget.reset))
        return {"cost": cost, "limit": budget.limit, "remaining": budget.remaining,
                "used": budget.used, "resetAt": reset, "nodeCount": nodes}  # fmt: skip

    return view


async def graphql_endpoint(request: Request) -> Response:
    """``POST /graphql``: validate, price, apply limits, execute."""
    sandbox: GitHubSandbox = request.app.state.sandbox
    try:
        payload = await request.json()
    except ValueError:
        return error_response(400, "Problems parsing JSON")
    prepared = prepare_request(payload)
    if not isinstance(prepared, PreparedRequest):
        return JSONResponse({"errors": prepared})
    report = prepared.report
    log = request.state.log
    log.update(mutations=report.mutations, cost=report.cost, resource="graphql")
    # Secondary points: 1 for a query, 5 for a document with mutations (GitHub's docs).
    wait = sandbox.limiter.secondary_retry_after(
        endpoint="graphql", points=5 if report.mutations else 1
    )
    if wait:
        log["outcome"] = "secondary-limit"
        return _secondary(sandbox, wait)
    if not sandbox.limiter.charge("graphql", report.cost):
        log["outcome"] = "primary-limit"
        message = f"API rate limit already exceeded for user ID {sandbox.state.viewer_id}."
        return JSONResponse({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit",
                                         "message": message}]})  # fmt: skip
    context = ResolveContext(state=sandbox.state, base=base_url(request),
                             rate_limit=_rate_limit_view(sandbox, report.cost, report.nodes),
                             events=request.state.events)  # fmt: skip
    return JSONResponse(execute_prepared(prepared, context))


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(
        status, "Not Found" if status == 404 else str(getattr(exc, "detail", "Error"))
    )


def create_github_app(sandbox: GitHubSandbox) -> Starlette:
    """Return the ASGI app serving ``sandbox`` (REST at the root, GraphQL at ``/graphql``).

    The state is already seeded; the app needs no lifespan events, so it works through
    ``httpx.ASGITransport`` as well as under uvicorn.
    """
    routes = [Route("/graphql", graphql_endpoint, methods=["POST"]), *rest_routes()]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.sandbox = sandbox
    app.add_middleware(_Pipeline, sandbox=sandbox)
    return app
