"""Small inline SVG charts for the HTML report: the score spread and the roadmap's load.

Pure; every name that reaches a chart (tier, bucket) is escaped. Only presentation
attributes are used, no ``style``, so the page's Content-Security-Policy needs no
``unsafe-inline``. Each chart carries ``role=img`` and a ``<title>`` saying what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from priosync.domain import RankedItem
from reports.overview import BucketUse
from scoring import format_number

WIDTH = 520
HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 36, 24, 34, 26


def score_distribution(ranked: Sequence[RankedItem]) -> str:
    """A histogram of scores on a log scale, with a dashed line where each tier begins."""
    scores = [v for r in ranked if (v := r.score.value) is not None and math.isfinite(v)]
    positive = [v for v in scores if v > 0]
    if not positive:
        return "<p class=none>No positive scores to chart.</p>"
    low = math.floor(math.log10(min(positive)))
    high = max(math.ceil(math.log10(max(positive))), low + 1)
    per_decade = 4 if high - low <= 5 else 2
    bins = (high - low) * per_decade
    counts = [0] * bins
    for value in positive:
        index = int((math.log10(value) - low) * per_decade)
        counts[min(max(index, 0), bins - 1)] += 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tallest = max(counts)
    bar_w = plot_w / bins

    def x_of(value: float) -> float:
        return LEFT + (math.log10(value) - low) / (high - low) * plot_w

    parts = [
        f'<svg class=chart role=img viewBox="0 0 {WIDTH} {HEIGHT}" width={WIDTH} '
        f"height={HEIGHT} data-chart=scores><title>Score distribution: {len(positive):,} "
        "scores on a log scale, tier boundaries dashed</title>",
        f"<line class=axis x1={LEFT} y1={TOP + plot_h} x2={LEFT + plot_w} y2={TOP + plot_h} />",
    ]
    for i, count in enumerate(counts):
        if not count:
            continue
        h = max(1.0, count / tallest * plot_h)
        start, end = 10 ** (low + i / per_decade), 10 ** (low + (i + 1) / per_decade)
        parts.append(
            f'<rect class=bin x="{LEFT + i * bar_w + 1:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}"><title>{count:,} scoring '
            f"{escape(_short(start))}–{escape(_short(end))}</title></rect>"
        )
    for decade in range(low, high + 1):
        x = LEFT + (decade - low) / (high - low) * plot_w
        parts.append(
            f'<text class="tick mid" x="{x:.1f}" y="{HEIGHT - 8}">'
            f"{escape(_short(10.0**decade))}</text>"
        )
    parts.append(f'<text class=tick x=4 y="{TOP + 4}">{tallest:,}</text>')
    for row, (name, lowest) in enumerate(tier_starts(ranked)):
        x = x_of(lowest)
        label_y = TOP - 8 - 12 * (row % 2)  # neighbouring boundaries' labels on two rows
        right = x > WIDTH * 0.7
        parts.append(
            f'<line class=cutline x1="{x:.1f}" y1="{label_y + 4}" x2="{x:.1f}" y2="{TOP + plot_h}" />'
            f'<text class="cutname{" end" if right else ""}" x="{x - 3 if right else x + 3:.1f}" '
            f'y="{label_y}">{escape(name)} ≥ {escape(format_number(lowest))}</text>'
        )
    parts.append("</svg>")
    others = len(scores) - len(positive)
    note = f"<p class=legend>{others:,} scoring 0 or less are left out.</p>" if others else ""
    return "".join(parts) + note


def tier_starts(ranked: Sequence[RankedItem]) -> list[tuple[str, float]]:
    """Each tier but the lowest, with the lowest positive score it holds, highest first."""
    lowest: dict[str, float] = {}
    for r in ranked:
        value = r.score.value
        if r.tier is None or value is None or not math.isfinite(value) or value <= 0:
            continue
        lowest[r.tier] = min(value, lowest.get(r.tier, math.inf))
    ordered = sorted(lowest.items(), key=lambda kv: -kv[1])
    return ordered[:-1]


def bucket_load(buckets: Sequence[BucketUse], *, unit: str) -> str:
    """One bar per bucket: its total size, drawn inside its capacity where it has one."""
    shown = [b for b in buckets if b.items or b.capacity is not None]
    if not shown:
        return "<p class=none>No roadmap buckets configured.</p>"
    row_h, label_w, text_w = 26, 90, 150
    height = TOP + row_h * len(shown) + 6
    plot_w = WIDTH - label_w - text_w
    top = max(max(b.used, b.capacity or 0.0) for b in shown) or 1.0
    parts = [
        f'<svg class=chart role=img viewBox="0 0 {WIDTH} {height}" width={WIDTH} '
        f"height={height} data-chart=buckets><title>Total {escape(unit)} per roadmap "
        "bucket, against its capacity</title>",
        f"<text class=tick x={label_w} y=14>{escape(unit)} per bucket</text>",
    ]
    for i, bucket in enumerate(shown):
        y = TOP + i * row_h
        used_w = bucket.used / top * plot_w
        parts.append(f'<text class=label x=4 y="{y + 14}">{escape(_cut(bucket.name))}</text>')
        if bucket.capacity is not None:
            cap_w = bucket.capacity / top * plot_w
            parts.append(
                f'<rect class=cap x={label_w} y="{y + 2}" width="{cap_w:.1f}" height=16 />'
            )
        css = "use over" if bucket.over else "use"
        parts.append(
            f'<rect class="{css}" x={label_w} y="{y + 5}" width="{max(used_w, 0.5):.1f}" '
            f"height=10><title>{escape(bucket_line(bucket, unit))}</title></rect>"
            f'<text class=label x="{label_w + plot_w + 8}" y="{y + 14}">'
            f"{escape(bucket_figure(bucket))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bucket_figure(bucket: BucketUse) -> str:
    """``5.5 of 6`` (or ``12`` without a capacity), and the item count."""
    used = format_number(bucket.used)
    shown = f"{used} of {format_number(bucket.capacity)}" if bucket.capacity is not None else used
    return f"{shown} · {bucket.items:,} item{'s' if bucket.items != 1 else ''}"


def bucket_line(bucket: BucketUse, unit: str) -> str:
    """``now: 5.5 of 6 effort (4 items)``; says so when one oversized item exceeds it."""
    text = f"{bucket.name}: {bucket_figure(bucket)} ({unit})"
    return text + (" — one item larger than the capacity" if bucket.over else "")


def _short(value: float) -> str:
    """1, 10, 100, 1k, 10k, 1M; fractions as they are."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:.3g}"


def _cut(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
