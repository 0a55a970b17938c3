"""The one pipeline: read (I/O) → score and rank (pure) → plan (pure) → apply (I/O).

The command line, the scheduler and the webhook receiver only decide *when* and *for which
sources* to run it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import httpx

from config.loading import LoadedConfig
from config.models import FileSource, GitHubSource, JiraSource, PriosyncConfig
from config.secrets import github_credentials, jira_credentials
from connectors.base import Connector
from connectors.file import FileConnector
from priosync.compact import shared_labels
from priosync.domain import (
    Change,
    Move,
    MoveResult,
    Outputs,
    Plan,
    RankedItem,
    WorkItem,
    WriteResult,
)
from priosync.errors import (
    ConfigError,
    NotTheTracker,
    PriosyncError,
    QueryRejected,
    WritesHeldBack,
)
from scoring import METRIC_INPUT, score_backlog
from sync.audit import AuditLog
from sync.freshness import date_inputs
from sync.input_state import AuditInputState, InputState
from sync.order import has_order, plan_moves, unordered_warning, with_landed_moves
from sync.outcomes import resolve_moves, resolve_outcomes
from sync.plan import PlanRules, plan_changes
from sync.standings import Standings, StandingsFile
from sync.writer import WriteReport, apply_plan

if TYPE_CHECKING:
    from sync.incremental import ReadMode

Source = JiraSource | GitHubSource | FileSource


@dataclass
class SourceFailure:
    source: str
    error: PriosyncError


@dataclass
class Reads:
    """What each source returned: its items, or why it could not be read."""

    items: dict[str, list[WorkItem]] = field(default_factory=dict)
    failures: list[SourceFailure] = field(default_factory=list)


def select_sources(config: PriosyncConfig, only: Sequence[str] = ()) -> list[Source]:
    """The configured sources, or the ones named by ``--source`` (a ConfigError for unknown names)."""
    if not config.sources:
        raise ConfigError(
            "no sources configured",
            key="sources",
            expected='at least one [[sources]] table (kind = "jira", "github" or "file")',
            found="none",
        )
    if not only:
        return list(config.sources)
    names = [s.name for s in config.sources]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ConfigError(
            f"--source {unknown[0]} is not configured",
            key="sources",
            expected=f"one of {', '.join(names)}",
            found=unknown[0],
        )
    return [s for s in config.sources if s.name in only]


def open_connector(
    source: Source,
    config: PriosyncConfig,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Connector:
    """Build the connector for one source; ``transport`` lets the demo and tests use a sandbox."""
    inputs = config.inputs_for(source)
    links = config.scoring.dependencies == "lift"
    history = config.scoring.freshness is not None
    if isinstance(source, FileSource):
        return FileConnector.from_config(
            source, inputs=inputs, outputs=config.outputs, dependencies=links
        )
    if isinstance(source, JiraSource):
        from connectors.jira import JiraConnector

        return JiraConnector.from_config(
            source,
            inputs=inputs,
            outputs=config.outputs,
            credentials=jira_credentials(source, environ),
            transport=transport,
            scales=connector_scales(config),
            priority_names=[c.name for c in config.outputs.priority],
            dependencies=links,
            history=history,
        )
    from connectors.github import ProjectConnector, RepositoryConnector

    kind = ProjectConnector if source.project else RepositoryConnector
    return kind.from_config(
        source,
        inputs=inputs,
        outputs=config.outputs,
        credentials=github_credentials(source, environ),
        transport=transport,
        scales=connector_scales(config),
        priority_names=[c.name for c in config.outputs.priority],
        dependencies=links,
        history=history,
    )


def connector_scales(config: PriosyncConfig) -> dict[str, dict[str, float]]:
    """The scales ``check`` compares select options with; the key metric's are its weights."""
    scales = {name: dict(scale) for name, scale in config.scoring.scales.items()}
    metrics = config.scoring.metrics
    if metrics is not None and metrics.field is not None:
        scales[METRIC_INPUT] = dict(metrics.weights)
    return scales


