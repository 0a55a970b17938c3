"""The service's pipeline runs: full syncs, and rescoring against the kept snapshot.

A full sync (at start and on each schedule tick) is ``run_sync``; what it read, with its
landed writes folded back (``settle_reads``), becomes the *snapshot*: the backlog as the
trackers hold it. A webhook batch re-reads only the named items (``read_items``; a source
whose event names no item is re-read whole), swaps them into the snapshot
(``replace_items``), ranks and plans the whole snapshot again — so tiers and buckets that
depend on rank are recomputed, and neighbours pushed across a boundary are written too —
and writes what changed: the items the batch named first (the edits people made), then the
neighbours. One run at a time: a lock orders syncs and rescores.

A rescore writes only changes this batch caused: a change that was already pending with the
same target values before the batch (a write that failed earlier, a read-only source) is
left to the next full sync instead of being retried on every webhook.

With ``[outputs] reorder`` the snapshot keeps each source's order with every landed move
folded in, so the plan after a webhook moves only the items whose place changed (one
raised score: one move). A person's drag on the board is seen at the next full sync.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx

from config.loading import LoadedConfig
from connectors.base import Connector
from connectors.webhooks import REF_PREFIX
from priosync.domain import Change, Move, MoveResult, Outputs, Place, Plan, WorkItem, WriteResult
from priosync.errors import PriosyncError
from reports.moves import describe_move
from reports.text import describe_outputs_change
from service.metrics import Metrics
from service.queue import Batch
from sync.audit import AuditLog
from sync.incremental import store_written
from sync.input_state import AuditInputState, InputState
from sync.pipeline import (
    Reads,
    RunStart,
    apply_and_record,
    date_reads,
    held_back,
    open_connector,
    plan_reads,
    replace_items,
    rules_of,
    run_sync,
    settle_earlier_writes,
    settle_reads,
)
from sync.standings import Standings, StandingsFile
from sync.writer import WriteReport

log = logging.getLogger("priosync.server")

Clock = Callable[[], datetime]
ItemId = tuple[str, str]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One pipeline run as the status page shows it."""

    trigger: str  # "start", "schedule", "webhook"
    started_at: datetime
    duration_s: float
    items: int
    changes: int
    written: int
    failed: int
    outcome: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RecentChange:
    """One landed write, for the status page."""

    at: datetime
    trigger: str
    source: str
    key: str
    url: str
    what: str
    reason: str


def named_items(batch: Batch, reads: Reads) -> set[ItemId]:
    """The items the batch's deliveries named, by key or by ref (a whole source names none)."""
    named: set[ItemId] = set()
    for source, keys in batch.keys.items():
        wanted = set(keys)
        named.update(
            (source, i.key)
            for i in reads.items.get(source, [])
            if i.key in wanted or (i.ref and f"{REF_PREFIX}{i.ref}" in wanted)
        )
    return named


def edited_first(changes: Sequence[Change], named: AbstractSet[ItemId]) -> list[Change]:
    """``changes`` with those of the named items first, each part in plan order.

    The named items are the ones people just edited, whose latency they see; the writes to
    neighbours pushed across a tier or bucket boundary follow. The writer paces each source
    in the order it is given, so with a hundred edits at once this is seconds apart.
    """
    return sorted(changes, key=lambda c: (c.source, c.key) not in named)


