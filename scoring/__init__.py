"""The pure scoring core: value decoding, models, ranking, tiers, buckets and explanations.

Nothing here does I/O, reads a clock or touches the network; it imports only the domain types,
the error tree, pure standard-library modules and ``simpleeval``. ``score_backlog`` is the
one-call entry point; the pieces are exported for callers that need them separately
(config validation calls ``check_formula``; ``priosync rank`` shows ``Score.terms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from priosync.domain import Cut, Missing, ModelSpec, RankedItem, Score, Timestamp, WorkItem
from scoring.dependencies import cycle_warnings, dependency_notes, lift_change_note
from scoring.explain import explain_ranked
from scoring.formatting import display_name, format_number, round_half_up
from scoring.formula import ALLOWED_FUNCTIONS, check_formula
from scoring.freshness import assess_freshness, decay_factors, freshness_text
from scoring.metrics import (
    METRIC_INPUT,
    BucketSplit,
    MetricShare,
    capacity_size,
    capacity_split,
    describe_split,
    metric_key,
    metric_weight,
)
from scoring.models import DEFAULT_EFFORT_INPUT, MODEL_INPUTS, input_names, score_inputs
from scoring.ranking import assign_cuts, natural_key, rank_backlog
from scoring.values import Decoded, decode_value

__all__ = [
    "ALLOWED_FUNCTIONS",
    "DEFAULT_EFFORT_INPUT",
    "METRIC_INPUT",
    "MODEL_INPUTS",
    "BucketSplit",
    "Decoded",
    "MetricShare",
    "assign_cuts",
    "capacity_size",
    "capacity_split",
    "check_formula",
    "cycle_warnings",
    "decode_value",
    "dependency_notes",
    "describe_split",
    "display_name",
    "effort_input_for",
    "explain_ranked",
    "format_number",
    "freshness_text",
    "input_names",
    "lift_change_note",
    "metric_key",
    "natural_key",
    "rank_backlog",
    "round_half_up",
    "score_backlog",
    "score_inputs",
    "score_item",
]


def effort_input_for(spec: ModelSpec) -> str | None:
    """Return the input that sizes items for capacity cuts: the spec's, else the model's default."""
    return spec.effort_input or DEFAULT_EFFORT_INPUT.get(spec.model)


def score_backlog(
    items: Sequence[WorkItem],
    spec: ModelSpec,
    *,
    tiers: Sequence[Cut],
    buckets: Sequence[Cut],
    lift: bool = True,
    now: Timestamp | None = None,
) -> tuple[RankedItem, ...]:
    """Score every item with ``spec`` (``score_item``), then rank it and assign tiers and
    buckets; with ``lift`` blockers come before what they block (``scoring.dependencies``).

    ``now`` is the reference time freshness is judged at; with ``spec.freshness`` set and no
    ``now``, no item is judged stale.
    """
    scores = [score_item(item, spec, now=now) for item in items]
    return rank_backlog(
        items,
        scores,
        tiers=tiers,
        buckets=buckets,
        effort_input=effort_input_for(spec),
        lift=lift,
    )


def score_item(item: WorkItem, spec: ModelSpec, *, now: Timestamp | None = None) -> Score:
    """One item's score: its inputs (stale confidence decayed), times its key metric's weight.

    The weight is kept in ``terms`` under ``METRIC_INPUT``; a metric that cannot be read
    makes the item unscored, with that reason among its missing inputs.
    """
    freshness = (
        assess_freshness(item.inputs_changed, spec.freshness, now=now)
        if spec.freshness is not None and now is not None
        else None
    )
    factors = decay_factors(freshness, spec)
    if freshness is not None and factors:
        freshness = replace(freshness, decay=next(iter(factors.values())))
    weight = metric_weight(item, spec.metrics) if spec.metrics is not None else None
    if isinstance(weight, Missing):
        score = score_inputs(item.inputs, spec, factors=factors)
        return Score(
            None,
            terms=score.terms,
            missing=(*score.missing, weight),
            notes=score.notes,
            freshness=freshness,
        )
    score = score_inputs(item.inputs, spec, factors=factors, weight=weight)
    if weight is None:
        return replace(score, freshness=freshness) if freshness is not None else score
    terms = {**score.terms, METRIC_INPUT: weight.value}
    return replace(score, terms=terms, metric=weight.metric, freshness=freshness)
