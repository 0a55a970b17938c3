"""Plan the undo of one run: write back what it replaced, only where its value still stands.

Pure: given the run's recorded writes and the items as the tracker holds them now, return
the changes that restore the old values and the conflicts — fields a person (or a later
run) has changed since, which revert must not overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from priosync.domain import Change, WorkItem
from sync.audit import WriteRecord, outputs_with
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