class Rescorer:
    """Holds the snapshot and runs full syncs and rescores on it, one at a time."""

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        environ: Mapping[str, str] | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        audit: AuditLog | None = None,
        metrics: Metrics | None = None,
        clock: Clock = utc_now,
        keep_runs: int = 20,
        keep_changes: int = 50,
        settle_dead_runs: bool = False,
        standings: StandingsFile | None = None,
    ) -> None:
        self.loaded = loaded
        self.environ = environ
        self.transports = dict(transports or {})
        self.audit = audit
        self.metrics = metrics or Metrics()
        self.clock = clock
        #: Replicas: a rescore also re-reads the items that runs of dead processes left
        #: pending and settles them first, so a job taken over never writes twice.
        self.settle_dead_runs = settle_dead_runs
        self.snapshot: Reads | None = None
        self.standings = standings
        #: The last full sync's run in the audit log (``baseline`` reads what stood before it).
        self._last_sync_run: int | None = None
        self.ready = asyncio.Event()
        self.runs: deque[RunSummary] = deque(maxlen=keep_runs)
        self.changes: deque[RecentChange] = deque(maxlen=keep_changes)
        self._lock = asyncio.Lock()
        self._connectors: dict[str, Connector] = {}
        #: Changes the last plan wanted that did not land: (source, key) → target outputs.
        #: The tracker ids of the fields priosync writes, shared with the webhook receiver.
        self.owned_field_ids: set[str] = set()
        self._owned_ids_learned = False
        self._pending: dict[ItemId, Outputs] = {}
        #: The same for moves: (source, key) → where the move was to put it.
        self._pending_moves: dict[ItemId, Place] = {}
        self._inputs: InputState | None = None

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def baseline(self) -> Standings | None:
        """Where items stood before the last full sync: what the report compares with.

        Read from the standings file when asked: 50,000 items' standings are not held
        between reports. Blocking file I/O: call it off the event loop.
        """
        if self.standings is None:
            return None
        return self.standings.before_run(self._last_sync_run)

    # ── full sync ────────────────────────────────────────────────────────────────────

    @property
    def complete(self) -> bool:
        """A snapshot exists and every source was read into it."""
        return self.snapshot is not None and not self.snapshot.failures

    @property
    def pending_changes(self) -> Mapping[ItemId, Outputs]:
        """What the last plan wanted that did not land: (source, key) → target outputs."""
        return self._pending

    def adopt(self, snapshot: Reads, pending: Mapping[ItemId, Outputs]) -> None:
        """Take a snapshot another replica left (replicas share it through the store)."""
        self.snapshot = snapshot
        self._pending = dict(pending)
        self.ready.set()

    async def full_sync(self, trigger: str, *, command: str = "sync") -> RunSummary:
        """Read, plan and write every source, then keep what was read as the snapshot."""
        async with self._lock:
            self.metrics.set("priosync_sync_running", 1)
            try:
                return await self._full_sync(trigger, command)
            finally:
                self.metrics.set("priosync_sync_running", 0)

    async def _full_sync(self, trigger: str, command: str) -> RunSummary:
        started, began = self.clock(), time.monotonic()
        log.info("full sync started", extra={"trigger": trigger})
        # Before writing: the echoes of this sync's own writes must already be recognisable.
        await self._learn_owned_field_ids()
        try:
            outcome = await run_sync(
                self.loaded,
                write=True,
                audit=self.audit,
                environ=self.environ,
                transports=self.transports,
                on_result=self._on_result(trigger),
                command=command,
                standings=self.standings,
                on_move=self._on_move(trigger),
                now=self.clock(),
                with_baseline=False,  # read when a report asks (``baseline``), not kept
            )
        except PriosyncError as exc:
            return self._sync_failed(trigger, started, began, exc)
        self._last_sync_run = outcome.run_id
        report = outcome.report or WriteReport()
        self._keep(settle_reads(outcome.reads, report.written, report.moved), outcome.plan, report)
        for failure in outcome.reads.failures:
            log.warning(
                "source read failed", extra={"source": failure.source, "error": str(failure.error)}
            )
        duration = time.monotonic() - began
        self.metrics.inc("priosync_syncs_total", trigger=trigger, outcome=outcome.outcome or "ok")
        self.metrics.set("priosync_last_sync_timestamp_seconds", time.time())
        self.metrics.set("priosync_last_sync_duration_seconds", duration)
        summary = RunSummary(
            trigger,
            started,
            duration,
            sum(len(i) for i in outcome.reads.items.values()),
            len(outcome.plan.changes),
            len(report.written),
            len(report.failed),
            outcome.outcome or "ok",
        )
        return self._record(summary)

    def _sync_failed(
        self, trigger: str, started: datetime, began: float, exc: PriosyncError
    ) -> RunSummary:
        self.metrics.inc("priosync_syncs_total", trigger=trigger, outcome="error")
        self.metrics.inc("priosync_errors_total", stage="sync")
        summary = RunSummary(
            trigger, started, time.monotonic() - began, 0, 0, 0, 0, "error", type(exc).__name__
        )
        log.error("full sync failed: %s", exc, extra={"trigger": trigger})
        return self._record(summary)

    # ── rescoring ────────────────────────────────────────────────────────────────────

    async def rescore(self, batch: Batch) -> RunSummary | None:
        """Re-read the batch's items, replan the snapshot, write what this batch changed.

        None when there is no snapshot yet for any of the batch's sources (the next full
        sync reads them anyway).
        """
        async with self._lock:
            if self.snapshot is None:
                return None
            if self.settle_dead_runs:
                batch = self._with_dead_runs_items(batch)
            known = [s for s in batch.sources if s in self.snapshot.items]
            if not known:
                log.info("rescore skipped: no snapshot of %s", ", ".join(batch.sources))
                return None
            return await self._rescore(batch, known, self.snapshot)

    async def _rescore(self, batch: Batch, sources: Sequence[str], reads: Reads) -> RunSummary:
        started, began = self.clock(), time.monotonic()
        reads, asked = await self._reread(batch, sources, reads)
        if self.settle_dead_runs and self.audit is not None:
            self._settle(reads, asked)
        reread = time.monotonic()
        plan = plan_reads(self.loaded.config, reads, now=self.clock())
        planned = time.monotonic()
        wanted = edited_first(self._caused_by_batch(plan, asked), named_items(batch, reads))
        moves = self._moves_caused(plan)
        held = held_back(self.loaded.config, reads)
        if held is not None:
            log.warning("rescore wrote nothing: %s", held)
            wanted, moves = [], []
        applied = await apply_and_record(
            wanted,
            self._open([*(c.source for c in wanted), *(m.source for m in moves)]),
            audit=self.audit,
            run=RunStart("serve webhook", self.loaded.sha256, list(sources)),
            record_when_empty=False,
            on_result=self._on_result("webhook"),
            moves=moves,
            on_move=self._on_move("webhook"),
        )
        report = applied.report
        wrote = time.monotonic()
        settled = settle_reads(reads, report.written, report.moved)
        self._keep(settled, plan, report)
        if self.audit is not None and self.loaded.config.sync.incremental and report.written:
            # the next scheduled sync starts from the stored snapshot: keep it as written
            kept = [s for s in {c.source for c in report.written} if self.audit.has_snapshot(s)]
            store_written(self.audit, settled, report.written, kept)
        outcome = applied.outcome
        self.metrics.inc("priosync_rescores_total", outcome=outcome)
        self.metrics.inc("priosync_rescored_items_total", len(asked))
        summary = RunSummary(
            "webhook",
            started,
            time.monotonic() - began,
            len(asked),
            len(wanted),
            len(report.written),
            len(report.failed),
            outcome,
            f"{batch.events} events on {batch.size} targets",
        )
        # The phases in the message: where a webhook's latency goes (bench/webhook_latency.py).
        log.info(
            "rescored %d items: %d written, %d failed; waited %.3f s in the queue, "
            "re-read %.3f s, plan %.3f s, writes %.3f s",
            len(asked),
            len(report.written),
            len(report.failed),
            batch.waited_s,
            reread - began,
            planned - reread,
            wrote - planned,
            extra={"events": batch.events, "sources": list(sources)},
        )
        return self._record(summary)

    def _with_dead_runs_items(self, batch: Batch) -> Batch:
        """The batch plus the items of writes whose run died before their outcome was known."""
        if self.audit is None:
            return batch
        self.audit.mark_dead_runs()
        keys = {s: list(k) for s, k in batch.keys.items()}
        for write in self.audit.pending(sources=[s.name for s in self.loaded.config.sources]):
            if write.source not in batch.whole and write.item not in keys.get(write.source, []):
                keys.setdefault(write.source, []).append(write.item)
        return replace(batch, keys={s: tuple(k) for s, k in keys.items()})

    def _settle(self, reads: Reads, asked: set[ItemId]) -> None:
        """Resolve pending writes of dead runs from the items just re-read (before writing)."""
        assert self.audit is not None
        fresh = Reads(
            items={
                source: [i for i in items if (source, i.key) in asked]
                for source, items in reads.items.items()
            }
        )
        resolved = settle_earlier_writes(self.audit, fresh, rules_of(self.loaded.config))
        if resolved:
            log.info("settled %d writes a stopped replica left pending", resolved)

    async def _reread(
        self, batch: Batch, sources: Sequence[str], reads: Reads
    ) -> tuple[Reads, set[ItemId]]:
        """The snapshot with the batch's items re-read; and which items were asked for."""
        connectors = self._open(sources)
        results = await asyncio.gather(
            *(self._read_source(connectors[s], batch, reads) for s in sources),
            return_exceptions=True,
        )
        asked: set[ItemId] = set()
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, PriosyncError):
                self.metrics.inc("priosync_errors_total", stage="read")
                log.warning("re-read failed: %s", result, extra={"source": source})
                continue
            if isinstance(result, BaseException):
                raise result
            fresh, keys, whole = result
            dated = await date_reads(
                self.loaded.config,
                Reads(items={source: fresh}),
                connectors,
                state=self._input_state(),
                now=self.clock(),
                some=not whole,
            )
            if dated.failures:
                self.metrics.inc("priosync_errors_total", stage="read")
                log.warning("re-read failed: %s", dated.failures[0].error, extra={"source": source})
                continue
            reads = replace_items(reads, source, dated.items[source], keys)
            asked.update((source, k) for k in keys)
            asked.update((source, i.key) for i in fresh)
        return reads, asked

    async def _read_source(
        self, connector: Connector, batch: Batch, reads: Reads
    ) -> tuple[list[WorkItem], list[str], bool]:
        """The batch's items of one source as read now, the keys that were asked for, and
        whether the source was read whole."""
        held = reads.items.get(connector.name, [])
        wanted = list(batch.keys.get(connector.name, ()))
        by_ref = {i.ref: i.key for i in held if i.ref}
        unknown = [
            k for k in wanted if k.startswith(REF_PREFIX) and k[len(REF_PREFIX) :] not in by_ref
        ]
        if connector.name in batch.whole or unknown:
            # A whole source, or an item the snapshot does not know yet (just added).
            return await connector.read(), [i.key for i in held], True
        keys = [by_ref[k[len(REF_PREFIX) :]] if k.startswith(REF_PREFIX) else k for k in wanted]
        # Ask by ref where the snapshot knows one: a Project item is then one lookup.
        refs = {i.key: i.ref for i in held if i.ref}
        query = [f"{REF_PREFIX}{refs[k]}" if k in refs else k for k in keys]
        return await connector.read_items(query), keys, False

    def _caused_by_batch(self, plan: Plan, asked: AbstractSet[ItemId]) -> list[Change]:
        """The plan's changes, minus those already pending unchanged before this batch."""
        return [
            c
            for c in plan.changes
            if (c.source, c.key) in asked or self._pending.get((c.source, c.key)) != c.after
        ]

    def _moves_caused(self, plan: Plan) -> list[Move]:
        """The plan's moves of each source where this batch changed the order to be.

        The snapshot already holds every landed move, so the plan moves only items whose
        place changed. A source whose moves all were pending unchanged before the batch
        (moves that failed earlier) is left to the next full sync; otherwise all its moves
        go, since a later move may be placed next to an earlier one."""
        new = {m.source for m in plan.moves if self._pending_moves.get((m.source, m.key)) != m.to}
        return [m for m in plan.moves if m.source in new]

    # ── shared ───────────────────────────────────────────────────────────────────────

    def _keep(self, snapshot: Reads, plan: Plan, report: WriteReport) -> None:
        self.snapshot = snapshot
        landed = {(c.source, c.key) for c in report.written}
        self._pending = {
            (c.source, c.key): c.after for c in plan.changes if (c.source, c.key) not in landed
        }
        moved = {(m.source, m.key) for m in report.moved}
        self._pending_moves = {
            (m.source, m.key): m.to for m in plan.moves if (m.source, m.key) not in moved
        }
        self.metrics.set("priosync_snapshot_items", sum(len(i) for i in snapshot.items.values()))
        self.ready.set()

    async def _learn_owned_field_ids(self) -> None:
        """The owned fields' tracker ids, so the webhook receiver recognises priosync's own
        writes in deliveries that name a field by id only (GitHub Project item edits).
        Resolved once per source (the connectors are kept); a failure is logged, not fatal."""
        if self._owned_ids_learned:
            return
        connectors = self._open(s.name for s in self.loaded.config.sources)
        self._owned_ids_learned = True
        for connector in connectors.values():
            try:
                self.owned_field_ids.update(await connector.owned_field_ids())
            except PriosyncError as exc:
                self._owned_ids_learned = False  # try again before the next full sync
                log.warning("could not learn the owned fields' ids: %s", exc)

    def _input_state(self) -> InputState | None:
        """What was seen of items' inputs (``[scoring.freshness]``), kept with the audit log."""
        if self.loaded.config.scoring.freshness is None or self.audit is None:
            return None
        if self._inputs is None:
            self._inputs = AuditInputState(self.audit)
        return self._inputs

    def _open(self, names: Iterable[str]) -> dict[str, Connector]:
        """Connectors for the named sources, opened once and kept for the service's life."""
        config = self.loaded.config
        for name in dict.fromkeys(names):
            if name not in self._connectors:
                self._connectors[name] = open_connector(
                    config.source(name),
                    config,
                    environ=self.environ,
                    transport=self.transports.get(name),
                )
        return self._connectors

    def _on_result(self, trigger: str) -> Callable[[WriteResult], None]:
        def record(result: WriteResult) -> None:
            self.metrics.inc(
                "priosync_writes_total", trigger=trigger, outcome="ok" if result.ok else "failed"
            )
            if not result.ok:
                self.metrics.inc("priosync_errors_total", stage="write")
                log.warning("write failed: %s", result.error, extra={"key": result.change.key})
                return
            change = result.change
            what = ", ".join(describe_outputs_change(change.before, change.after))
            self.changes.appendleft(
                RecentChange(
                    self.clock(),
                    trigger,
                    change.source,
                    change.key,
                    change.url,
                    what,
                    change.reason,
                )
            )

        return record

    def _on_move(self, trigger: str) -> Callable[[MoveResult], None]:
        def record(result: MoveResult) -> None:
            if not result.ok:
                self.metrics.inc("priosync_errors_total", stage="write")
                log.warning("move failed: %s", result.error, extra={"key": result.move.key})
                return
            move = result.move
            self.changes.appendleft(
                RecentChange(
                    self.clock(),
                    trigger,
                    move.source,
                    move.key,
                    move.url,
                    describe_move(move),
                    move.reason,
                )
            )

        return record

    def _record(self, summary: RunSummary) -> RunSummary:
        self.runs.appendleft(summary)
        return summary

    async def aclose(self) -> None:
        """Wait for the run in flight, then close the kept connectors."""
        async with self._lock:
            connectors, self._connectors = list(self._connectors.values()), {}
            await asyncio.gather(*(c.aclose() for c in connectors), return_exceptions=True)
            if self._inputs is not None:
                self._inputs.close()
                self._inputs = None
