"""Scoring models: decoded inputs in, a rounded ``Score`` with terms and a one-line explanation out.

| model     | value                                           | each input must be                |
|-----------|-------------------------------------------------|-----------------------------------|
| `rice`    | reach × impact × confidence ÷ effort            | reach, impact ≥ 0; confidence     |
|           |                                                 | 0–100 % (always a percent input); |
|           |                                                 | effort > 0                        |
| `ice`     | impact × confidence × ease                      | within 1–10                       |
| `ice-avg` | (impact + confidence + ease) ÷ 3                | within 1–10                       |
| `wsjf`    | (business_value + time_criticality              | ≥ 0; job_size > 0                 |
|           | + risk_reduction) ÷ job_size                    |                                   |
| `formula` | ``spec.formula`` over ``spec.inputs``           | any finite number                 |

The fixed models use the input names of :data:`MODEL_INPUTS` whatever ``spec.inputs`` says; the
formula model reads exactly ``spec.inputs`` (every one must be present, used or not). Every
problem is collected — an item with two unreadable inputs gets two ``Missing`` entries. The value
is rounded half-up (2.25 → 2.3 at one decimal, not banker's 2.2) to ``spec.decimals``; terms
keep the decoded numbers. Explanations read ``RICE 500×2×0.8/3 = 266.7``, ``ICE 8×7×6 = 336``,
``ICE (8+7+6)/3 = 7``, ``WSJF (8+5+3)/5 = 3.2``, ``formula reach*impact/effort = 12.5``. A key
metric's weight multiplies the unrounded value before the one rounding and is shown after it
(``RICE 500×2×0.8/3 = 266.7 × Retention 1.2 = 320``, ``scoring.metrics``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from priosync.domain import Missing, ModelSpec, RawValue, Score
from scoring.formatting import (
    display_name,
    format_number,
    format_percent,
    format_term,
    round_half_up,
)
from scoring.formula import check_formula, evaluate_formula
from scoring.metrics import Weight
from scoring.values import decode_value

__all__ = ["DEFAULT_EFFORT_INPUT", "MODEL_INPUTS", "input_names", "score_inputs"]

#: The input names each fixed model reads, in the order its formula uses them.
MODEL_INPUTS: Mapping[str, tuple[str, ...]] = {
    "rice": ("reach", "impact", "confidence", "effort"),
    "ice": ("impact", "confidence", "ease"),
    "ice-avg": ("impact", "confidence", "ease"),
    "wsjf": ("business_value", "time_criticality", "risk_reduction", "job_size"),
}
#: The input whose value sizes an item for ``capacity`` buckets, per model.
DEFAULT_EFFORT_INPUT: Mapping[str, str | None] = {
    "rice": "effort",
    "ice": None,
    "ice-avg": None,
    "wsjf": "job_size",
    "formula": None,
}
#: Inputs decoded as fractions by a model regardless of ``spec.percent_inputs``.
_MODEL_PERCENT_INPUTS: Mapping[str, frozenset[str]] = {"rice": frozenset({"confidence"})}


@dataclass(frozen=True, slots=True)
class _Rule:
    """A bound every value of an input must respect, and how to say it."""

    holds: Callable[[float], bool]
    wording: str


_AT_LEAST_0 = _Rule(lambda v: v >= 0, "0 or more")
_ABOVE_0 = _Rule(lambda v: v > 0, "greater than 0")
_FRACTION = _Rule(lambda v: 0 <= v <= 1, "between 0% and 100%")
_ONE_TO_TEN = _Rule(lambda v: 1 <= v <= 10, "within 1–10")

_RULES: Mapping[str, Mapping[str, _Rule]] = {
    "rice": {
        "reach": _AT_LEAST_0,
        "impact": _AT_LEAST_0,
        "confidence": _FRACTION,
        "effort": _ABOVE_0,
    },
    "ice": dict.fromkeys(MODEL_INPUTS["ice"], _ONE_TO_TEN),
    "ice-avg": dict.fromkeys(MODEL_INPUTS["ice-avg"], _ONE_TO_TEN),
    "wsjf": {
        "business_value": _AT_LEAST_0,
        "time_criticality": _AT_LEAST_0,
        "risk_reduction": _AT_LEAST_0,
        "job_size": _ABOVE_0,
    },
}


def input_names(spec: ModelSpec) -> tuple[str, ...]:
    """Return the inputs ``spec``'s model reads: fixed per model, ``spec.inputs`` for formulas."""
    return MODEL_INPUTS.get(spec.model, spec.inputs)