async def read_all(connectors: Sequence[Connector]) -> Reads:
    """Read every source concurrently; a failing source is recorded, the others go on."""
    results = await asyncio.gather(*(c.read() for c in connectors), return_exceptions=True)
    reads = Reads()
    for connector, result in zip(connectors, results, strict=True):
        if isinstance(result, PriosyncError):
            reads.failures.append(SourceFailure(connector.name, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            reads.items[connector.name] = result
    return reads


def name_config_keys(reads: Reads, config: PriosyncConfig) -> Reads:
    """Read failures that are the config's fault, as ``ConfigError``s naming the key to fix:
    a refused JQL is ``sources[N].jql``, an address that is not the tracker ``sources[N].url``."""
    index = {s.name: i for i, s in enumerate(config.sources)}
    failures = []
    for failure in reads.failures:
        error = failure.error
        i = index.get(failure.source)
        if i is not None and isinstance(error, QueryRejected | NotTheTracker):
            setting = "jql" if isinstance(error, QueryRejected) else _address_key(config.sources[i])
            error = ConfigError(str(error), key=f"sources[{i}].{setting}")
        failures.append(SourceFailure(failure.source, error))
    return Reads(items=reads.items, failures=failures)


def _address_key(source: Source) -> str:
    if isinstance(source, GitHubSource):
        return "api_url"
    return "url" if isinstance(source, JiraSource) and source.url else "cloud_id"


def rank_reads(
    config: PriosyncConfig, reads: Reads, *, now: datetime | None = None
) -> tuple[RankedItem, ...]:
    """Rank per source (each its own list) or across all sources as one portfolio.

    ``now`` is the time freshness is judged at (default: the clock, now).
    """
    spec = config.scoring.to_model_spec()
    tiers = [c.to_cut() for c in config.outputs.priority]
    buckets = [c.to_cut() for c in config.outputs.roadmap]
    lift = config.scoring.dependencies == "lift"
    at = now or datetime.now(UTC)
    if config.scoring.ranking == "global":
        everything = [item for items in reads.items.values() for item in items]
        return score_backlog(everything, spec, tiers=tiers, buckets=buckets, lift=lift, now=at)
    ranked: list[RankedItem] = []
    for items in reads.items.values():
        ranked.extend(score_backlog(items, spec, tiers=tiers, buckets=buckets, lift=lift, now=at))
    return tuple(ranked)


def rules_of(config: PriosyncConfig) -> PlanRules:
    return PlanRules.from_config(
        config.outputs, decimals=config.scoring.decimals, stale_label=config.stale_label()
    )


def plan_reads(config: PriosyncConfig, reads: Reads, *, now: datetime | None = None) -> Plan:
    rules = rules_of(config)
    plan = plan_changes(rank_reads(config, reads, now=now), rules)
    return with_moves(plan, config, reads, rules) if rules.reorder else plan


def with_moves(plan: Plan, config: PriosyncConfig, reads: Reads, rules: PlanRules) -> Plan:
    """The plan with the moves that put each orderable source in ranking order."""
    sources = [config.source(name) for name in reads.items]
    orders = {s.name: reads.items[s.name] for s in sources if has_order(s)}
    unordered = [
        unordered_warning(s) for s in sources if not has_order(s) and not isinstance(s, JiraSource)
    ]
    return replace(
        plan,
        moves=plan_moves(plan.ranking, orders, rules),
        warnings=plan.warnings + tuple(unordered),
    )


async def date_reads(
    config: PriosyncConfig,
    reads: Reads,
    connectors: Mapping[str, Connector],
    *,
    state: InputState | None,
    now: datetime,
    some: bool = False,
) -> Reads:
    """With ``[scoring.freshness]``, the reads with every item's inputs dated
    (``sync.freshness``; ``some``: a few items of each source, as a rescore re-reads); a
    source whose history could not be read becomes a read failure."""
    if config.scoring.freshness is None:
        return reads
    dated = await date_inputs(reads.items, connectors, state=state, now=now, some=some)
    failures = [SourceFailure(source, error) for source, error in dated.failures.items()]
    return Reads(items=dated.items, failures=[*reads.failures, *failures])


def settle_earlier_writes(audit: AuditLog, reads: Reads, rules: PlanRules) -> int:
    """Resolve the unknown outcomes of earlier runs' writes from items just read; how many.

    Runs whose process died are marked ``crashed`` first, so their writes count as earlier.
    """
    audit.mark_dead_runs()
    pending = audit.pending(sources=list(reads.items))
    if not pending:
        return 0
    items = {(i.source, i.key): i for found in reads.items.values() for i in found}
    resolved = resolve_outcomes(pending, items, rules)
    if rules.reorder:
        orders = {name: [i.key for i in found] for name, found in reads.items.items()}
        resolved += resolve_moves(pending, orders)
    for record, status in resolved:
        audit.resolve(record, status)
    return len(resolved)


@dataclass
class SyncOutcome:
    plan: Plan
    reads: Reads
    report: WriteReport | None = None
    run_id: int | None = None
    #: How the writes went; None when nothing was to be written (a plan, a dry run).
    outcome: Outcome | None = None
    #: Where items stood after the last sync before this run (None: none recorded).
    baseline: Standings | None = None
    #: How each source was read, when a state store made incremental reads possible.
    read_modes: list[ReadMode] = field(default_factory=list)


#: How a run ended, the same words for a sync, a webhook rescore and a revert. The audit log
#: also knows ``crashed``: a run whose process died (found by a later run).
Outcome = Literal["ok", "partial", "some-writes-failed", "read-failed", "interrupted"]


@dataclass(frozen=True, slots=True)
class RunStart:
    """What the audit log keeps about who ran: the command, the config, the sources."""

    command: str
    config_sha256: str
    sources: Sequence[str]


@dataclass
class Applied:
    """One applied plan: its audit run (None without an audit log), the report, the outcome."""

    run_id: int | None
    report: WriteReport
    outcome: Outcome


async def apply_and_record(
    changes: Sequence[Change],
    connectors: Mapping[str, Connector],
    *,
    audit: AuditLog | None,
    run: RunStart,
    max_writes: int | None = None,
    held: WritesHeldBack | None = None,
    read_failures: int = 0,
    counts: Mapping[str, int] | None = None,
    record_when_empty: bool = True,
    on_result: Callable[[WriteResult], None] | None = None,
    stop: asyncio.Event | None = None,
    moves: Sequence[Move] = (),
    on_move: Callable[[MoveResult], None] | None = None,
) -> Applied:
    """Apply ``changes`` and ``moves`` and record the run: the one place a plan is written
    and audited.

    ``sync``, the service's webhook rescores and ``revert`` all come here. A run is opened in
    the audit log before the first write and closed with its counts and outcome; ``held``
    (writing would be wrong) writes nothing and leaves every change for the next run.
    ``record_when_empty`` False opens no run for an empty plan (a webhook that changed
    nothing is no run worth keeping).
    """
    run_id = None
    if audit is not None and (changes or moves or record_when_empty):
        run_id = audit.start_run(
            command=run.command, config_sha256=run.config_sha256, sources=list(run.sources)
        )
    if held is not None:
        report = WriteReport(
            left=list(changes), moves_left=list(moves), stopped={"all sources": held}
        )
    else:
        report = await apply_plan(
            Plan(changes=tuple(changes), moves=tuple(moves)),
            connectors,
            audit=audit,
            run_id=run_id,
            max_writes=max_writes,
            on_result=on_result,
            stop=stop,
            on_move=on_move,
        )
    outcome = outcome_of(report, read_failures=read_failures)
    if audit is not None and run_id is not None:
        move_counts = (
            {
                "moves": len(moves),
                "moved": len(report.moved),
                "move_failed": len(report.move_failed),
                "moves_left": len(report.moves_left),
                "move_requests": report.move_requests,
            }
            if moves
            else {}
        )
        audit.finish_run(
            run_id,
            counts={
                "changes": len(changes),
                "written": len(report.written),
                "failed": len(report.failed),
                "left": len(report.left),
                **move_counts,
                **(counts or {}),
            },
            outcome=outcome,
        )
    return Applied(run_id=run_id, report=report, outcome=outcome)


async def run_sync(
    loaded: LoadedConfig,
    *,
    only: Sequence[str] = (),
    write: bool = False,
    max_writes: int | None = None,
    audit: AuditLog | None = None,
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    on_result: Callable[[WriteResult], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    stop: asyncio.Event | None = None,
    command: str = "sync",
    standings: StandingsFile | None = None,
    on_move: Callable[[MoveResult], None] | None = None,
    state: InputState | None = None,
    now: datetime | None = None,
    with_baseline: bool = True,
    full: bool = False,
    clock: Callable[[], float] = time.time,
) -> SyncOutcome:
    """Read, rank and plan every selected source; with ``write``, apply and record the plan.

    With ``standings``, the last sync's standings come back as the outcome's ``baseline``
    (what the report compares with; not read when ``with_baseline`` is off), and a writing
    run records its own afterwards.

    With ``ranking = "global"`` every source is read, because each item's rank depends on
    all of them, but only the selected sources are planned and written. Writes an earlier
    run left with an unknown outcome are resolved from what this run read. ``stop`` (set by
    a signal) ends the writes early and cleanly (``sync.writer``). ``command`` is how the
    audit log names the run. ``state`` keeps what was seen of items' inputs for
    ``[scoring.freshness]`` (default: the audit log's store, when there is one); ``now`` is the
    time freshness is judged at (default: the clock). With a state store (``audit``) and
    ``[sync] incremental``, sources are read incrementally where they can be
    (``sync.incremental``; ``full`` reads them all in full), and the snapshot is kept up to
    date with what this run wrote.
    """
    config = loaded.config
    at = now or datetime.now(UTC)
    own_state = (
        AuditInputState(audit)
        if state is None and audit is not None and config.scoring.freshness is not None
        else None
    )
    sources = select_sources(config, only)
    selected = {s.name for s in sources}
    read_from = list(config.sources) if config.scoring.ranking == "global" else sources
    connectors = {
        s.name: open_connector(s, config, environ=environ, transport=(transports or {}).get(s.name))
        for s in read_from
    }
    try:
        modes: list[ReadMode] = []
        if audit is not None and config.sync.incremental:
            from sync.incremental import read_incrementally

            raw, modes = await read_incrementally(connectors, config, audit, full=full, clock=clock)
        else:
            raw = await read_all(list(connectors.values()))
        reads = name_config_keys(raw, config)
        reads = await date_reads(config, reads, connectors, state=state or own_state, now=at)
        if audit is not None:
            settle_earlier_writes(audit, reads, rules_of(config))
        plan = for_sources(plan_reads(config, reads, now=at), selected)
        baseline = standings.latest() if standings is not None and with_baseline else None
        if on_plan is not None:
            on_plan(plan)
        if not write:
            return SyncOutcome(plan=plan, reads=reads, baseline=baseline, read_modes=modes)
        applied = await apply_and_record(
            plan.changes,
            connectors,
            audit=audit,
            run=RunStart(command, loaded.sha256, sorted(selected)),
            max_writes=max_writes,
            held=held_back(config, reads),
            read_failures=len(reads.failures),
            counts={
                "unchanged": plan.unchanged,
                "skipped": len(plan.skipped),
                "read_failures": len(reads.failures),
                # which runs read incrementally, for history: issues read in full, and the
                # sources that were read from their snapshot
                **(
                    {
                        "read_in_full": sum(m.fetched for m in modes),
                        "incremental_sources": sum(m.incremental for m in modes),
                    }
                    if modes
                    else {}
                ),
            },
            on_result=on_result,
            stop=stop,
            moves=plan.moves,
            on_move=on_move,
        )
        if standings is not None:
            read = selected & set(reads.items)
            standings.record(plan.ranking, at=_utc_now(), sources=read, run_id=applied.run_id)
        if modes and audit is not None and applied.report.written:
            from sync.incremental import snapshot_sources, store_landed

            store_landed(audit, reads, applied.report.written, snapshot_sources(modes))
        return SyncOutcome(
            plan=plan,
            reads=reads,
            report=applied.report,
            run_id=applied.run_id,
            outcome=applied.outcome,
            baseline=baseline,
            read_modes=modes,
        )
    finally:
        if own_state is not None:
            own_state.close()
        await asyncio.gather(*(c.aclose() for c in connectors.values()))


async def resolve_pending_writes(
    loaded: LoadedConfig,
    audit: AuditLog,
    *,
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> int:
    """Read the items whose writes have an unknown outcome and settle them; how many.

    For ``history``: a sync resolves them from its own read, for free.
    """
    audit.mark_dead_runs()
    config = loaded.config
    pending = audit.pending(sources=[s.name for s in config.sources])
    if not pending:
        return 0
    names = sorted({w.source for w in pending})
    connectors = {
        s.name: open_connector(s, config, environ=environ, transport=(transports or {}).get(s.name))
        for s in select_sources(config, names)
    }
    try:
        items: dict[tuple[str, str], WorkItem] = {}
        for name, connector in connectors.items():
            keys = sorted({w.item for w in pending if w.source == name})
            items.update({(name, i.key): i for i in await connector.read_items(keys)})
    finally:
        await asyncio.gather(*(c.aclose() for c in connectors.values()))
    resolved = resolve_outcomes(pending, items, rules_of(config))
    for record, status in resolved:
        audit.resolve(record, status)
    return len(resolved)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def for_sources(plan: Plan, names: Collection[str]) -> Plan:
    """The plan restricted to the named sources; ranks stay as the full ranking set them."""
    if all(r.item.source in names for r in plan.ranking):
        return plan
    changes = tuple(c for c in plan.changes if c.source in names)
    ranking = tuple(r for r in plan.ranking if r.item.source in names)
    return Plan(
        changes=changes,
        unchanged=len(ranking) - len(changes),
        skipped=tuple(s for s in plan.skipped if s.source in names),
        ranking=ranking,
        warnings=plan.warnings,
        moves=tuple(m for m in plan.moves if m.source in names),
    )


def held_back(config: PriosyncConfig, reads: Reads) -> WritesHeldBack | None:
    """Why nothing may be written from these reads, or None.

    A global ranking missing a source would give every other item a wrong rank, tier and
    bucket, so one unreadable source holds back every write.
    """
    if config.scoring.ranking == "global" and reads.failures:
        names = ", ".join(f.source for f in reads.failures)
        return WritesHeldBack(
            f"the global ranking needs every source and {names} could not be read; "
            "nothing was written"
        )
    return None


def outcome_of(report: WriteReport, *, read_failures: int = 0) -> Outcome:
    """The run's outcome word: reads failing outrank writes failing outrank a budget."""
    if read_failures:
        return "read-failed"
    if report.interrupted:
        return "interrupted"
    if report.failed or report.move_failed or report.stopped:
        return "some-writes-failed"
    if report.left or report.moves_left:
        return "partial"
    return "ok"


def settle_reads(reads: Reads, written: Sequence[Change], moved: Sequence[Move] = ()) -> Reads:
    """The snapshot as the trackers hold it after ``written`` and ``moved`` landed.

    The service keeps the last full read in memory and replans from it when a webhook names
    an item; folding each landed change and move back in means the next plan starts from
    the truth and never writes the same value, or moves the same item, twice. Labels a
    person set are kept.
    """
    landed = {(c.source, c.key): c for c in written}
    items: dict[str, list[WorkItem]] = {}
    for source, source_items in reads.items.items():
        updated = []
        for item in source_items:
            change = landed.get((source, item.key))
            if change is not None:
                item = replace(item, current=landed_outputs(item.current, change))
            updated.append(item)
        moves = [m for m in moved if m.source == source]
        items[source] = with_landed_moves(updated, moves) if moves else updated
    return Reads(items=items, failures=list(reads.failures))


def landed_outputs(now: Outputs, change: Change) -> Outputs:
    """What an item holds once ``change`` landed: the owned values it wrote, the person's
    labels, and fields priosync does not own (None on both sides of a change) as they were."""
    values = {
        name: getattr(change.after, name)
        if getattr(change.before, name) is not None or getattr(change.after, name) is not None
        else getattr(now, name)
        for name in ("score", "priority", "explanation", "rank")
    }
    human = now.labels - change.before.labels
    return Outputs(labels=shared_labels(human | change.after.labels), **values)


def replace_items(
    reads: Reads, source: str, fresh: Sequence[WorkItem], asked: Sequence[str]
) -> Reads:
    """Swap re-read items into the snapshot; asked-for keys the source no longer returns
    (closed, moved out of the JQL) leave it."""
    by_key = {i.key: i for i in fresh}
    gone = set(asked) - set(by_key)
    kept = [by_key.pop(i.key, i) for i in reads.items.get(source, []) if i.key not in gone]
    items = dict(reads.items)
    items[source] = kept + list(by_key.values())
    return Reads(items=items, failures=list(reads.failures))
