"""Scoring models: hand-computed values, explanations, validation and rounding."""

from __future__ import annotations

import pytest

from priosync.domain import Missing, ModelSpec, RawValue, Score
from scoring import DEFAULT_EFFORT_INPUT, MODEL_INPUTS, input_names, score_inputs
from scoring.formatting import format_number, round_half_up

IMPACT = {"Massive": 3.0, "High": 2.0, "Medium": 1.0, "Low": 0.5, "Minimal": 0.25}
CONFIDENCE = {"High": 1.0, "Medium": 0.8, "Low": 0.5}
RICE = ModelSpec(
    "rice",
    MODEL_INPUTS["rice"],
    scales={"impact": IMPACT, "confidence": CONFIDENCE},
    decimals=1,
)
ICE = ModelSpec("ice", MODEL_INPUTS["ice"], decimals=1)
ICE_AVG = ModelSpec("ice-avg", MODEL_INPUTS["ice-avg"], decimals=1)
WSJF = ModelSpec("wsjf", MODEL_INPUTS["wsjf"], decimals=1)


def formula_spec(expr: str, *names: str, decimals: int = 1) -> ModelSpec:
    return ModelSpec("formula", names, formula=expr, decimals=decimals)


def rice(reach: RawValue, impact: RawValue, confidence: RawValue, effort: RawValue) -> Score:
    inputs = {"reach": reach, "impact": impact, "confidence": confidence, "effort": effort}
    return score_inputs(inputs, RICE)


def reasons(score: Score) -> list[str]:
    return [m.reason for m in score.missing]


class TestModelTables:
    """The fixed input names and effort inputs per model."""

    def test_model_inputs(self) -> None:
        """Each fixed model reads its documented inputs in formula order."""
        assert dict(MODEL_INPUTS) == {
            "rice": ("reach", "impact", "confidence", "effort"),
            "ice": ("impact", "confidence", "ease"),
            "ice-avg": ("impact", "confidence", "ease"),
            "wsjf": ("business_value", "time_criticality", "risk_reduction", "job_size"),
        }

    def test_default_effort_inputs(self) -> None:
        """RICE sizes by effort, WSJF by job size, the others have no size."""
        assert dict(DEFAULT_EFFORT_INPUT) == {
            "rice": "effort",
            "ice": None,
            "ice-avg": None,
            "wsjf": "job_size",
            "formula": None,
        }

    def test_formula_reads_spec_inputs(self) -> None:
        """A formula model reads the configured inputs; fixed models ignore them."""
        assert input_names(formula_spec("a+b", "a", "b")) == ("a", "b")
        assert input_names(ModelSpec("rice", ("x",))) == MODEL_INPUTS["rice"]


class TestRice:
    """RICE = reach × impact × confidence ÷ effort."""

    def test_design_example(self) -> None:
        """500 × High(2) × 80% ÷ 3 = 266.666… → 266.7 with its terms and explanation."""
        score = rice(500, "High", "80%", 3)
        assert score == Score(
            266.7,
            terms={"reach": 500.0, "impact": 2.0, "confidence": 0.8, "effort": 3.0},
            explanation="RICE 500×2×0.8/3 = 266.7",
        )

    @pytest.mark.parametrize(
        ("inputs", "value", "explanation"),
        [
            (("1,200", "Massive", "High", 2), 1800.0, "RICE 1200×3×1/2 = 1800"),
            ((100, 0.25, 50, "0.5"), 25.0, "RICE 100×0.25×0.5/0.5 = 25"),
            ((0, "Low", "Low", 1), 0.0, "RICE 0×0.5×0.5/1 = 0"),
            ((10, "Medium", "Medium", 3), 2.7, "RICE 10×1×0.8/3 = 2.7"),
            ((7, 1, 1, 8), 0.9, "RICE 7×1×1/8 = 0.9"),
        ],
    )
    def test_hand_computed(
        self, inputs: tuple[RawValue, ...], value: float, explanation: str
    ) -> None:
        """Hand-computed RICE values and explanations."""
        score = rice(*inputs)
        assert (score.value, score.explanation) == (value, explanation)

    def test_confidence_is_always_a_percent(self) -> None:
        """Confidence 80 means 80 % for RICE even when percent_inputs omits it."""
        assert rice(100, 1, 80, 1).terms["confidence"] == 0.8

    def test_effort_zero_is_invalid(self) -> None:
        """Effort 0 is missing input, never infinity."""
        score = rice(500, "High", "80%", 0)
        assert score.value is None
        assert score.missing == (Missing("effort", "Effort: must be greater than 0, found 0"),)
        assert score.explanation == ""

    def test_every_problem_is_collected(self) -> None:
        """All unreadable or out-of-range inputs are reported, in input order."""
        score = rice(-5, "Huge", "150%", -1)
        assert reasons(score) == [
            "Reach: must be 0 or more, found -5",
            "Impact: option 'Huge' is not in scales.impact (Massive, High, Medium, Low, Minimal)",
            "Confidence: must be between 0% and 100%, found 150%",
            "Effort: must be greater than 0, found -1",
        ]

    def test_absent_inputs_are_missing(self) -> None:
        """An input the item does not carry is reported as empty."""
        score = score_inputs({"reach": 10, "impact": 1}, RICE)
        assert reasons(score) == ["Confidence: empty", "Effort: empty"]
        assert score.terms == {"reach": 10.0, "impact": 1.0}

    def test_list_note_is_kept(self) -> None:
        """A decoding note lands in Score.notes and the item still scores."""
        score = rice(10, ["High", "Low"], 1, 1)
        assert score.value == 20.0
        assert score.notes == ("Impact: 2 values, used the first ('High')",)

    def test_overflowing_result_is_missing(self) -> None:
        """A product beyond float range is missing, not infinity."""
        score = rice(1e308, 3, 1, 0.001)
        assert score.value is None
        assert score.missing[0].input == "score"


