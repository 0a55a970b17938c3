"""Key metrics: which metric an item moves, its weight, and how buckets split across metrics.

A PM ranks work by its influence on the quarter's key metrics. With ``[scoring.metrics]`` an
item's score is the model's score times the weight of the metric it names, rounded once at
the end (``RICE 500×2×0.8/3 = 266.7 × Retention 1.2 = 320``). Rules:

- **Where the name comes from.** The raw value of the reserved input :data:`METRIC_INPUT`
  (a select, text field or CSV column mapped by ``field``), or the item's labels that start
  with ``label_prefix`` (``metric:retention``). A list (multi-select, repeated CSV column,
  several labels) may name one metric several times, never two different ones.
- **Matching** ignores case and treats ``-``, ``_`` and runs of spaces alike, so the label
  ``metric:net-revenue`` names the weight ``Net revenue``.
- **Problems are missing input**, never errors: an unknown name lists the known ones; two
  different names ask for one; no name at all is missing only with ``default = "missing"``,
  otherwise it weighs ``default`` (1.0 unless configured).

:func:`capacity_split` tells, per roadmap bucket, what share of the bucket's capacity (its
items' sizes, as capacity cuts count them) goes to each metric, with the configured targets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from priosync.domain import MetricSpec, Missing, RankedItem, RawValue, WorkItem
from scoring.formatting import format_number, round_half_up

__all__ = [
    "METRIC_INPUT",
    "BucketSplit",
    "MetricShare",
    "Weight",
    "capacity_split",
    "describe_split",
    "metric_weight",
]

#: The input name under which connectors read the field that names an item's key metric.
#: Reserved: no model or formula input may use it (config validation says so).
METRIC_INPUT = "key_metric"

_SEPARATORS = re.compile(r"[\s_\-]+")
#: At most this many metric names are listed in a message.
_MAX_SHOWN = 12


@dataclass(frozen=True, slots=True)
class Weight:
    """The factor an item's score is multiplied by, and the metric it comes from."""

    #: The metric as the weights spell it; None for an item naming none (the default).
    metric: str | None
    value: float

    @property
    def shown(self) -> bool:
        """Whether the explanation shows this factor (a default of exactly 1 changes nothing)."""
        return self.metric is not None or self.value != 1.0

    @property
    def label(self) -> str:
        return self.metric if self.metric is not None else "no key metric"


def metric_weight(item: WorkItem, spec: MetricSpec) -> Weight | Missing:
    """The weight for ``item`` under ``spec``, or why it cannot be weighed (module rules)."""
    names = _named(item, spec)
    known = _known(spec)
    if not names:
        if spec.default is None:
            how = f"add a label {spec.label_prefix}<name>" if spec.label_prefix else "set it"
            return _missing(f"none named; {how} with one of {known}")
        return Weight(None, spec.default)
    matched: dict[str, str] = {}
    for name in names:
        hit = _lookup(name, spec.weights)
        if hit is None:
            return _missing(f"{_quote(name)} is not one of the weights ({known})")
        matched.setdefault(hit, name)
    if len(matched) > 1:
        return _missing(f"names {len(matched)} metrics ({', '.join(matched)}); an item moves one")
    metric = next(iter(matched))
    return Weight(metric, spec.weights[metric])


def _named(item: WorkItem, spec: MetricSpec) -> list[str]:
    if spec.label_prefix is not None:
        prefix = spec.label_prefix.casefold()
        found = [
            label[len(prefix) :]
            for label in sorted(item.current.labels)
            if label.casefold().startswith(prefix)
        ]
    else:
        found = _flatten(item.inputs.get(METRIC_INPUT))
    return [name.strip() for name in found if name.strip()]


def _flatten(raw: RawValue) -> list[str]:
    if raw is None or isinstance(raw, bool):
        return []
    if isinstance(raw, list):
        return [name for value in raw for name in _flatten(value)]
    if isinstance(raw, float) and not math.isfinite(raw):
        return []
    return [raw if isinstance(raw, str) else format_number(float(raw))]


def _lookup(name: str, weights: Mapping[str, float]) -> str | None:
    wanted = metric_key(name)
    return next((metric for metric in weights if metric_key(metric) == wanted), None)


def metric_key(name: str) -> str:
    """A metric name as names are compared: case, spaces, ``-`` and ``_`` aside."""
    return _SEPARATORS.sub(" ", name).strip().casefold()


