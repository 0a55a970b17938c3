"""Apply a plan: each source's connector writes with its own pacing; we budget and record.

The ``--max-writes`` budget takes changes in plan order (the ranking's order), so an
interrupted job always lands the top of the backlog first and the next run finishes it.
A failed item is recorded and the rest go on; a refusal that would fail every item
(``AuthFailed``) stops that source at once.

Nothing is lost at a crash: changes go to the connector in chunks, and each chunk's writes
are recorded in the audit log as ``pending`` (with the exact value each replaces) before
the chunk is handed over; each outcome is recorded as it settles. After a crash the rows
still pending are resolved by a later run, which reads the items (``sync.outcomes``).
When ``stop`` is set (SIGTERM, Ctrl-C) no new chunk starts; the chunk in flight finishes,
within ``drain_timeout_s``, and everything after it is left for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector
from priosync.domain import Change, Plan, WriteResult
from priosync.errors import PriosyncError
from sync.audit import AuditLog, Status

#: Changes handed to a connector at once. Small enough that a stop or a crash leaves little
#: in flight; large enough that the connector can keep its concurrency and batching busy
#: (8 Jira writes in flight, GitHub documents of up to 50 mutations).
CHUNK = 32
#: How long the chunk in flight may take to finish after a stop was asked for.
DRAIN_TIMEOUT_S = 30.0


@dataclass
class WriteReport:
    written: list[Change] = field(default_factory=list)
    failed: list[WriteResult] = field(default_factory=list)
    #: Changes not attempted: over the budget, read-only sources, a source that stopped, or
    #: everything after a stop was asked for.
    left: list[Change] = field(default_factory=list)
    #: Why a source stopped writing early (e.g. the notify permission), by source.
    stopped: dict[str, PriosyncError] = field(default_factory=dict)
    #: A stop was asked for (a signal) before the plan was through.
    interrupted: bool = False
    #: Changes handed to a connector whose outcome is not known (a drain that timed out, a
    #: source that stopped mid-chunk): pending in the audit log, also counted in ``left``.
    unsettled: list[Change] = field(default_factory=list)


def split_budget(
    changes: Sequence[Change], max_writes: int | None
) -> tuple[list[Change], list[Change]]:
    """The changes to write now and the ones left for the next run."""
    if max_writes is None:
        return list(changes), []
    return list(changes[:max_writes]), list(changes[max_writes:])


async def apply_plan(
    plan: Plan,
    connectors: Mapping[str, Connector],
    *,
    audit: AuditLog | None,
    run_id: int | None,
    max_writes: int | None = None,
    on_result: Callable[[WriteResult], None] | None = None,
    stop: asyncio.Event | None = None,
    chunk: int = CHUNK,
    drain_timeout_s: float = DRAIN_TIMEOUT_S,
) -> WriteReport:
    """Write the plan's changes source by source, concurrently across sources."""
    report = WriteReport()
    journal = Journal(audit, run_id) if audit is not None and run_id is not None else None
    writable = [c for c in plan.changes if connectors[c.source].writable]
    report.left.extend(c for c in plan.changes if not connectors[c.source].writable)
    now, later = split_budget(writable, max_writes)
    report.left.extend(later)
    by_source: dict[str, list[Change]] = {}
    for change in now:
        by_source.setdefault(change.source, []).append(change)

    def settle(result: WriteResult) -> None:
        if result.ok:
            report.written.append(result.change)
        else:
            report.failed.append(result)
        if journal is not None:
            journal.settle(
                result.change,
                status="ok" if result.ok else "failed",
                error=None if result.error is None else str(result.error),
            )
        if on_result is not None:
            on_result(result)

    async def write_chunk(name: str, changes: list[Change], settled: set[str]) -> None:
        async for result in connectors[name].apply(changes):
            settled.add(result.change.key)
            settle(result)

    async def write_source(name: str, changes: list[Change]) -> None:
        settled: set[str] = set()
        handed = 0
        try:
            for start in range(0, len(changes), chunk):
                if stop is not None and stop.is_set():
                    report.interrupted = True
                    break
                part = changes[start : start + chunk]
                if journal is not None:
                    journal.intend(part)
                handed = start + len(part)
                if not await finish_or_drain(
                    write_chunk(name, part, settled), stop, drain_timeout_s
                ):
                    report.interrupted = True
                    break
        except PriosyncError as exc:
            # AuthFailed (every item would be refused) or the tracker went away: stop this
            # source, keep what landed, and leave the rest for the next run.
            report.stopped[name] = exc
        # Handed over but not settled: sent or not, nobody can say yet. Their rows stay
        # pending until a later read tells (the next run plans them again either way).
        report.unsettled.extend(c for c in changes[:handed] if c.key not in settled)
        report.left.extend(c for c in changes[:handed] if c.key not in settled)
        report.left.extend(changes[handed:])

    await asyncio.gather(*(write_source(n, cs) for n, cs in by_source.items()))
    return report


@dataclass(frozen=True, slots=True)
class Journal:
    """One run's side of the audit log: intents before sending, outcomes as they settle."""

    audit: AuditLog
    run_id: int

    def intend(self, changes: Sequence[Change]) -> None:
        self.audit.record_intents(self.run_id, changes)

    def settle(self, change: Change, *, status: Status, error: str | None) -> None:
        self.audit.settle(self.run_id, change, status=status, error=error)


async def finish_or_drain(
    work: Coroutine[Any, Any, None], stop: asyncio.Event | None, drain_timeout_s: float
) -> bool:
    """Run ``work`` (a coroutine) to the end; once ``stop`` is set, give it ``drain_timeout_s``
    more. False when it had to be cancelled (what it was writing has an unknown outcome)."""
    task = asyncio.ensure_future(work)
    if stop is None:
        await task
        return True
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.wait({task}, timeout=drain_timeout_s)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        task.result()  # re-raise what the chunk raised (AuthFailed stops the source)
        return True
    finally:
        stopping.cancel()
