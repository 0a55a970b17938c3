"""Date each item's inputs for ``[scoring.freshness]``: the tracker's record, else priosync's.

Between reading and scoring, every item gets ``WorkItem.inputs_changed``:

1. a date the read itself carried (GitHub Projects' field values' ``updatedAt``, a file's
   date column);
2. else, from a connector that keeps history (``InputHistory``: Jira's changelog), the last
   change to an input field — read only for items whose input values differ from what the
   state cached with that date (or that have none cached), so a sync re-reads history only
   for items whose inputs changed. The item's ``updated`` time is deliberately not the cache
   key: it moves with every comment, transition and priosync's own writes, so keying on it
   re-read the history of every item priosync wrote (+91 % of a plain Data Center sync's
   requests after a first sync, bench/freshness.py). The price: an input changed and changed
   back between two syncs keeps its older date;
3. else the first time priosync saw these input values, kept in the state (``first-seen``:
   the inputs are at least that old, and the explanation says so).

A failed history read fails that source's read, as any other read failure does: a stale label
must not come off because the history was out of reach. Without a state (``plan`` on a fresh
machine) nothing is cached and first sightings are not kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from connectors.base import Connector, InputHistory
from priosync.domain import InputsChanged, WorkItem
from priosync.errors import TrackerError
from scoring import METRIC_INPUT
from sync.input_state import InputState, Sighting

__all__ = ["Dated", "DatingCounts", "date_inputs", "inputs_digest"]

log = logging.getLogger("priosync.freshness")


@dataclass
class DatingCounts:
    """Where one run's input dates came from, per source (logged, and kept for benches)."""

    from_read: int = 0
    cached: int = 0
    from_history: int = 0
    first_seen: int = 0
    #: Items whose history was asked for (``from_history`` are those it could date).
    asked: int = 0

    def line(self) -> str:
        return (
            f"{self.from_read} from the read, {self.cached} cached, {self.from_history} from "
            f"history ({self.asked} asked), {self.first_seen} first seen by priosync"
        )


@dataclass
class Dated:
    """Each source's items with dated inputs, the sources whose history failed, the counts."""

    items: dict[str, list[WorkItem]] = field(default_factory=dict)
    failures: dict[str, TrackerError] = field(default_factory=dict)
    counts: dict[str, DatingCounts] = field(default_factory=dict)


def inputs_digest(item: WorkItem) -> str:
    """A digest of the item's model inputs as read (the key metric is not an input)."""
    values = {k: v for k, v in item.inputs.items() if k != METRIC_INPUT}
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


async def date_inputs(
    items: Mapping[str, Sequence[WorkItem]],
    connectors: Mapping[str, Connector],
    *,
    state: InputState | None,
    now: datetime,
    some: bool = False,
) -> Dated:
    """Every source's items with ``inputs_changed`` set (module rules). ``some``: the items
    are a few of their sources' (a rescore's), so only their sightings are loaded."""
    dated = Dated()
    for source, found in items.items():
        try:
            dated.items[source], counts = await _date_source(
                source, found, connectors.get(source), state=state, now=now, some=some
            )
        except TrackerError as exc:
            dated.failures[source] = exc
            continue
        dated.counts[source] = counts
        log.info("%s: inputs dated: %s", source, counts.line())
    return dated


async def _date_source(
    source: str,
    items: Sequence[WorkItem],
    connector: Connector | None,
    *,
    state: InputState | None,
    now: datetime,
    some: bool,
) -> tuple[list[WorkItem], DatingCounts]:
    wanted = [item.key for item in items] if some else None
    kept = state.sightings(source, wanted) if state is not None else {}
    digests = {item.key: inputs_digest(item) for item in items}
    history = connector if isinstance(connector, InputHistory) else None
    counts = DatingCounts()
    items = [_undated(item) for item in items]
    need = [
        item
        for item in items
        if item.inputs_changed is None
        and history is not None
        and not _cached(kept.get(item.key), digests[item.key])
    ]
    asked = {item.key for item in need}
    dates: dict[str, datetime] = {}
    if history is not None and need:
        dates = await history.inputs_changed(need)
    counts.asked = len(need)
    dated: list[WorkItem] = []
    seen: list[Sighting] = []
    for item in items:
        before = kept.get(item.key)
        digest = digests[item.key]
        first_seen = before.first_seen if before is not None and before.digest == digest else now
        tracker_at: datetime | None
        if item.inputs_changed is not None:
            tracker_at = item.inputs_changed.at
            counts.from_read += 1
        elif item.key in asked:
            tracker_at = dates.get(item.key)
            counts.from_history += tracker_at is not None
        else:
            tracker_at = before.changed_at if before is not None and history is not None else None
            counts.cached += tracker_at is not None
        if tracker_at is None:
            counts.first_seen += 1
            changed = InputsChanged(first_seen, "first-seen")
        else:
            changed = InputsChanged(tracker_at)
        # A new row only when what dating uses moved: an ``updated`` alone (a comment, or
        # priosync's own write) would rewrite every written item's row on the next sync.
        if before is None or (before.digest, before.first_seen, before.changed_at) != (
            digest,
            first_seen,
            tracker_at,
        ):
            seen.append(Sighting(item.key, digest, first_seen, item.updated_at, tracker_at))
        dated.append(replace(item, inputs_changed=changed))
    if state is not None:
        state.record(source, seen)
    return dated, counts


def _undated(item: WorkItem) -> WorkItem:
    """The item without a first-seen date an earlier dating gave it (only a read's own
    date is the tracker's)."""
    changed = item.inputs_changed
    if changed is not None and changed.basis == "first-seen":
        return replace(item, inputs_changed=None)
    return item


def _cached(before: Sighting | None, digest: str) -> bool:
    """Whether the cached history date still holds: the inputs read as they were then."""
    return before is not None and before.changed_at is not None and before.digest == digest