def _known(spec: MetricSpec) -> str:
    names = list(spec.weights)
    shown = ", ".join(names[:_MAX_SHOWN])
    return shown + (", …" if len(names) > _MAX_SHOWN else "")


def _quote(name: str) -> str:
    shown = " ".join(name.split())
    return repr(shown if len(shown) <= 40 else shown[:40] + "…")


def _missing(why: str) -> Missing:
    return Missing(METRIC_INPUT, " ".join(f"Key metric: {why}".split()))


# ── how buckets split across metrics ─────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class MetricShare:
    """One metric's share of a bucket: ``share`` and ``target`` are fractions (0.6 = 60 %)."""

    metric: str | None
    share: float
    target: float | None = None

    @property
    def gap(self) -> float | None:
        """Share minus target (negative: the bucket serves the metric less than planned)."""
        return None if self.target is None else self.share - self.target


@dataclass(frozen=True, slots=True)
class BucketSplit:
    """How one roadmap bucket's capacity splits across the key metrics."""

    bucket: str
    #: The bucket's used capacity: its items' sizes summed (their count without an effort input).
    size: float
    items: int
    #: Largest share first; items naming no metric (``None``) last.
    shares: tuple[MetricShare, ...]


def capacity_split(
    ranking: Sequence[RankedItem],
    *,
    effort_input: str | None,
    targets: Mapping[str, float] | None = None,
) -> tuple[BucketSplit, ...]:
    """Per bucket (in rank order of first appearance), each metric's share of its capacity.

    An item's size is what a capacity cut counts: its ``effort_input`` term, or 1 without an
    effort input; a bucket whose sizes are all 0 is split by item count instead. Every
    metric with a target is listed in every bucket, at 0 % where no item serves it.
    """
    goals = dict(targets or {})
    sizes: dict[str, dict[str | None, float]] = {}
    counts: dict[str, dict[str | None, int]] = {}
    for r in ranking:
        if r.rank is None or r.bucket is None:
            continue
        size = capacity_size(r, effort_input)
        sizes.setdefault(r.bucket, {})
        counts.setdefault(r.bucket, {})
        sizes[r.bucket][r.score.metric] = sizes[r.bucket].get(r.score.metric, 0.0) + size
        counts[r.bucket][r.score.metric] = counts[r.bucket].get(r.score.metric, 0) + 1
    splits = []
    for bucket, by_metric in sizes.items():
        total = sum(by_metric.values())
        items = sum(counts[bucket].values())
        weights: Mapping[str | None, float] = (
            by_metric if total > 0 else {m: float(n) for m, n in counts[bucket].items()}
        )
        whole = total if total > 0 else float(items)
        shares = {metric: part / whole for metric, part in weights.items()}
        for metric in goals:
            shares.setdefault(metric, 0.0)
        ordered = sorted(shares.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or ""))
        splits.append(
            BucketSplit(
                bucket=bucket,
                size=total,
                items=items,
                shares=tuple(
                    MetricShare(metric, share, goals.get(metric) if metric is not None else None)
                    for metric, share in ordered
                ),
            )
        )
    return tuple(splits)


def describe_split(split: BucketSplit) -> str:
    """``now: Revenue 60 % (target 50 %, +10 pts), Retention 25 %, none 15 %``."""
    parts = []
    for s in split.shares:
        text = f"{s.metric if s.metric is not None else 'none'} {_percent(s.share)}"
        if s.target is not None and s.gap is not None:
            points = round_half_up(s.gap * 100, 0)
            sign = "+" if points > 0 else ("−" if points < 0 else "±")
            text += f" (target {_percent(s.target)}, {sign}{format_number(abs(points))} pts)"
        parts.append(text)
    return f"{split.bucket}: {', '.join(parts)}"


def _percent(fraction: float) -> str:
    return f"{format_number(round_half_up(fraction * 100, 0))} %"


def capacity_size(r: RankedItem, effort_input: str | None) -> float:
    """The size a capacity cut counts for a ranked item: its effort (1 without an effort
    input), and 0 for an effort that is not a positive finite number."""
    if effort_input is None:
        return 1.0
    size = r.score.terms.get(effort_input, 0.0)
    return size if math.isfinite(size) and size > 0 else 0.0
