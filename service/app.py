"""The Starlette app of `priosync serve` (design §10).

Routes: ``POST /webhooks/jira``, ``POST /webhooks/github``, ``GET /healthz`` (with
``/healthz/ready``: the store answers and is migrated, and ``/healthz/live``: the worker
runs), ``GET /metrics``, ``GET /`` (status) and ``GET /report`` (the current ranking as HTML).

Two ways to run, chosen by ``state``: one process with the audit log in a SQLite file and
the queue in memory (``service.service``, the default), or one of several replicas sharing
a PostgreSQL store (``service.replicas``). The endpoints are the same; a delivery goes to
an ``Intake``: the memory queue, or the store.

A webhook request goes: size limit (413, before the body is read whole) → authenticity on
the raw bytes (401) → parse (400) → de-duplicate by delivery id → queue, and is answered at
once (202); the rescoring happens in the worker. Unknown events get 202 and are ignored.
Which headers carry the signature and the delivery id, and how a body is parsed, is each
tracker's ``WebhookSpec`` (``connectors.<tracker>.webhooks``): the app only routes.

An endpoint is enabled when a source of its tracker is configured or its secret is set; an
enabled endpoint without a secret refuses to start unless unsigned requests are explicitly
accepted (``server.accept_unsigned`` or ``--accept-unsigned``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from config.loading import LoadedConfig
from config.models import GitHubSource, JiraSource, PriosyncConfig
from config.secrets import read_secret
from connectors.github import webhooks as github_webhooks
from connectors.jira import webhooks as jira_webhooks
from connectors.webhooks import OwnedFields, Verdict, WebhookSpec
from priosync.errors import ConfigError, WebhookRejected
from service import metrics as m
from service.bodies import Disconnected, check_depth, decoded_body, json_payload, read_raw_body
from service.intake import Intake, MemoryIntake, is_store_error
from service.queue import CoalescingQueue, QueueStats, RecentDeliveries
from service.rescore import Clock, Rescorer, utc_now
from service.schedule import build_cron_trigger
from service.service import Service
from service.status import StatusView, render_status_page
from service.verify import verify_signature, verify_token
from sync.audit import AuditLog, SqliteAuditLog
from sync.state import StateLocation

if TYPE_CHECKING:
    from service.replicas import ReplicaService
from sync.pipeline import plan_reads
from sync.standings import StandingsFile

log = logging.getLogger("priosync.server")

GITHUB_SECRET_ENV = "PRIOSYNC_GITHUB_WEBHOOK_SECRET"  # noqa: S105 - a variable name
JIRA_SECRET_ENV = "PRIOSYNC_JIRA_WEBHOOK_SECRET"  # noqa: S105 - a variable name
#: For Jira setups that cannot sign: ``/webhooks/jira?token=…`` (weaker: URLs get logged).
JIRA_TOKEN_ENV = "PRIOSYNC_JIRA_WEBHOOK_TOKEN"  # noqa: S105 - a variable name
#: Comma-separated Jira accountIds / GitHub logins whose events are priosync's own writes.
OWN_ACTORS_ENV = "PRIOSYNC_WEBHOOK_IGNORE_ACTORS"
#: When set, ``/report`` needs it (``Authorization: Bearer …`` or ``?token=``).
REPORT_TOKEN_ENV = "PRIOSYNC_REPORT_TOKEN"  # noqa: S105 - a variable name

Tracker = Literal["jira", "github"]

#: Each endpoint's tracker vocabulary: signature and delivery headers, and the body's parser.
WEBHOOKS: Mapping[Tracker, WebhookSpec] = {
    "jira": jira_webhooks.WEBHOOK,
    "github": github_webhooks.WEBHOOK,
}


@dataclass(frozen=True, slots=True)
class WebhookAuth:
    """How one endpoint authenticates deliveries."""

    tracker: Tracker
    enabled: bool
    secret: SecretStr | None = None
    token: SecretStr | None = None

    @property
    def unsigned(self) -> bool:
        return self.secret is None and self.token is None


def resolve_webhook_auth(
    config: PriosyncConfig, environ: Mapping[str, str] | None, *, accept_unsigned: bool
) -> dict[Tracker, WebhookAuth]:
    """Each endpoint's secret; a ``ConfigError`` naming the variable when one is missing."""
    jira = WebhookAuth(
        "jira",
        enabled=any(isinstance(s, JiraSource) for s in config.sources),
        secret=read_secret(JIRA_SECRET_ENV, environ),
        token=read_secret(JIRA_TOKEN_ENV, environ),
    )
    github = WebhookAuth(
        "github",
        enabled=any(isinstance(s, GitHubSource) for s in config.sources),
        secret=read_secret(GITHUB_SECRET_ENV, environ),
    )
    auths: dict[Tracker, WebhookAuth] = {}
    for auth in (jira, github):
        enabled = auth.enabled or not auth.unsigned
        auths[auth.tracker] = WebhookAuth(auth.tracker, enabled, auth.secret, auth.token)
        if enabled and auth.unsigned and not accept_unsigned:
            raise ConfigError(_missing_secret_message(auth.tracker), key="server")
    return auths