def score_inputs(
    inputs: Mapping[str, RawValue],
    spec: ModelSpec,
    *,
    factors: Mapping[str, float] | None = None,
    weight: Weight | None = None,
) -> Score:
    """Score raw ``inputs`` with ``spec``; problems become ``Score.missing``, never errors.

    ``factors`` multiply decoded inputs once their bounds are checked (a stale item's
    confidence decay); ``weight`` multiplies the unrounded result (a key metric's weight),
    so the value is rounded once, at the end, and the explanation shows the factor.
    """
    if spec.model not in MODEL_INPUTS and spec.model != "formula":
        return Score(None, missing=(Missing("model", f"Model: unknown model '{spec.model}'"),))
    percent_inputs = spec.percent_inputs | _MODEL_PERCENT_INPUTS.get(spec.model, frozenset())
    terms: dict[str, float] = {}
    missing: list[Missing] = []
    notes: list[str] = []
    for name in input_names(spec):
        decoded = decode_value(
            name,
            inputs.get(name),
            scale=spec.scales.get(name),
            percent=name in percent_inputs,
        )
        if decoded.note:
            notes.append(decoded.note)
        if decoded.value is None:
            missing.append(decoded.missing or Missing(name, f"{display_name(name)}: unreadable"))
            continue
        terms[name] = decoded.value
        missing.extend(_check_bounds(spec.model, name, decoded.value, name in percent_inputs))
    for name, factor in (factors or {}).items():
        if name in terms:
            terms[name] = terms[name] * factor
    if not missing:
        return _compute(spec, terms, tuple(notes), weight)
    return Score(None, terms=terms, missing=tuple(missing), notes=tuple(notes))


def _check_bounds(model: str, name: str, value: float, percent: bool) -> list[Missing]:
    rule = _RULES.get(model, {}).get(name)
    if rule is None or rule.holds(value):
        return []
    shown = format_percent(value) if percent else format_number(value)
    return [Missing(name, f"{display_name(name)}: must be {rule.wording}, found {shown}")]


def _compute(
    spec: ModelSpec, terms: dict[str, float], notes: tuple[str, ...], weight: Weight | None
) -> Score:
    if spec.model == "formula":
        raw, error = _compute_formula(spec, terms)
    else:
        raw, error = _COMPUTE[spec.model]([terms[name] for name in MODEL_INPUTS[spec.model]]), None
    weighted = raw * weight.value if weight is not None and error is None else raw
    if error is None and not (math.isfinite(raw) and math.isfinite(weighted)):
        error = Missing("score", f"Score: the result is too large to use ({format_number(raw)})")
    if error is not None:
        return Score(None, terms=terms, missing=(error,), notes=notes)
    value = round_half_up(weighted, spec.decimals)
    explanation = f"{_describe(spec, terms)} = {format_number(round_half_up(raw, spec.decimals))}"
    if weight is not None and weight.shown:
        explanation += f" × {weight.label} {format_term(weight.value)} = {format_number(value)}"
    return Score(value, terms=terms, explanation=explanation, notes=notes)


def _compute_formula(spec: ModelSpec, terms: Mapping[str, float]) -> tuple[float, Missing | None]:
    expr = spec.formula or ""
    problem = check_formula(expr, spec.inputs)
    if problem is None:
        result = evaluate_formula(expr, terms)
        if result.value is not None:
            return result.value, None
        problem = result.error
    return math.nan, Missing("formula", f"Formula: {problem}")


def _rice(v: Sequence[float]) -> float:
    return v[0] * v[1] * v[2] / v[3]


def _ice(v: Sequence[float]) -> float:
    return v[0] * v[1] * v[2]


def _average(v: Sequence[float]) -> float:
    return (v[0] + v[1] + v[2]) / 3


def _wsjf(v: Sequence[float]) -> float:
    return (v[0] + v[1] + v[2]) / v[3]


_COMPUTE: Mapping[str, Callable[[Sequence[float]], float]] = {
    "rice": _rice,
    "ice": _ice,
    "ice-avg": _average,
    "wsjf": _wsjf,
}


def _describe(spec: ModelSpec, terms: Mapping[str, float]) -> str:
    if spec.model == "formula":
        return f"formula {' '.join((spec.formula or '').split())}"
    t = [format_term(terms[name]) for name in MODEL_INPUTS[spec.model]]
    if spec.model == "rice":
        return f"RICE {t[0]}×{t[1]}×{t[2]}/{t[3]}"
    if spec.model == "ice":
        return f"ICE {t[0]}×{t[1]}×{t[2]}"
    if spec.model == "ice-avg":
        return f"ICE ({t[0]}+{t[1]}+{t[2]})/3"
    return f"WSJF ({t[0]}+{t[1]}+{t[2]})/{t[3]}"
