"""How each roadmap bucket's capacity splits across the key metrics, for `rank` and the HTML report.

``now: Revenue 60 %, Retention 25 %, none 15 %`` shows a PM whether the plan serves the
quarter's goals; with ``targets`` each metric's gap follows (``Revenue 60 % (target 50 %,
+10 pts)``). A per-source ranking has a ``now`` per source, so each line names its source
when more than one source was ranked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from priosync.domain import RankedItem
from scoring import BucketSplit, capacity_split, describe_split

__all__ = ["SourceSplit", "metric_splits", "split_html", "split_json", "split_lines"]


@dataclass(frozen=True, slots=True)
class SourceSplit:
    """One bucket's split, and the source it belongs to (None for a global ranking)."""

    source: str | None
    split: BucketSplit


def metric_splits(
    ranking: Sequence[RankedItem],
    *,
    effort_input: str | None,
    targets: Mapping[str, float],
    per_source: bool,
) -> list[SourceSplit]:
    """Every bucket's split: one ranking, or each source's own when ranked per source."""
    if not per_source:
        found = capacity_split(ranking, effort_input=effort_input, targets=targets)
        return [SourceSplit(None, s) for s in found]
    sources = list(dict.fromkeys(r.item.source for r in ranking))
    named = len(sources) > 1
    return [
        SourceSplit(source if named else None, s)
        for source in sources
        for s in capacity_split(
            [r for r in ranking if r.item.source == source],
            effort_input=effort_input,
            targets=targets,
        )
    ]


def split_lines(splits: Sequence[SourceSplit]) -> list[str]:
    """One line per bucket: ``now: Revenue 60 %, …`` (``web · now: …`` per source)."""
    lines = []
    for s in splits:
        line = describe_split(s.split)
        lines.append(line if s.source is None else f"{s.source} · {line}")
    return lines


def split_json(splits: Sequence[SourceSplit]) -> list[dict[str, Any]]:
    """``[{"source", "bucket", "size", "items", "shares": [{"metric", "share", "target",
    "gap"}]}]``; shares are fractions, ``metric`` null for items naming none."""
    return [
        {
            "source": s.source,
            "bucket": s.split.bucket,
            "size": s.split.size,
            "items": s.split.items,
            "shares": [
                {"metric": m.metric, "share": m.share, "target": m.target, "gap": m.gap}
                for m in s.split.shares
            ],
        }
        for s in splits
    ]


def split_html(splits: Sequence[SourceSplit]) -> str:
    """A short section for the HTML report (every string escaped); empty without buckets."""
    if not splits:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in split_lines(splits))
    return f"<section class=metric-split><h2>Capacity by key metric</h2><ul>{items}</ul></section>"