def _missing_secret_message(tracker: Tracker) -> str:
    if tracker == "jira":
        return (
            f"the Jira webhook endpoint has no secret: set {JIRA_SECRET_ENV} to the webhook's "
            f"secret (or {JIRA_TOKEN_ENV} for a Jira that cannot sign, then register "
            "/webhooks/jira?token=…), or accept unsigned requests with --accept-unsigned"
        )
    return (
        f"the GitHub webhook endpoint has no secret: set {GITHUB_SECRET_ENV} to the webhook's "
        "secret, or accept unsigned requests with --accept-unsigned"
    )


def own_actors_from(environ: Mapping[str, str] | None, extra: Collection[str]) -> frozenset[str]:
    raw = (os.environ if environ is None else environ).get(OWN_ACTORS_ENV, "")
    return frozenset({a.strip() for a in raw.split(",") if a.strip()} | set(extra))


class WebhookReceiver:
    """The two webhook endpoints: verify, parse, de-duplicate, queue."""

    def __init__(
        self,
        *,
        config: PriosyncConfig,
        auths: Mapping[Tracker, WebhookAuth],
        intake: Intake,
        metrics: m.Metrics,
        own_actors: Collection[str],
        owned_field_ids: AbstractSet[str] = frozenset(),
    ) -> None:
        self.config = config
        self.auths = auths
        self.intake = intake
        self.metrics = metrics
        self.owned = OwnedFields.from_config(
            config.outputs, field_ids=owned_field_ids, stale_label=config.stale_label()
        )
        self.own_actors = frozenset(own_actors)

    async def jira(self, request: Request) -> Response:
        return await self._handle("jira", request)

    async def github(self, request: Request) -> Response:
        return await self._handle("github", request)

    async def _handle(self, tracker: Tracker, request: Request) -> Response:
        try:
            return await self._receive(tracker, request)
        except Exception:
            # The process edge: a bug must not take the endpoint down. Log, count, 500.
            self.metrics.inc("priosync_errors_total", stage="request")
            log.exception("webhook handler crashed")
            return JSONResponse({"error": "internal error"}, status_code=500)

    async def _receive(self, tracker: Tracker, request: Request) -> Response:
        auth, spec = self.auths[tracker], WEBHOOKS[tracker]
        if not auth.enabled:
            return JSONResponse({"error": f"no {tracker} webhook is configured"}, status_code=404)
        limit = self.config.server.max_body_bytes
        try:
            raw = await read_raw_body(request, limit)
        except Disconnected:
            # Nobody is left to answer, and nothing went wrong here: no error, no log line.
            return self._answer(tracker, "disconnected", 400, {"error": "client disconnected"})
        except WebhookRejected as rejected:
            return self._reject(tracker, rejected)
        try:
            body = decoded_body(request, raw, limit)
            self._authenticate(auth, spec, request, body)
            document = json_payload(request, body)
            check_depth(document)
            verdict = self._parse(spec, request, document)
        except WebhookRejected as rejected:
            return self._reject(tracker, rejected)
        delivery = _delivery_id(spec, request)
        remembered = f"{tracker}:{delivery}" if delivery is not None else None
        if verdict.action == "rescore":
            return await self._queue(tracker, verdict, delivery, remembered)
        if remembered is not None and await self.intake.remember(remembered):
            return self._answer(tracker, "duplicate", 200, {"status": "duplicate"})
        return self._act(tracker, verdict, delivery)

    def _authenticate(
        self, auth: WebhookAuth, spec: WebhookSpec, request: Request, body: bytes
    ) -> None:
        if auth.secret is not None:
            scheme = spec.signature
            secret = auth.secret.get_secret_value().encode()
            verify_signature(secret, body, request.headers.get(scheme.header), scheme)
        elif auth.token is not None:
            verify_token(auth.token.get_secret_value().encode(), request.query_params.get("token"))

    def _parse(self, spec: WebhookSpec, request: Request, body: bytes) -> Verdict:
        return spec.parse_event(
            request.headers,
            body,
            sources=self.config.sources,
            owned=self.owned,
            own_actors=self.own_actors,
        )

    def _act(self, tracker: Tracker, verdict: Verdict, delivery: str | None) -> Response:
        if verdict.action == "ping":
            return self._answer(tracker, "ping", 200, {"status": "pong"})
        log.debug("ignored %s delivery: %s", tracker, verdict.reason, extra={"delivery": delivery})
        return self._answer(
            tracker, "ignored", 202, {"status": "ignored", "reason": verdict.reason}
        )

    async def _queue(
        self, tracker: Tracker, verdict: Verdict, delivery: str | None, remembered: str | None
    ) -> Response:
        """Remember the delivery and queue its targets, as one step: a duplicate is known to
        be queued already, and a delivery the store refused is not remembered (503: the
        sender tries again)."""
        try:
            fresh = await self.intake.put(verdict.targets, delivery=remembered)
        except Exception as exc:
            if not is_store_error(exc):
                raise
            log.warning("could not queue %s delivery: the state store did not answer", tracker)
            return self._answer(tracker, "unavailable", 503, {"error": "try again later"})
        if not fresh:
            return self._answer(tracker, "duplicate", 200, {"status": "duplicate"})
        keys = sorted({t.key or f"{t.source} (whole source)" for t in verdict.targets})
        log.info(
            "queued %s delivery for %s", tracker, ", ".join(keys), extra={"delivery": delivery}
        )
        return self._answer(tracker, "accepted", 202, {"status": "queued", "items": keys})

    def _reject(self, tracker: Tracker, rejected: WebhookRejected) -> Response:
        outcome = {401: "bad-signature", 413: "too-large", 415: "unsupported"}.get(
            rejected.status, "malformed"
        )
        log.warning("refused %s delivery (%d): %s", tracker, rejected.status, rejected)
        return self._answer(tracker, outcome, rejected.status, {"error": str(rejected)})

    def _answer(
        self, tracker: Tracker, outcome: str, status: int, body: dict[str, Any]
    ) -> Response:
        self.metrics.inc("priosync_webhook_events_total", tracker=tracker, outcome=outcome)
        return JSONResponse(body, status_code=status)


