"""The tracker order the ranking implies, reached in the fewest moves (pure).

A tracker keeps its own order of items: Jira's Rank, a GitHub Project's item positions.
``fewest_moves`` takes that order and the keys that must end up in ranking order, keeps the
longest run of them that is already in the right relative order (a longest increasing
subsequence of their ranking indices, read in the current order) and moves every other one.
Each moved item goes right after its predecessor in the ranking, which is in place by then
(kept, or moved just before it); the items ranked above everything kept go right before the
first kept item. Hence:

- exactly N − LIS items move. No fewer is possible: the items a plan leaves alone keep their
  relative order, so they must already be increasing, and at most LIS of them are;
- keys outside the target never move, so their relative order is untouched;
- run again on the result, it moves nothing; one item out of place moves one item.

``group_moves`` packs consecutive moves that chain (each placed right after the one before
it) into one request, up to a tracker's cap: Jira ranks up to 50 issues a request, in the
order given, after or before one issue (docs/tracker-apis.md §4.1).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from priosync.domain import Move, Place

#: Moves sent in one request: Jira's cap for ``PUT /rest/agile/1.0/issue/rank``; on GitHub
#: a chain this long is one document of aliased mutations (its cap too).
MOVES_PER_REQUEST = 50


class Order:
    """A sequence of distinct keys with O(1) moves: a doubly linked list over two dicts."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._prev: dict[str, str | None] = {}
        self._next: dict[str, str | None] = {}
        self._head: str | None = None
        self._tail: str | None = None
        for key in keys:
            self.append(key)

    def __contains__(self, key: object) -> bool:
        return key in self._prev

    def __len__(self) -> int:
        return len(self._prev)

    def __iter__(self) -> Iterator[str]:
        key = self._head
        while key is not None:
            yield key
            key = self._next[key]

    def prev(self, key: str) -> str | None:
        return self._prev[key]

    def next(self, key: str) -> str | None:
        return self._next[key]

    def place_of(self, key: str) -> Place:
        """Where ``key`` sits: after its predecessor, or before its successor at the top."""
        before = self._prev[key]
        return Place(after=before) if before is not None else Place(before=self._next[key])

    def holds(self, key: str, place: Place) -> bool:
        """Whether ``key`` sits where ``place`` says (its named neighbour is next to it)."""
        if key not in self:
            return False
        if place.after is not None:
            return self._prev[key] == place.after
        return place.before is not None and self._next[key] == place.before

    def append(self, key: str) -> None:
        if key in self._prev:
            raise ValueError(f"{key} is already in the order")
        self._link(key, self._tail, None)

    def remove(self, key: str) -> None:
        before, after = self._prev.pop(key), self._next.pop(key)
        if before is None:
            self._head = after
        else:
            self._next[before] = after
        if after is None:
            self._tail = before
        else:
            self._prev[after] = before

    def move(self, key: str, to: Place) -> None:
        """Put ``key`` right after ``to.after``, or right before ``to.before``."""
        anchor = to.neighbour
        if anchor is None or anchor == key:
            raise ValueError(f"cannot place {key} {to.describe()}")
        if anchor not in self._prev or key not in self._prev:
            raise KeyError(anchor if anchor not in self._prev else key)
        self.remove(key)
        if to.after is not None:
            self._link(key, to.after, self._next[to.after])
        else:
            self._link(key, self._prev[anchor], anchor)

    def _link(self, key: str, before: str | None, after: str | None) -> None:
        self._prev[key], self._next[key] = before, after
        if before is None:
            self._head = key
        else:
            self._next[before] = key
        if after is None:
            self._tail = key
        else:
            self._prev[after] = key


def longest_increasing(values: Sequence[int]) -> list[int]:
    """Indices into ``values`` of one longest strictly increasing subsequence (O(n log n),
    patience sorting with back links)."""
    tails: list[int] = []  # tails[n]: index of the smallest last value of a run of n + 1
    tail_values: list[int] = []
    back = [-1] * len(values)
    for i, value in enumerate(values):
        n = bisect_left(tail_values, value)
        back[i] = tails[n - 1] if n else -1
        if n == len(tails):
            tails.append(i)
            tail_values.append(value)
        else:
            tails[n] = i
            tail_values[n] = value
    found: list[int] = []
    i = tails[-1] if tails else -1
    while i >= 0:
        found.append(i)
        i = back[i]
    return found[::-1]


@dataclass(frozen=True, slots=True)
class Step:
    """One move of ``fewest_moves``: the key, where it goes, where it was just before."""

    key: str
    to: Place
    was: Place


def fewest_moves(current: Sequence[str], target: Sequence[str]) -> list[Step]:
    """The moves, in the order to apply them, that put ``target``'s keys in ``target``'s
    order inside ``current`` (every key of the tracker's order, top first)."""
    index = {key: i for i, key in enumerate(target)}
    if len(index) != len(target):
        raise ValueError("the target order names a key twice")
    order = Order(current)
    absent = [key for key in target if key not in order]
    if absent:
        raise ValueError(f"{absent[0]} is not in the current order")
    values = [index[key] for key in current if key in index]
    kept = {values[i] for i in longest_increasing(values)}
    if not kept:
        return []
    first_kept = target[min(kept)]
    steps: list[Step] = []
    for t, key in enumerate(target):
        if t in kept:
            continue
        to = Place(after=target[t - 1]) if t else Place(before=first_kept)
        steps.append(Step(key, to, order.place_of(key)))
        order.move(key, to)
    return steps


def group_moves(moves: Sequence[Move], cap: int) -> list[list[Move]]:
    """Consecutive moves of one source that chain, each placed right after the move before
    it, as one request of at most ``cap`` moves. A group split by the cap goes on right
    after the last move of the part before, so every group's anchor is in place when it is
    sent in order."""
    if cap < 1:
        raise ValueError("a move request holds at least one move")
    groups: list[list[Move]] = []
    for move in moves:
        last = groups[-1] if groups else None
        if (
            last is not None
            and len(last) < cap
            and last[-1].source == move.source
            and move.to.after == last[-1].key
        ):
            last.append(move)
        else:
            groups.append([move])
    return groups


def apply_steps(current: Iterable[str], steps: Iterable[Step | Move]) -> list[str]:
    """The order after ``steps`` (tests, benchmarks, and the snapshot after landed moves)."""
    order = Order(current)
    for step in steps:
        order.move(step.key, step.to)
    return list(order)
