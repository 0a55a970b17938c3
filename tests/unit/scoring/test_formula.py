"""Formula checking and safe evaluation (scoring.formula)."""

from __future__ import annotations

import pytest

from scoring import check_formula
from scoring.formula import ALLOWED_FUNCTIONS, FormulaResult, evaluate_formula

NAMES = ("reach", "impact", "effort")


class TestCheckFormula:
    """Config-time validation of a formula's text."""

    @pytest.mark.parametrize(
        "expr",
        [
            "reach * impact / effort",
            "(reach + impact) // 2 % 3 - -effort",
            "reach ** 0.5",
            "sqrt(reach) + log(impact) + log(impact, 10)",
            "max(reach, impact, 1) - min(effort, 2) + abs(-3) + round(reach, 1) + round(reach)",
            "  reach  ",
            "+reach",
        ],
    )
    def test_accepts_arithmetic(self, expr: str) -> None:
        """Numbers, input names, arithmetic and the allowed functions pass."""
        assert check_formula(expr, NAMES) is None

    @pytest.mark.parametrize(
        ("expr", "message"),
        [
            ("", "the formula is empty"),
            ("   ", "the formula is empty"),
            ("rech * 2", "unknown name 'rech' (closest: reach)"),
            ("zzz", "unknown name 'zzz' (inputs: reach, impact, effort)"),
            ("sqr(reach)", "unknown function 'sqr' (closest: sqrt)"),
            ("exp(reach)", "unknown function 'exp' (allowed: abs, log, max, min, round, sqrt)"),
            ("round(reach, ndigits=1)", "round() takes positional arguments only"),
            ("max(reach)", "max() takes 2 or more arguments, found 1"),
            ("sqrt(reach, 2)", "sqrt() takes 1 argument, found 2"),
            ("log()", "log() takes 1 or 2 arguments, found 0"),
            ("'a' * reach", "'a' is not allowed: constants must be numbers"),
            ("True + reach", "True is not allowed: constants must be numbers"),
        ],
    )
    def test_reports_what_to_change(self, expr: str, message: str) -> None:
        """Each refusal says what is wrong and, for names, the closest valid ones."""
        assert check_formula(expr, NAMES) == message

    @pytest.mark.parametrize(
        ("expr", "construct"),
        [
            ("reach.real", "attribute access"),
            ("reach if impact else effort", "if/else"),
            ("reach > 1", "comparisons"),
            ("reach and impact", "and/or"),
            ("[reach][0]", "indexing"),
            ("reach & 1", "the & operator"),
            ("(lambda: 1)()", "only the functions"),
            ("__import__('os')", "unknown function '__import__'"),
        ],
    )
    def test_refuses_other_constructs(self, expr: str, construct: str) -> None:
        """Anything beyond arithmetic is refused, naming the construct."""
        message = check_formula(expr, NAMES)
        assert message is not None
        assert construct in message

    def test_syntax_error_names_the_column(self) -> None:
        """A syntax error says where."""
        message = check_formula("reach * (impact", NAMES)
        assert message is not None
        assert message.startswith("syntax error at column ")

    def test_statements_are_refused(self) -> None:
        """Two statements or an assignment are syntax errors in a formula."""
        assert check_formula("reach; impact", NAMES) is not None
        assert check_formula("x = reach", NAMES) is not None

    def test_absurdly_nested_formula_is_refused(self) -> None:
        """Deep nesting is reported, not a crash."""
        assert check_formula("(" * 500 + "reach" + ")" * 500, NAMES) is not None

    def test_no_inputs_configured(self) -> None:
        """With no inputs at all the message says so."""
        assert check_formula("a", ()) == "unknown name 'a' (no inputs are configured)"

    def test_allowed_functions(self) -> None:
        """Exactly the documented functions are allowed."""
        assert ALLOWED_FUNCTIONS == ("abs", "log", "max", "min", "round", "sqrt")


class TestEvaluateFormula:
    """Runtime evaluation over decoded inputs."""

    def test_computes(self) -> None:
        """A valid formula yields its value."""
        assert evaluate_formula("a * b + sqrt(c)", {"a": 2, "b": 3, "c": 16}) == FormulaResult(10.0)

    @pytest.mark.parametrize(
        ("expr", "values", "error"),
        [
            ("a / b", {"a": 1.0, "b": 0.0}, "division by zero"),
            ("a // b", {"a": 1.0, "b": 0.0}, "division by zero"),
            ("a % b", {"a": 1.0, "b": 0.0}, "division by zero"),
        ],
    )
    def test_division_by_zero(self, expr: str, values: dict[str, float], error: str) -> None:
        """All three divisions by zero are reported the same way."""
        assert evaluate_formula(expr, values) == FormulaResult(None, error)

    @pytest.mark.parametrize(
        "expr",
        ["sqrt(a)", "log(a)", "a ** 0.5", "10 ** 10 ** 10", "log(1, 1)", "round(a*1e308*10)"],
    )
    def test_domain_and_overflow_errors(self, expr: str) -> None:
        """Math domain errors and overflows are reasons, never exceptions."""
        result = evaluate_formula(expr, {"a": -1.0})
        assert result.value is None
        assert result.error is not None

    def test_infinite_result_is_refused(self) -> None:
        """A result that overflows to infinity is not a number a tracker can hold."""
        result = evaluate_formula("a * a", {"a": 1e200})
        assert result == FormulaResult(None, "result is not a finite number (inf)")

    def test_huge_integer_result(self) -> None:
        """An integer too large for a float is reported."""
        result = evaluate_formula("10" + " * 10" * 400, {"a": 1.0})
        assert result == FormulaResult(None, "result is too large")

    def test_unknown_name_at_evaluation(self) -> None:
        """Evaluating with fewer values than names used is a reason, not a crash."""
        result = evaluate_formula("a + b", {"a": 1.0})
        assert result == FormulaResult(None, "unknown name 'b' (inputs: a)")
