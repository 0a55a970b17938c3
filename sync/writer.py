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

Moves (``[outputs] reorder``) go after a source's field changes, the same way: recorded as
pending ``position`` rows first, handed over in chunks of whole requests (a chain of up to
50 moves), settled one by one. The budget counts a move request as one write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector, Reorders
from priosync.domain import Change, Move, MoveResult, Plan, WriteResult
from priosync.errors import PriosyncError
from scoring.order import MOVES_PER_REQUEST, group_moves
from sync.audit import AuditLog, Status

#: Changes handed to a connector at once. Small enough that a stop or a crash leaves little
#: in flight; large enough that the connector can keep its concurrency and batching busy
#: (8 Jira writes in flight, GitHub documents of up to 50 mutations).
CHUNK = 32
#: Moves handed to a connector at once, in whole requests: two full Jira rank calls or
#: GitHub documents; as many single-move requests when the chains are short.
MOVE_CHUNK = 100
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
    #: The same for moves (``[outputs] reorder``): landed, refused, and left (not attempted,
    #: or handed over with the outcome unknown).
    moved: list[Move] = field(default_factory=list)
    move_failed: list[MoveResult] = field(default_factory=list)
    moves_left: list[Move] = field(default_factory=list)
    #: Move requests handed over (a chain of up to ``MOVES_PER_REQUEST`` moves each).
    move_requests: int = 0


def split_budget(
    changes: Sequence[Change], max_writes: int | None
) -> tuple[list[Change], list[Change]]:
    """The changes to write now and the ones left for the next run."""
    if max_writes is None:
        return list(changes), []
    return list(changes[:max_writes]), list(changes[max_writes:])


def can_move(connector: Connector) -> bool:
    return connector.writable and isinstance(connector, Reorders)


def split_move_budget(
    moves: Sequence[Move], budget: int | None
) -> tuple[list[list[Move]], list[Move]]:
    """The move requests to send now (``budget`` of them) and the moves left for later.

    The budget takes whole requests in plan order: a request that continues a chain split
    by the cap always comes after the part it continues, so no request is sent whose anchor
    a request left behind was to place."""
    groups = group_moves(moves, MOVES_PER_REQUEST)
    if budget is None:
        return groups, []
    return groups[:budget], [m for g in groups[budget:] for m in g]


def chunk_requests(requests: Sequence[list[Move]], size: int) -> list[list[list[Move]]]:
    """Consecutive requests in chunks of at most ``size`` moves (at least one request)."""
    chunks: list[list[list[Move]]] = []
    held = 0
    for request in requests:
        if not chunks or held + len(request) > size:
            chunks.append([])
            held = 0
        chunks[-1].append(request)
        held += len(request)
    return chunks


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
    on_move: Callable[[MoveResult], None] | None = None,
    moves_per_chunk: int = MOVE_CHUNK,
) -> WriteReport:
    """Write the plan's changes, then its moves, source by source, concurrently across
    sources. ``max_writes`` counts a change and a move request alike, changes first."""
    report = WriteReport()
    journal = Journal(audit, run_id) if audit is not None and run_id is not None else None
    writable = [c for c in plan.changes if connectors[c.source].writable]
    report.left.extend(c for c in plan.changes if not connectors[c.source].writable)
    now, later = split_budget(writable, max_writes)
    report.left.extend(later)
    by_source: dict[str, list[Change]] = {}
    for change in now:
        by_source.setdefault(change.source, []).append(change)
    movable = [m for m in plan.moves if can_move(connectors[m.source])]
    report.moves_left.extend(m for m in plan.moves if not can_move(connectors[m.source]))
    move_budget = None if max_writes is None else max(0, max_writes - len(now))
    requests, moves_later = split_move_budget(movable, move_budget)
    report.moves_left.extend(moves_later)
    moves_by_source: dict[str, list[list[Move]]] = {}
    for request in requests:
        moves_by_source.setdefault(request[0].source, []).append(request)

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

    def settle_move(result: MoveResult) -> None:
        if result.ok:
            report.moved.append(result.move)
        else:
            report.move_failed.append(result)
        if journal is not None:
            journal.settle_move(
                result.move,
                status="ok" if result.ok else "failed",
                error=None if result.error is None else str(result.error),
            )
        if on_move is not None:
            on_move(result)

    async def move_chunk(connector: Reorders, moves: list[Move], settled: set[str]) -> None:
        async for result in connector.apply_moves(moves):
            settled.add(result.move.key)
            settle_move(result)

    async def move_source(name: str, requests: list[list[Move]]) -> None:
        # After the source's changes, a chunk of requests at a time, like changes: recorded
        # as pending first, drained on a stop.
        connector = connectors[name]
        assert isinstance(connector, Reorders)
        moves = [m for r in requests for m in r]
        settled: set[str] = set()
        handed = 0
        try:
            for sending in chunk_requests(requests, moves_per_chunk):
                if name in report.stopped:
                    break
                if stop is not None and stop.is_set():
                    report.interrupted = True
                    break
                part = [m for r in sending for m in r]
                if journal is not None:
                    journal.intend_moves(part)
                handed += len(part)
                report.move_requests += len(sending)
                if not await finish_or_drain(
                    move_chunk(connector, part, settled), stop, drain_timeout_s
                ):
                    report.interrupted = True
                    break
        except PriosyncError as exc:
            report.stopped[name] = exc
        report.moves_left.extend(m for m in moves[:handed] if m.key not in settled)
        report.moves_left.extend(moves[handed:])

    async def write_then_move(name: str) -> None:
        if by_source.get(name):
            await write_source(name, by_source[name])
        if moves_by_source.get(name):
            await move_source(name, moves_by_source[name])

    names = list(dict.fromkeys([*by_source, *moves_by_source]))
    await asyncio.gather(*(write_then_move(n) for n in names))
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

    def intend_moves(self, moves: Sequence[Move]) -> None:
        self.audit.record_move_intents(self.run_id, moves)

    def settle_move(self, move: Move, *, status: Status, error: str | None) -> None:
        self.audit.settle_move(self.run_id, move, status=status, error=error)


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