class TestIce:
    """ICE and its additive variant."""

    def test_ice_product(self) -> None:
        """8 × 7 × 6 = 336."""
        score = score_inputs({"impact": 8, "confidence": 7, "ease": 6}, ICE)
        assert (score.value, score.explanation) == (336.0, "ICE 8×7×6 = 336")

    def test_ice_average(self) -> None:
        """(8 + 7 + 6) / 3 = 7."""
        score = score_inputs({"impact": 8, "confidence": 7, "ease": 6}, ICE_AVG)
        assert (score.value, score.explanation) == (7.0, "ICE (8+7+6)/3 = 7")

    def test_ice_average_rounds(self) -> None:
        """(10 + 5 + 5) / 3 = 6.666… → 6.7."""
        score = score_inputs({"impact": 10, "confidence": 5, "ease": 5}, ICE_AVG)
        assert (score.value, score.explanation) == (6.7, "ICE (10+5+5)/3 = 6.7")

    @pytest.mark.parametrize("spec", [ICE, ICE_AVG])
    def test_range_is_one_to_ten(self, spec: ModelSpec) -> None:
        """Values outside 1–10 are reported per input; the bounds themselves are fine."""
        score = score_inputs({"impact": 0, "confidence": "11", "ease": 10}, spec)
        assert reasons(score) == [
            "Impact: must be within 1–10, found 0",
            "Confidence: must be within 1–10, found 11",
        ]
        assert score_inputs({"impact": 1, "confidence": 10, "ease": 1}, spec).value is not None

    def test_percent_confidence_is_out_of_range_for_ice(self) -> None:
        """ "80%" is 0.8 and ICE says so instead of guessing 8."""
        score = score_inputs({"impact": 8, "confidence": "80%", "ease": 6}, ICE)
        assert reasons(score) == ["Confidence: must be within 1–10, found 0.8"]


