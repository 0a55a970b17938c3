"""Undo one run: write back what it replaced, only where its value still stands.

``plan_revert`` is pure: given the run's recorded writes and the items as the tracker holds
them now, it returns the changes that restore the old values and the conflicts — fields a
person (or a later run) has changed since, which revert must not overwrite. ``revert_run``
re-reads the items and applies that plan through the pipeline like any other run. The
run's moves are undone by ``sync.revert_order`` from the sources' whole order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from config.loading import LoadedConfig
from connectors.base import Reorders
from priosync.domain import Change, Move, WorkItem
from priosync.errors import ConfigError
from sync.audit import POSITION, AuditLog, RunRecord, WriteRecord, outputs_with
from sync.outcomes import resolve_moves, resolve_outcomes
from sync.pipeline import (
    Applied,
    RunStart,
    apply_and_record,
    open_connector,
    rules_of,
    select_sources,
)
from sync.plan import PlanRules, owned_now
from sync.revert_order import Unmovable, plan_unmoves


@dataclass(frozen=True, slots=True)
class Conflict:
    key: str
    field: str
    expected: Any
    found: Any

    def describe(self) -> str:
        if self.field == "item":
            return f"{self.key}: no longer in the source; skipped"
        return (
            f"{self.key}: {self.field} is now {self.found!r}, not {self.expected!r} as the run "
            "wrote; someone changed it since, so it is left alone"
        )


def plan_revert(
    run_id: int,
    writes: Sequence[WriteRecord],
    items: Mapping[str, WorkItem],
    rules: PlanRules,
) -> tuple[list[Change], list[Conflict]]:
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    by_item: dict[str, list[WriteRecord]] = {}
    for w in writes:
        if w.status == "ok" and w.field != POSITION:  # moves: ``sync.revert_order``
            by_item.setdefault(w.item, []).append(w)
    for key, records in by_item.items():
        item = items.get(key)
        if item is None:
            conflicts.append(Conflict(key=key, field="item", expected=None, found=None))
            continue
        now = owned_now(item, rules)
        restore: dict[str, Any] = {}
        for w in records:
            found = getattr(now, w.field)
            found = sorted(found) if w.field == "labels" else found
            if found == w.new:
                restore[w.field] = w.old
            else:
                conflicts.append(Conflict(key=key, field=w.field, expected=w.new, found=found))
        after = outputs_with(now, restore)
        if after != now:
            changes.append(
                Change(
                    key=key,
                    source=records[0].source,
                    url=records[0].url,
                    before=now,
                    after=after,
                    reason=f"revert run {run_id}",
                    item=item,
                )
            )
    return changes, conflicts


@dataclass
class Reverted:
    """What ``revert_run`` found and did.

    ``applied`` is None when nothing was written: a dry run, a refused confirmation, or a
    run that an earlier revert already undid (``already_reverted_by``).
    """

    run: RunRecord
    changes: list[Change]
    conflicts: list[Conflict]
    applied: Applied | None = None
    already_reverted_by: RunRecord | None = None
    #: Writes of the run whose outcome was unknown and was resolved from this read.
    resolved: int = 0
    #: Moves that put the run's moved items back, and the moves it cannot undo.
    moves: list[Move] = field(default_factory=list)
    unmovable: list[Unmovable] = field(default_factory=list)


async def revert_run(
    loaded: LoadedConfig,
    audit: AuditLog,
    run_id: int,
    *,
    confirm: Callable[[Reverted], bool] | None = None,
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Reverted:
    """Re-read the items a run wrote and restore old values where the run's value still stands.

    Writes of the run whose outcome is unknown (it crashed or was interrupted) are resolved
    from the same read first, so a write that landed is undone and one that did not is
    left alone. ``confirm`` sees the plan before anything is written and may refuse it
    (``--dry-run``, or a person answering no).
    """
    record = audit.run(run_id)
    if record is None:
        raise ConfigError(f"there is no run {run_id} in the audit log {audit.location}", key="RUN")
    audit.mark_dead_runs()
    record = audit.run(run_id) or record
    earlier = [r for r in audit.reverts_of(run_id) if r.outcome == "ok"]
    if earlier:
        return Reverted(record, [], [], already_reverted_by=earlier[-1])
    config = loaded.config
    rules = rules_of(config)
    writes = audit.writes(run_id=run_id)
    sources = select_sources(config, sorted({w.source for w in writes}))
    connectors = {
        s.name: open_connector(s, config, environ=environ, transport=(transports or {}).get(s.name))
        for s in sources
    }
    try:
        items: dict[tuple[str, str], WorkItem] = {}
        orders: dict[str, list[WorkItem]] = {}
        moved = {w.source for w in writes if w.field == POSITION}
        for name, connector in connectors.items():
            keys = sorted({w.item for w in writes if w.source == name})
            if name in moved and isinstance(connector, Reorders):
                # Putting items back needs the whole order, not just the items.
                orders[name] = await connector.read_order()
                wanted = set(keys)
                found = [i for i in orders[name] if i.key in wanted]
            else:
                found = await connector.read_items(keys)
            items.update({(name, i.key): i for i in found})
        pending = [w for w in writes if w.status == "pending"]
        resolved = resolve_outcomes(pending, items, rules)
        resolved += resolve_moves(pending, {n: [i.key for i in o] for n, o in orders.items()})
        for write, status in resolved:
            audit.resolve(write, status)
        writes = audit.writes(run_id=run_id)
        by_key = {key: item for (_, key), item in items.items()}
        changes, conflicts = plan_revert(run_id, writes, by_key, rules)
        moves, unmovable = plan_unmoves(run_id, writes, orders)
        reverted = Reverted(
            record, changes, conflicts, resolved=len(resolved), moves=moves, unmovable=unmovable
        )
        if confirm is not None and not confirm(reverted):
            return reverted
        reverted.applied = await apply_and_record(
            changes,
            connectors,
            audit=audit,
            run=RunStart(f"revert {run_id}", loaded.sha256, list(connectors)),
            counts={"conflicts": len(conflicts) + len(unmovable)},
            moves=moves,
        )
        return reverted
    finally:
        for connector in connectors.values():
            await connector.aclose()
