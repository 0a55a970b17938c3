"""Undo one run: write back what it replaced, only where its value still stands.

``plan_revert`` is pure: given the run's recorded writes and the items as the tracker holds
them now, it returns the changes that restore the old values and the conflicts — fields a
person (or a later run) has changed since, which revert must not overwrite. ``revert_run``
re-reads the items and applies that plan through the pipeline like any other run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from config.loading import LoadedConfig
from priosync.domain import Change, WorkItem
from priosync.errors import ConfigError
from sync.audit import AuditLog, WriteRecord, outputs_with
from sync.pipeline import Applied, RunRecord, apply_and_record, open_connector, select_sources
from sync.plan import PlanRules, owned_now


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
        if w.status == "ok":
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
    """What ``revert_run`` did: the run it undid, the new run's outcome, what it left alone."""

    run_id: int
    applied: Applied
    conflicts: list[Conflict]


async def revert_run(
    loaded: LoadedConfig,
    audit: AuditLog,
    run_id: int,
    *,
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Reverted:
    """Re-read the items a run wrote and restore old values where the run's value still stands."""
    if audit.run(run_id) is None:
        raise ConfigError(f"there is no run {run_id} in the audit log {audit.path}", key="RUN")
    writes = audit.writes(run_id=run_id)
    config = loaded.config
    rules = PlanRules.from_config(config.outputs, decimals=config.scoring.decimals)
    sources = select_sources(config, sorted({w.source for w in writes}))
    connectors = {
        s.name: open_connector(s, config, environ=environ, transport=(transports or {}).get(s.name))
        for s in sources
    }
    try:
        items: dict[str, WorkItem] = {}
        for name, connector in connectors.items():
            keys = sorted({w.item for w in writes if w.source == name})
            items.update({i.key: i for i in await connector.read_items(keys)})
        changes, conflicts = plan_revert(run_id, writes, items, rules)
        applied = await apply_and_record(
            changes,
            connectors,
            audit=audit,
            run=RunRecord(f"revert {run_id}", loaded.sha256, list(connectors)),
            counts={"conflicts": len(conflicts)},
        )
    finally:
        for connector in connectors.values():
            await connector.aclose()
    return Reverted(run_id=run_id, applied=applied, conflicts=conflicts)
