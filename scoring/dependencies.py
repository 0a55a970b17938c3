"""Blockers come first: dependency-aware ranking (pure).

**Links.** An item's ``blocks`` and ``blocked_by`` name other items by key: A blocks B when A
lists B in ``blocks`` or B lists A in ``blocked_by`` (either side is enough). A link counts
only between two items of the same ranking, resolved by key — in the item's own source first,
then a key exactly one other source holds (``ranking = "global"``) — and only while neither
end is done (the item's own ``done``, or any link naming it done). A link of an item to itself
is ignored. Open blockers outside the ranking (another source, unscored, not read) are noted
on the item they block (``blocked_outside``), never ranked.

**Cycles.** Tarjan's strongly connected components (iterative: no recursion limit, linear
time) find every set of items that block each other, directly or through a chain. The links
inside a cycle are ignored for lifting; links into and out of it still count. Each item of a
cycle carries the cycle's keys, and :func:`cycle_warnings` reports each cycle once.

**Lifting.** The input is the plain ranking (score, then key). An item's *place* is the best
plain position among itself and every item it blocks, directly or through a chain. Items are
ordered by place; an item whose place is better than its own position is *lifted* to just
above the highest-ranked item it blocks. Items sharing a place are ordered so that a blocker
comes before what it blocks (a blocker of a blocker goes above it), otherwise in their plain
order (score, then key). So every counted link has its blocker ranked above what it blocks;
the items that are not lifted keep their relative order; without links the order is the plain
ranking. The result depends only on the items, not on the order links were read in.

**Cuts.** For tier and bucket conditions a lifted item stands in for the item it now stands
above: ``min_score`` compares that item's score, so a blocker is never in a lower tier or a
later bucket than what it blocks. Capacity counts the blocker's own effort where it now
stands. The score itself (and the score field) stays the item's own.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from priosync.domain import RankedItem, WorkItem

__all__ = [
    "Lifting",
    "cycle_warnings",
    "dependency_notes",
    "lift_blockers",
    "lift_change_note",
    "strongly_connected",
]

#: Keys shown in one explanation note before "and N more".
NOTE_KEYS = 3
#: Keys of a cycle shown in one warning.
WARNING_KEYS = 10


@dataclass(frozen=True, slots=True)
class Lifting:
    """How dependencies reorder a plain ranking; every index is a plain position (0-based)."""

    #: The plain positions in lifted order.
    order: tuple[int, ...]
    #: Per plain position: the plain position of the item it stands above (itself if not lifted).
    place: tuple[int, ...]
    #: Lifted items → the keys of the items they block that lifted them, in lifted order.
    lifted_by: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    #: Every cycle, as plain positions in plain order; cycles in the order of their first item.
    cycles: tuple[tuple[int, ...], ...] = ()
    #: Items → keys of their open blockers outside the ranking, sorted.
    outside: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        """Whether any item was lifted."""
        return any(p != i for i, p in enumerate(self.place))


def lift_blockers(ranked: Sequence[WorkItem], *, others: Sequence[WorkItem] = ()) -> Lifting:
    """Lift blockers in the plain ranking ``ranked`` (module rules).

    ``others`` are items outside the ranking (unscored ones): their links only feed the
    notes about blockers outside the ranking.
    """
    count = len(ranked)
    if not any(item.blocks or item.blocked_by for item in (*ranked, *others)):
        return Lifting(order=tuple(range(count)), place=tuple(range(count)))
    resolve = _Resolver(ranked)
    done = [item.done for item in ranked]
    for item in (*ranked, *others):
        for link in (*item.blocks, *item.blocked_by):
            target = resolve(link.key, item.source)
            if link.done and target is not None:
                done[target] = True
    edges: set[tuple[int, int]] = set()
    outside: dict[int, set[str]] = {}
    for index, item in enumerate(ranked):
        for link in item.blocks:
            target = resolve(link.key, item.source)
            if target is not None:
                edges.add((index, target))
        for link in item.blocked_by:
            target = resolve(link.key, item.source)
            if target is not None:
                edges.add((target, index))
            elif not link.done and not done[index]:
                outside.setdefault(index, set()).add(link.key)
    for other in others:
        if other.done:
            continue
        for link in other.blocks:
            target = resolve(link.key, other.source)
            if target is not None and not done[target]:
                outside.setdefault(target, set()).add(other.key)
    successors: list[list[int]] = [[] for _ in range(count)]
    for blocker, blocked in sorted(edges):
        if blocker != blocked and not done[blocker] and not done[blocked]:
            successors[blocker].append(blocked)
    return _lift(ranked, successors, outside)


def strongly_connected(successors: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components of the graph ``successors`` (node → next nodes).

    Iterative (an explicit stack instead of recursion), so a chain of any length works. The
    components come out in reverse topological order: each after every component it reaches.
    """
    count = len(successors)
    index = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(count):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            node, next_edge = work[-1]
            if next_edge < len(successors[node]):
                work[-1] = (node, next_edge + 1)
                child = successors[node][next_edge]
                if index[child] == -1:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, 0))
                elif on_stack[child]:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _lift(
    ranked: Sequence[WorkItem], successors: Sequence[Sequence[int]], outside: dict[int, set[str]]
) -> Lifting:
    count = len(ranked)
    components = strongly_connected(successors)
    component_of = [0] * count
    for number, component in enumerate(components):
        for member in component:
            component_of[member] = number
    counted: list[list[int]] = [
        [child for child in successors[node] if component_of[child] != component_of[node]]
        for node in range(count)
    ]
    place = list(range(count))
    for component in components:  # successors' components come first
        for node in component:
            for child in counted[node]:
                place[node] = min(place[node], place[child])
    order = _order_by_place(place, counted)
    position = {node: rank for rank, node in enumerate(order)}
    lifted_by = {
        node: tuple(
            ranked[child].key
            for child in sorted(
                (c for c in counted[node] if place[c] < node), key=position.__getitem__
            )
        )
        for node in range(count)
        if place[node] < node
    }
    cycles = sorted(tuple(sorted(c)) for c in components if len(c) > 1)
    return Lifting(
        order=tuple(order),
        place=tuple(place),
        lifted_by=lifted_by,
        cycles=tuple(cycles),
        outside={node: tuple(sorted(keys)) for node, keys in outside.items()},
    )


