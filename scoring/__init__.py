"""The pure scoring core: value decoding, models, ranking, tiers, buckets and explanations.

Nothing here does I/O, reads a clock or touches the network; it imports only the domain types,
the error tree, pure standard-library modules and ``simpleeval``. ``score_backlog`` is the
one-call entry point; the pieces are exported for callers that need them separately
(config validation calls ``check_formula``; ``priosync rank`` shows ``Score.terms``).
"""

from __future__ import annotations

from collections.abc import Sequence

from priosync.domain import Cut, ModelSpec, RankedItem, WorkItem
from scoring.dependencies import cycle_warnings, dependency_notes, lift_change_note
from scoring.explain import explain_ranked
from scoring.formatting import display_name, format_number, round_half_up
from scoring.formula import ALLOWED_FUNCTIONS, check_formula
from scoring.models import DEFAULT_EFFORT_INPUT, MODEL_INPUTS, input_names, score_inputs
from scoring.ranking import assign_cuts, natural_key, rank_backlog
from scoring.values import Decoded, decode_value

__all__ = [
    "ALLOWED_FUNCTIONS",
    "DEFAULT_EFFORT_INPUT",
    "MODEL_INPUTS",
    "Decoded",
    "assign_cuts",
    "check_formula",
    "cycle_warnings",
    "decode_value",
    "dependency_notes",
    "display_name",
    "effort_input_for",
    "explain_ranked",
    "format_number",
    "input_names",
    "lift_change_note",
    "natural_key",
    "rank_backlog",
    "round_half_up",
    "score_backlog",
    "score_inputs",
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
) -> tuple[RankedItem, ...]:
    """Score every item's ``inputs`` with ``spec``, then rank it and assign tiers and buckets;
    with ``lift`` blockers come before what they block (``scoring.dependencies``)."""
    scores = [score_inputs(item.inputs, spec) for item in items]
    return rank_backlog(
        items,
        scores,
        tiers=tiers,
        buckets=buckets,
        effort_input=effort_input_for(spec),
        lift=lift,
    )