class TestWsjf:
    """WSJF = (business value + time criticality + risk reduction) ÷ job size."""

    def test_hand_computed(self) -> None:
        """(8 + 5 + 3) / 5 = 3.2."""
        inputs = {"business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5}
        score = score_inputs(inputs, WSJF)
        assert (score.value, score.explanation) == (3.2, "WSJF (8+5+3)/5 = 3.2")

    def test_validation(self) -> None:
        """Negative parts and a zero job size are reported with display names."""
        inputs = {"business_value": -1, "time_criticality": 5, "risk_reduction": 0, "job_size": 0}
        assert reasons(score_inputs(inputs, WSJF)) == [
            "Business value: must be 0 or more, found -1",
            "Job size: must be greater than 0, found 0",
        ]


class TestFormulaModel:
    """The formula model inside score_inputs."""

    def test_hand_computed(self) -> None:
        """reach*impact/effort with 10, 5, 4 is 12.5."""
        spec = formula_spec("reach*impact/effort", "reach", "impact", "effort")
        score = score_inputs({"reach": 10, "impact": 5, "effort": 4}, spec)
        assert score.value == 12.5
        assert score.explanation == "formula reach*impact/effort = 12.5"

    def test_explanation_collapses_whitespace(self) -> None:
        """A multi-line formula is shown on one line."""
        spec = formula_spec("max(a,\n   b) * 2", "a", "b")
        score = score_inputs({"a": 1, "b": 3}, spec)
        assert score.explanation == "formula max(a, b) * 2 = 6"

    def test_scales_and_percents_apply(self) -> None:
        """Formula inputs decode through scales and percent_inputs like any other."""
        spec = ModelSpec(
            "formula",
            ("size", "odds"),
            scales={"size": {"L": 5.0}},
            percent_inputs=frozenset({"odds"}),
            formula="size * odds",
        )
        assert score_inputs({"size": "l", "odds": 50}, spec).value == 2.5

    def test_division_by_zero_is_missing(self) -> None:
        """Dividing by a zero input is missing with a reason."""
        spec = formula_spec("reach/effort", "reach", "effort")
        score = score_inputs({"reach": 1, "effort": 0}, spec)
        assert score.missing == (Missing("formula", "Formula: division by zero"),)

    def test_invalid_formula_is_reported_per_item(self) -> None:
        """A formula with an unknown name leaves every item unscored with the reason."""
        spec = formula_spec("rech * 2", "reach")
        assert reasons(score_inputs({"reach": 1}, spec)) == [
            "Formula: unknown name 'rech' (closest: reach)"
        ]

    def test_missing_formula(self) -> None:
        """A formula model without an expression is reported, not raised."""
        spec = ModelSpec("formula", ("a",))
        assert reasons(score_inputs({"a": 1}, spec)) == ["Formula: the formula is empty"]

    def test_every_configured_input_is_required(self) -> None:
        """Inputs listed for the formula are required even when unused."""
        spec = formula_spec("a * 2", "a", "b")
        assert reasons(score_inputs({"a": 1}, spec)) == ["B: empty"]

    def test_unknown_model_is_reported(self) -> None:
        """A model name outside the known set is missing input, not a crash."""
        spec = ModelSpec("magic", ())  # type: ignore[arg-type]
        assert reasons(score_inputs({}, spec)) == ["Model: unknown model 'magic'"]


class TestRounding:
    """Scores round half-up to the configured decimals."""

    @pytest.mark.parametrize(
        ("value", "decimals", "expected"),
        [
            (2.25, 1, 2.3),
            (2.35, 1, 2.4),
            (2.675, 2, 2.68),
            (0.5, 0, 1.0),
            (1.5, 0, 2.0),
            (2.5, 0, 3.0),
            (-2.5, 0, -3.0),
            (266.6666, 1, 266.7),
            (1234.5, -2, 1200.0),
            (-0.04, 1, 0.0),
            (1e300, 2, 1e300),
        ],
    )
    def test_round_half_up(self, value: float, decimals: int, expected: float) -> None:
        """Halves round away from zero, from the decimal the float was written as."""
        assert round_half_up(value, decimals) == expected

    def test_negative_zero_becomes_zero(self) -> None:
        """Rounding never yields -0.0 (it would print as "-0")."""
        assert str(round_half_up(-0.04, 1)) == "0.0"

    def test_decimals_apply_to_scores(self) -> None:
        """With decimals = 0 a RICE of 2.5 is 3 and the explanation shows 3."""
        spec = ModelSpec("rice", MODEL_INPUTS["rice"], decimals=0)
        score = score_inputs({"reach": 5, "impact": 1, "confidence": 1, "effort": 2}, spec)
        assert (score.value, score.explanation) == (3.0, "RICE 5×1×1/2 = 3")

    def test_two_decimals(self) -> None:
        """With decimals = 2, 1/3 is 0.33 and the explanation shows 0.33."""
        spec = ModelSpec("rice", MODEL_INPUTS["rice"], decimals=2)
        score = score_inputs({"reach": 1, "impact": 1, "confidence": 1, "effort": 3}, spec)
        assert (score.value, score.explanation) == (0.33, "RICE 1×1×1/3 = 0.33")

    @pytest.mark.parametrize(
        ("value", "text"),
        [(2.0, "2"), (0.8, "0.8"), (1200.0, "1200"), (1e20, "100000000000000000000"), (-0.0, "0")],
    )
    def test_format_number(self, value: float, text: str) -> None:
        """Numbers print without trailing zeros or exponents."""
        assert format_number(value) == text