def _order_by_place(place: Sequence[int], counted: Sequence[Sequence[int]]) -> list[int]:
    """Items by place; within a place, blockers first (Kahn's algorithm), then plain order."""
    groups: list[list[int]] = [[] for _ in place]
    for node, where in enumerate(place):
        groups[where].append(node)
    order: list[int] = []
    for group in groups:
        if len(group) <= 1:
            order.extend(group)
            continue
        waiting = dict.fromkeys(group, 0)
        for node in group:
            for child in counted[node]:
                if child in waiting:
                    waiting[child] += 1
        ready = [node for node, blockers in waiting.items() if blockers == 0]
        heapq.heapify(ready)
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for child in counted[node]:
                if child in waiting:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        heapq.heappush(ready, child)
    return order


class _Resolver:
    """Finds a linked key's plain position: in the linking item's source first, then a key
    exactly one other source of the ranking holds."""

    def __init__(self, ranked: Sequence[WorkItem]) -> None:
        self._by_source: dict[tuple[str, str], int] = {}
        self._by_key: dict[str, list[int]] = {}
        for index, item in enumerate(ranked):
            self._by_source.setdefault((item.source, item.key), index)
            self._by_key.setdefault(item.key, []).append(index)

    def __call__(self, key: str, source: str) -> int | None:
        found = self._by_source.get((source, key))
        if found is not None:
            return found
        elsewhere = self._by_key.get(key, [])
        return elsewhere[0] if len(elsewhere) == 1 else None


# ── what a PM reads ──────────────────────────────────────────────────────────────────────


def dependency_notes(r: RankedItem) -> list[str]:
    """The explanation's dependency parts: ``lifted: blocks WEB-12``, a cycle, outside blockers."""
    notes = []
    if r.lifted_by:
        notes.append(f"lifted: blocks {_keys(r.lifted_by, NOTE_KEYS)}")
    if r.cycle:
        others = [key for key in r.cycle if key != r.item.key]
        notes.append(f"dependency cycle with {_keys(others, NOTE_KEYS)} (ignored)")
    if r.blocked_outside:
        notes.append(f"blocked by {_keys(r.blocked_outside, NOTE_KEYS)} (not ranked)")
    return notes


def lift_change_note(r: RankedItem, *, with_tier: bool) -> str | None:
    """``Low · later without lifting`` when lifting changed the tier (shown ``with_tier``) or
    the bucket; None when it changed neither."""
    if r.without_lift is None:
        return None
    tier, bucket = r.without_lift
    changed = []
    if with_tier and tier != r.tier:
        changed.append(tier or "no tier")
    if bucket != r.bucket:
        changed.append(bucket or "no bucket")
    return " · ".join(changed) + " without lifting" if changed else None


def cycle_warnings(ranking: Iterable[RankedItem]) -> tuple[str, ...]:
    """One line per dependency cycle in ``ranking`` (each cycle once, in rank order)."""
    seen: dict[tuple[str, str, tuple[str, ...]], None] = {}
    for r in ranking:
        if r.cycle:
            seen.setdefault((r.item.source, r.cycle[0], r.cycle), None)
    return tuple(
        f"dependency cycle: {_keys(cycle, WARNING_KEYS)} block each other, so these links "
        "are ignored for ordering; remove one of them"
        for _, _, cycle in seen
    )


def _keys(keys: Sequence[str], limit: int) -> str:
    shown = ", ".join(keys[:limit])
    return shown if len(keys) <= limit else f"{shown} and {len(keys) - limit} more"
