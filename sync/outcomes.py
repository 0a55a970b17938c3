"""Resolve writes whose outcome is unknown by looking at what the tracker holds now (pure).

A write is recorded as ``pending`` before it is sent. If the process dies (SIGKILL, a power
cut, a drain that timed out) before the answer came back, the row stays pending. Whoever
reads that item next — a later sync, ``history``, ``revert`` — can tell what happened:

- the tracker holds the value the write sent → it landed (``ok``);
- it holds the value the write replaced → it never landed (``not-sent``);
- it holds something else → a person (or another run) changed it since; whether the write
  landed first cannot be told (``unknown``), and revert leaves the field alone.

A move (``[outputs] reorder``) is told the same way from the source's order as read: the
item next to the neighbour the move named, next to the one it had, or neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from priosync.domain import WorkItem
from scoring import round_half_up
from scoring.order import Order
from sync.audit import POSITION, Status, WriteRecord, place_from
from sync.plan import PlanRules, owned_now


def resolve_outcomes(
    pending: Sequence[WriteRecord],
    items: Mapping[tuple[str, str], WorkItem],
    rules: PlanRules,
) -> list[tuple[WriteRecord, Status]]:
    """The outcome of each pending write whose item was read; items not read stay pending."""
    resolved: list[tuple[WriteRecord, Status]] = []
    for record in pending:
        if record.field == POSITION:
            continue  # told from the order, not the item: ``resolve_moves``
        item = items.get((record.source, record.item))
        if item is None:
            continue
        held = held_value(item, record.field, rules)
        if held == normalised(record.field, record.new, rules):
            resolved.append((record, "ok"))
        elif held == normalised(record.field, record.old, rules):
            resolved.append((record, "not-sent"))
        else:
            resolved.append((record, "unknown"))
    return resolved


def held_value(item: WorkItem, field: str, rules: PlanRules) -> Any:
    """What the item holds for an owned field, in the form the audit log records it."""
    value = getattr(owned_now(item, rules), field)
    return sorted(value) if field == "labels" else value


def normalised(field: str, value: Any, rules: PlanRules) -> Any:
    """A recorded value compared the way the planner compares: scores rounded, labels sorted."""
    if field == "score" and isinstance(value, int | float) and not isinstance(value, bool):
        return round_half_up(float(value), rules.decimals)
    if field == "labels" and isinstance(value, list):
        return sorted(value)
    return value


def resolve_moves(
    pending: Sequence[WriteRecord], orders: Mapping[str, Iterable[str]]
) -> list[tuple[WriteRecord, Status]]:
    """The outcome of each pending move of a source whose whole order was read (keys, top
    first): ``ok`` when the item sits where the move put it, ``not-sent`` when it sits where
    it was, else ``unknown`` (a later move or a person changed its neighbours since)."""
    known = {source: Order(keys) for source, keys in orders.items()}
    resolved: list[tuple[WriteRecord, Status]] = []
    for record in pending:
        order = known.get(record.source)
        to, was = place_from(record.new), place_from(record.old)
        if record.field != POSITION or order is None or record.item not in order:
            continue
        if to is not None and order.holds(record.item, to):
            resolved.append((record, "ok"))
        elif was is not None and order.holds(record.item, was):
            resolved.append((record, "not-sent"))
        else:
            resolved.append((record, "unknown"))
    return resolved
