"""Apply a plan: each source's connector writes with its own pacing; we budget and record.

The ``--max-writes`` budget takes changes in plan order (the ranking's order), so an
interrupted job always lands the top of the backlog first and the next run finishes it.
A failed item is recorded and the rest go on; a refusal that would fail every item
(``AuthFailed``) stops that source at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors.base import Connector
from priosync.domain import Change, Plan, WriteResult
from priosync.errors import PriosyncError
from sync.audit import AuditLog


@dataclass
class WriteReport:
    written: list[Change] = field(default_factory=list)
    failed: list[WriteResult] = field(default_factory=list)
    #: Changes not attempted: over the budget, read-only sources, or a source that stopped.
    left: list[Change] = field(default_factory=list)
    #: Why a source stopped writing early (e.g. the notify permission), by source.
    stopped: dict[str, PriosyncError] = field(default_factory=dict)


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
) -> WriteReport:
    """Write the plan's changes source by source, concurrently across sources."""
    report = WriteReport()
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
        if audit is not None and run_id is not None:
            audit.record_write(
                run_id,
                result.change,
                error=None if result.error is None else str(result.error),
            )
        if on_result is not None:
            on_result(result)

    async def write_source(name: str, changes: list[Change]) -> None:
        done: set[str] = set()
        try:
            async for result in connectors[name].apply(changes):
                done.add(result.change.key)
                settle(result)
        except PriosyncError as exc:
            # AuthFailed (every item would be refused) or the tracker went away: stop this
            # source, keep what landed, and leave the rest for the next run.
            report.stopped[name] = exc
            report.left.extend(c for c in changes if c.key not in done)

    await asyncio.gather(*(write_source(n, cs) for n, cs in by_source.items()))
    return report