def _delivery_id(spec: WebhookSpec, request: Request) -> str | None:
    """The delivery's id as a digest of the whole header: two long ids that share a prefix
    are two deliveries, and no sender-chosen text is kept in memory or logs."""
    value = request.headers.get(spec.delivery_header, "").strip()
    return hashlib.sha256(value.encode()).hexdigest()[:32] if value else None


class Pages:
    """``/healthz``, ``/metrics``, ``/`` and ``/report``."""

    def __init__(
        self,
        *,
        loaded: LoadedConfig,
        service: Service | ReplicaService,
        metrics: m.Metrics,
        clock: Clock,
        report_token: SecretStr | None = None,
    ) -> None:
        self.loaded = loaded
        self.service = service
        self.metrics = metrics
        self.clock = clock
        self.report_token = report_token

    async def healthz(self, request: Request) -> Response:
        rescorer = self.service.rescorer
        ready, reason = await self.service.ready()
        stats = await self._stats()
        return JSONResponse(
            {
                "status": "ok",
                "ready": ready,
                "live": self.service.alive(),
                "snapshot": rescorer.snapshot is not None,
                "syncing": rescorer.busy,
                "queue_depth": stats.depth if stats else None,
                **({} if ready else {"reason": reason}),
            }
        )

    async def ready(self, request: Request) -> Response:
        """Readiness: send this replica webhooks (its store answers and is migrated)."""
        ready, reason = await self.service.ready()
        return JSONResponse({"ready": ready, "reason": reason}, status_code=200 if ready else 503)

    async def live(self, request: Request) -> Response:
        """Liveness: the event loop answers and the worker runs; else restart the process."""
        alive = self.service.alive()
        return JSONResponse({"live": alive}, status_code=200 if alive else 503)

    async def _stats(self) -> QueueStats | None:
        try:
            async with asyncio.timeout(3):
                return await self.service.queue_stats()
        except Exception:
            return None  # a store that does not answer: /healthz/ready says so

    async def metrics_text(self, request: Request) -> Response:
        stats = await self._stats()
        self.metrics.set("priosync_store_up", 0 if stats is None else 1)
        if stats is not None:
            self.metrics.set("priosync_queue_depth", stats.depth)
            self.metrics.set("priosync_queue_oldest_seconds", stats.oldest_s)
            for status, count in stats.jobs.items():
                self.metrics.set("priosync_queue_jobs", count, status=status)
        return PlainTextResponse(self.metrics.render(), media_type=m.CONTENT_TYPE)

    async def status(self, request: Request) -> Response:
        rescorer = self.service.rescorer
        snapshot = rescorer.snapshot
        view = StatusView(
            now=self.clock(),
            snapshot_items=None
            if snapshot is None
            else sum(len(i) for i in snapshot.items.values()),
            syncing=rescorer.busy,
            queue_depth=stats.depth if (stats := await self._stats()) else 0,
            next_sync_at=self.service.next_sync_at,
            cron=self.loaded.config.schedule.cron,
            runs=list(rescorer.runs),
            changes=list(rescorer.changes),
            report_available=snapshot is not None and self.loaded.config.server.report,
        )
        return HTMLResponse(render_status_page(view))

    async def report(self, request: Request) -> Response:
        from reports.html import render_html
        from reports.overview import ReportSettings

        if not self.loaded.config.server.report:
            return PlainTextResponse(
                "the report page is off: it shows the whole backlog to whoever reaches this "
                f"port. Set server.report = true to serve it (and {REPORT_TOKEN_ENV} to "
                "require a token)",
                status_code=404,
            )
        if self.report_token is not None:
            offered = request.query_params.get("token")
            scheme, _, credential = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer":
                offered = credential.strip()
            try:
                verify_token(self.report_token.get_secret_value().encode(), offered)
            except WebhookRejected:
                return PlainTextResponse(
                    "the report needs its token (Authorization: Bearer …)", status_code=401
                )
        snapshot = self.service.rescorer.snapshot
        if snapshot is None:
            return PlainTextResponse("no full sync has completed yet", status_code=503)
        # Ranking thousands of items is CPU work: keep the loop free for webhooks.
        plan = await asyncio.to_thread(plan_reads, self.loaded.config, snapshot)
        baseline = await asyncio.to_thread(self.service.rescorer.baseline)
        generated = self.clock().isoformat(timespec="seconds")
        page = render_html(
            plan,
            title="priosync: current ranking",
            generated_at=generated,
            settings=ReportSettings.from_config(self.loaded.config),
            baseline=baseline,
        )
        return HTMLResponse(page)


