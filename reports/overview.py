"""The roadmap's numbers a PM checks first: capacity used per bucket, items per tier.

Pure. An item's size is what capacity buckets count (``scoring.ranking``): its effort term,
or 1 per item without an effort input; a missing, negative or non-finite size counts 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.models import PriosyncConfig
from priosync.domain import Cut, RankedItem
from scoring import capacity_size

__all__ = ["BucketUse", "ReportSettings", "bucket_use", "tier_counts"]


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """What the report needs from the config beyond the plan: the cuts and the size input."""

    tiers: tuple[Cut, ...] = ()
    buckets: tuple[Cut, ...] = ()
    #: The input whose term sizes items (effort, job_size); None counts items.
    effort_input: str | None = None

    @classmethod
    def from_config(cls, config: PriosyncConfig) -> ReportSettings:
        return cls(
            tiers=tuple(c.to_cut() for c in config.outputs.priority),
            buckets=tuple(c.to_cut() for c in config.outputs.roadmap),
            effort_input=config.scoring.effort,
        )

    @property
    def size_unit(self) -> str:
        return self.effort_input or "items"


@dataclass(frozen=True, slots=True)
class BucketUse:
    """One roadmap bucket: the items in it, their total size, and its capacity if it has one."""

    name: str
    items: int
    used: float
    capacity: float | None = None

    @property
    def over(self) -> bool:
        """More than the capacity: one oversized item took the empty bucket alone."""
        return self.capacity is not None and self.used > self.capacity


def bucket_use(ranked: Sequence[RankedItem], settings: ReportSettings) -> list[BucketUse]:
    """Every configured bucket in config order (empty ones too), then any the config lacks."""
    names = [c.name for c in settings.buckets]
    names += sorted({r.bucket for r in ranked if r.bucket is not None} - set(names))
    capacity = {c.name: c.capacity for c in settings.buckets}
    used = dict.fromkeys(names, 0.0)
    count = dict.fromkeys(names, 0)
    for r in ranked:
        if r.bucket is not None:
            used[r.bucket] += capacity_size(r, settings.effort_input)
            count[r.bucket] += 1
    return [BucketUse(n, count[n], used[n], capacity.get(n)) for n in names]


def tier_counts(ranked: Sequence[RankedItem], settings: ReportSettings) -> list[tuple[str, int]]:
    """Items per tier, configured tiers first in config order (empty ones too)."""
    names = [c.name for c in settings.tiers]
    names += sorted({r.tier for r in ranked if r.tier is not None} - set(names))
    count = dict.fromkeys(names, 0)
    for r in ranked:
        if r.tier is not None:
            count[r.tier] += 1
    return list(count.items())
