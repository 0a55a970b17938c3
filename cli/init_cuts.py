"""`priosync init --discover`: tiers and buckets proposed from the backlog's own scores.

Fixed thresholds fit no backlog in particular (``min_score = 100`` put 81 of 142 sandbox
items in "High"). With discovery, ``init`` scores the backlog once, proposes priority tiers
as shares of the ranking (``top_percent``, cumulative from the top) and roadmap capacities
from the efforts of the items at the top, and prints the distribution those cuts give, so
the PM adjusts numbers they can see. Proposing is pure; reading the backlog is the caller's.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from priosync.domain import Cut, ModelSpec, RankedItem, WorkItem
from scoring import capacity_size, effort_input_for, score_backlog

#: Tier → the share of the ranking (cumulative from the top) it ends at; the last takes the rest.
TIER_SHARES: tuple[tuple[str, float | None], ...] = (
    ("Highest", 5.0),
    ("High", 15.0),
    ("Medium", 45.0),
    ("Low", None),
)
#: Bucket → the share of the ranked items whose summed effort sizes it; the last takes the rest.
BUCKET_SHARES: tuple[tuple[str, float | None], ...] = (
    ("now", 10.0),
    ("next", 20.0),
    ("later", None),
)
#: Fewer scored items than this and shares mean little: the template's cuts stay.
MIN_SCORED = 8


@dataclass(frozen=True, slots=True)
class Proposal:
    """The proposed cuts and what they do to this backlog."""

    tiers: tuple[Cut, ...]
    buckets: tuple[Cut, ...]
    scored: int
    unscored: int
    #: "Highest 5, High 14, Medium 40, Low 83"
    tier_counts: str
    bucket_counts: str

    def note(self) -> str:
        """The lines `init` prints under its own."""
        lines = [
            f"scored {self.scored} of {self.scored + self.unscored} items "
            f"({self.unscored} lack an input); proposed cuts:",
            f"  priority: {self.tier_counts}",
        ]
        if self.buckets:
            lines.append(f"  roadmap:  {self.bucket_counts}")
        lines.append("  adjust them in [outputs] priority and roadmap, then `priosync rank`")
        return "\n".join(lines)


def propose_cuts(items: Sequence[WorkItem], spec: ModelSpec) -> Proposal | None:
    """Cuts for this backlog, or None when too few items can be scored to propose any."""
    ranked = score_backlog(items, spec, tiers=(), buckets=())
    scored = [r for r in ranked if r.rank is not None]
    if len(scored) < MIN_SCORED:
        return None
    tiers = tuple(Cut(name=name, top_percent=share) for name, share in TIER_SHARES)
    buckets = _buckets(scored, effort_input_for(spec))
    final = score_backlog(items, spec, tiers=tiers, buckets=buckets)
    return Proposal(
        tiers=tiers,
        buckets=buckets,
        scored=len(scored),
        unscored=len(ranked) - len(scored),
        tier_counts=_counts(final, tiers, lambda r: r.tier),
        bucket_counts=_counts(final, buckets, lambda r: r.bucket) if buckets else "",
    )


def _buckets(scored: Sequence[RankedItem], effort: str | None) -> tuple[Cut, ...]:
    """Capacities summing the efforts of the top shares of the ranking, rounded up."""
    if effort is None:
        return ()
    sizes = [capacity_size(r, effort) for r in scored]
    if not any(sizes):
        return ()
    cuts: list[Cut] = []
    start = 0
    for name, share in BUCKET_SHARES:
        if share is None:
            cuts.append(Cut(name=name))
            break
        count = max(1, math.ceil(len(sizes) * share / 100))
        capacity = math.ceil(sum(sizes[start : start + count])) or 1
        cuts.append(Cut(name=name, capacity=float(capacity)))
        start += count
    return tuple(cuts)


def _counts(
    ranked: Sequence[RankedItem], cuts: Sequence[Cut], of: Callable[[RankedItem], str | None]
) -> str:
    counted = Counter(of(r) for r in ranked if r.rank is not None)
    return ", ".join(f"{c.name} {counted.get(c.name, 0)}" for c in cuts)


# ── writing them into the starter config ─────────────────────────────────────────────────

_LIST = re.compile(r"^(?P<key>priority|roadmap) = \[.*?^\]", re.MULTILINE | re.DOTALL)


def with_cuts(text: str, proposal: Proposal) -> str:
    """The starter config with its ``priority`` and ``roadmap`` lists replaced by the proposal."""

    def block(match: re.Match[str]) -> str:
        if match["key"] == "priority":
            comment = "first match wins; top_percent counts from the top of the ranking"
            rows = [_cut_row(c, "top_percent") for c in proposal.tiers]
            counts = proposal.tier_counts
        elif proposal.buckets:
            comment = "capacity = effort units summed in rank order"
            rows = [_cut_row(c, "capacity") for c in proposal.buckets]
            counts = proposal.bucket_counts
        else:
            return match[0]
        lines = [f"{match['key']} = [  # {comment}; on this backlog: {counts}"]
        return "\n".join([*lines, *rows, "]"])

    return _LIST.sub(block, text)


def _cut_row(cut: Cut, condition: str) -> str:
    value = getattr(cut, condition)
    if value is None:
        return f"  {{ name = {json.dumps(cut.name)} }},"
    shown = int(value) if float(value).is_integer() else value
    return f"  {{ name = {json.dumps(cut.name)}, {condition} = {shown} }},"