def create_service_app(
    loaded: LoadedConfig,
    *,
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    audit: AuditLog | None = None,
    accept_unsigned: bool = False,
    clock: Clock = utc_now,
    quiet_s: float = 1.0,
    schedule_trigger: Any = None,
    sync_at_start: bool = True,
    own_actors: Collection[str] = (),
    dedupe_capacity: int = 10_000,
    drain_timeout_s: float = 60.0,
    first_sync_retry_s: Sequence[float] = (30.0, 60.0, 120.0, 300.0),
    state: StateLocation | None = None,
    takeover_after_s: float | None = None,
) -> Starlette:
    """The service app; its lifespan runs the first sync, the worker and the schedule.

    Raises ``ConfigError`` when an enabled webhook endpoint has no secret and unsigned
    requests are not accepted, or when the schedule is invalid. ``schedule_trigger``
    replaces the ``[schedule]`` cron (tests use a short interval); ``quiet_s`` is the
    coalescing window, counted from a batch's first delivery (``service.queue``; the
    replicas' rescore job waits as long). A PostgreSQL ``state`` makes this app one
    replica of several (``service.replicas``; ``audit`` is then the log in that store, and
    ``takeover_after_s`` replaces ``server.takeover_after_s``).
    """
    config = loaded.config
    auths = resolve_webhook_auth(
        config, environ, accept_unsigned=accept_unsigned or config.server.accept_unsigned
    )
    trigger = schedule_trigger
    if trigger is None and config.schedule.cron:
        trigger = build_cron_trigger(config.schedule.cron, config.schedule.timezone)
    metrics = m.Metrics()
    replicated = state is not None and state.postgres
    rescorer = Rescorer(
        loaded,
        environ=environ,
        transports=transports,
        audit=audit,
        metrics=metrics,
        clock=clock,
        settle_dead_runs=replicated,
        # Standings live beside a SQLite log; a PostgreSQL state keeps none yet.
        standings=StandingsFile.beside(audit.path) if isinstance(audit, SqliteAuditLog) else None,
    )
    service: Service | ReplicaService
    intake: Intake
    if state is not None and state.postgres:
        from service.replicas import ReplicaService

        service = ReplicaService(
            loaded=loaded,
            location=state,
            rescorer=rescorer,
            metrics=metrics,
            schedule_trigger=trigger,
            quiet_s=quiet_s,
            drain_timeout_s=drain_timeout_s,
            takeover_after_s=takeover_after_s or config.server.takeover_after_s,
        )
        intake = service.intake
    else:
        queue = CoalescingQueue(quiet_s=quiet_s)
        service = Service(
            rescorer=rescorer,
            queue=queue,
            metrics=metrics,
            schedule_trigger=trigger,
            sync_at_start=sync_at_start,
            drain_timeout_s=drain_timeout_s,
            first_sync_retry_s=first_sync_retry_s,
        )
        intake = MemoryIntake(queue, RecentDeliveries(dedupe_capacity), metrics)
    receiver = WebhookReceiver(
        config=config,
        auths=auths,
        intake=intake,
        metrics=metrics,
        own_actors=own_actors_from(environ, own_actors),
        owned_field_ids=rescorer.owned_field_ids,
    )
    pages = Pages(
        loaded=loaded,
        service=service,
        metrics=metrics,
        clock=clock,
        report_token=read_secret(REPORT_TOKEN_ENV, environ),
    )
    for auth in auths.values():
        if auth.enabled and auth.unsigned:
            log.warning(
                "accepting unsigned %s webhooks: anyone who can reach the port can trigger rescoring",
                auth.tracker,
            )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.open()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            Route("/webhooks/jira", receiver.jira, methods=["POST"]),
            Route("/webhooks/github", receiver.github, methods=["POST"]),
            Route("/healthz", pages.healthz, methods=["GET"]),
            Route("/healthz/ready", pages.ready, methods=["GET"]),
            Route("/healthz/live", pages.live, methods=["GET"]),
            Route("/metrics", pages.metrics_text, methods=["GET"]),
            Route("/report", pages.report, methods=["GET"]),
            Route("/", pages.status, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.metrics = metrics
    return app
