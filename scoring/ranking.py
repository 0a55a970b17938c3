"""Rank a scored backlog and give each ranked item a priority tier and a roadmap bucket.

**Order.** Scored items sort by score descending (scores are already rounded to the configured
decimals, so float noise cannot reorder them), then by key in natural order (WEB-9 before
WEB-36, acme/app#9 before acme/app#36; letters compare case-insensitively, ``WEB-09`` and
``WEB-9`` tie and the exact key breaks the tie), then by the exact key, source, title and url.
The result does not depend on the order of the input. Ranks are 1..N with no gaps or shared
ranks: equal scores get consecutive ranks in that order. Unscored items (score ``None`` or NaN)
come after all scored ones in the same key order, with rank, tier and bucket None. Every item's
``of`` is N, the number of ranked items.

**Cuts.** Tiers and buckets are lists of ``Cut``s tried in order for each ranked item, in rank
order; the first that accepts the item wins. A cut accepts an item when every condition it sets
holds:

- ``min_score``: the item's score ≥ min_score;
- ``top``: rank ≤ top;
- ``top_percent``: rank ≤ ceil(N × top_percent / 100), computed exactly from the decimal
  the percent was written as (top 10 % of 25 items is the first 3); any percent above 0 takes
  at least the top item;
- ``capacity``: the item fits (below);
- no condition: the catch-all, accepts everything.

An item no cut accepts gets None (configure a catch-all last to avoid that). Tiers and buckets
follow the same rules; ``capacity`` on a tier works exactly as on a bucket.

**Capacity (strict).** An item's size is its ``terms[effort_input]``; without an effort input
every item has size 1 (capacity then counts items). A size that is absent, negative or NaN
counts as 0; unscored items take no capacity. Sums are exact decimal sums, so 0.1 + 0.2 fits a
capacity of 0.3, and an infinite capacity takes everything. Walking items in rank order, a
capacity cut accepts an item while running total + size ≤ capacity. The first item that does
not fit closes the cut for good — no later, smaller item can slip in — and that item goes on to
the next cut. So a higher-ranked item is never in a later bucket than a lower-ranked one, and a
bucket's total never exceeds its capacity, with one exception:

- **Oversized item.** When an item reaches a capacity cut that has accepted nothing yet (an
  empty cut is always open) and its size alone exceeds the capacity, the cut takes it alone
  and closes. The top remaining item is never pushed to a later bucket merely for being big:
  with ``now`` 6 and ``next`` 12, a top item of effort 10 is ``now`` by itself and rank 2 starts
  ``next``. Such a bucket holds exactly that one item. An oversized item that reaches a cut
  already holding items is an ordinary misfit: it closes that cut and tries the next one (where
  it may, again, take an empty capacity cut alone).

**Ties at a cut.** ``top = 5`` takes exactly the items ranked 1–5 even when the item ranked 6
has the same score as the one ranked 5: ties are broken by the rank order (the key), never by
admitting extra items. ``min_score`` compares scores, so equal scores always land together.

**Dependencies.** With ``lift`` (the default) the plain order above is then reordered so
blockers come before what they block (``scoring.dependencies``), and cuts are assigned in
that order, a lifted item's ``min_score`` compared with the score of the item it stands
above. Without links this changes nothing.

**Empty and unscored backlogs.** An empty backlog ranks to ``()``. When no item is scored
(nothing has all its inputs), every item is returned unranked in key order, with ``of`` 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from priosync.domain import Cut, RankedItem, Score, WorkItem
from scoring.dependencies import Lifting, lift_blockers

__all__ = ["assign_cuts", "natural_key", "rank_backlog"]

_DIGITS = re.compile(r"([0-9]+)")

NaturalKey = tuple[tuple[int, str], ...]
#: Stands in for an infinite size (larger than any double), so sums stay exact fractions.
_BEYOND_ANY_SIZE = Fraction(10) ** 400


def natural_key(key: str) -> NaturalKey:
    """Return a sort key ordering ``key`` naturally: digit runs by value, text case-insensitively.

    Text and digit runs alternate at fixed positions (text first, possibly empty), so parts of
    different kinds are never compared. Digit runs compare by value without ``int()`` (no limit
    on their length): first by significant length, then lexically.
    """
    parts: list[tuple[int, str]] = []
    for index, part in enumerate(_DIGITS.split(key)):
        if index % 2:
            significant = part.lstrip("0")
            parts.append((len(significant), significant))
        else:
            parts.append((0, part.casefold()))
    return tuple(parts)


def rank_backlog(
    items: Sequence[WorkItem],
    scores: Sequence[Score],
    *,
    tiers: Sequence[Cut],
    buckets: Sequence[Cut],
    effort_input: str | None,
    lift: bool = True,
) -> tuple[RankedItem, ...]:
    """Rank ``items`` by their parallel ``scores`` and assign tiers and buckets (module rules).

    With ``lift`` blockers are lifted above what they block (``scoring.dependencies``).
    """
    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} scores: they must be parallel")
    pairs = list(zip(items, scores, strict=True))
    scored = sorted((p for p in pairs if _is_scored(p[1])), key=_scored_order)
    unscored = sorted((p for p in pairs if not _is_scored(p[1])), key=lambda p: _item_order(p[0]))
    total = len(scored)
    if lift:
        lifting = lift_blockers([i for i, _ in scored], others=[i for i, _ in unscored])
    else:
        lifting = Lifting(order=tuple(range(total)), place=tuple(range(total)))
    plain_values = [_score_value(score) for _, score in scored]
    plain_sizes = [_size(score, effort_input) for _, score in scored]
    order = lifting.order
    values = [plain_values[lifting.place[i]] for i in order]
    sizes = [plain_sizes[i] for i in order]
    tier_names = assign_cuts(values, tiers, sizes=sizes)
    bucket_names = assign_cuts(values, buckets, sizes=sizes)
    plain: list[tuple[str | None, str | None]] | None = None
    if lifting.moved:
        plain_tiers = assign_cuts(plain_values, tiers, sizes=plain_sizes)
        plain_buckets = assign_cuts(plain_values, buckets, sizes=plain_sizes)
        plain = list(zip(plain_tiers, plain_buckets, strict=True))
    cycles = {i: tuple(scored[j][0].key for j in c) for c in lifting.cycles for i in c}
    ranked = []
    for at, i in enumerate(order):
        item, score = scored[i]
        cuts = (tier_names[at], bucket_names[at])
        ranked.append(
            RankedItem(
                item,
                score,
                rank=at + 1,
                tier=cuts[0],
                bucket=cuts[1],
                of=total,
                lifted_by=lifting.lifted_by.get(i, ()),
                cycle=cycles.get(i, ()),
                blocked_outside=lifting.outside.get(i, ()),
                without_lift=plain[i] if plain is not None and plain[i] != cuts else None,
            )
        )
    ranked.extend(RankedItem(item, score, of=total) for item, score in unscored)
    return tuple(ranked)


def assign_cuts(
    values: Sequence[float], cuts: Sequence[Cut], *, sizes: Sequence[float]
) -> tuple[str | None, ...]:
    """Return the cut name for each ranked item; ``values`` and ``sizes`` are in rank order."""
    states = [_CutState(cut) for cut in cuts]
    total = len(values)
    names: list[str | None] = []
    for index, (value, size) in enumerate(zip(values, sizes, strict=True)):
        chosen = next(
            (s.cut.name for s in states if s.accepts(value, index + 1, total, size)), None
        )
        names.append(chosen)
    return tuple(names)


@dataclass(slots=True)
class _CutState:
    """One cut and, for a capacity cut, how full it is and whether it has closed."""

    cut: Cut
    used: Fraction = field(default_factory=Fraction)
    count: int = 0
    closed: bool = False
    capacity: Fraction | None = field(init=False)

    def __post_init__(self) -> None:
        capacity = self.cut.capacity
        if capacity is not None and math.isinf(capacity) and capacity > 0:
            self.capacity = _BEYOND_ANY_SIZE * 10
        else:
            self.capacity = None if capacity is None else _exact(capacity)

    def accepts(self, value: float, rank: int, total: int, size: float) -> bool:
        """Say whether this cut takes the item, recording it when it does."""
        if not self._conditions_hold(value, rank, total):
            return False
        if self.cut.capacity is None:
            return True
        return self._take(size)

    def _conditions_hold(self, value: float, rank: int, total: int) -> bool:
        cut = self.cut
        if cut.min_score is not None and not value >= cut.min_score:
            return False
        if cut.top is not None and rank > cut.top:
            return False
        return cut.top_percent is None or rank <= _top_percent_count(cut.top_percent, total)

    def _take(self, size: float) -> bool:
        if self.closed:
            return False
        exact_size = _exact_size(size)
        if self.capacity is not None and self.used + exact_size <= self.capacity:
            self.used += exact_size
            self.count += 1
            return True
        self.closed = True
        if self.count == 0:  # oversized item: it takes the empty cut alone
            self.used += exact_size
            self.count = 1
            return True
        return False


def _top_percent_count(percent: float, total: int) -> int:
    exact = _exact(percent)
    if exact is None:
        return total if percent > 0 else 0
    return math.ceil(total * exact / 100)


def _exact(number: float) -> Fraction | None:
    """Return the decimal ``number`` was written as, exactly (0.1 → 1/10); None if not finite."""
    if not math.isfinite(number):
        return None
    return Fraction(repr(float(number)))


def _exact_size(size: float) -> Fraction:
    if math.isinf(size) and size > 0:
        return _BEYOND_ANY_SIZE  # bigger than any finite capacity: only the oversized rule fits it
    exact = _exact(size)
    return exact if exact is not None and exact > 0 else Fraction(0)


def _size(score: Score, effort_input: str | None) -> float:
    if effort_input is None:
        return 1.0
    return score.terms.get(effort_input, 0.0)


def _is_scored(score: Score) -> bool:
    return score.value is not None and not math.isnan(score.value)


def _score_value(score: Score) -> float:
    return score.value if score.value is not None else math.nan


_ItemOrder = tuple[NaturalKey, str, str, str, str]


def _scored_order(pair: tuple[WorkItem, Score]) -> tuple[float, _ItemOrder]:
    return (-_score_value(pair[1]), _item_order(pair[0]))


def _item_order(item: WorkItem) -> _ItemOrder:
    return (natural_key(item.key), item.key, item.source, item.title, item.url)
