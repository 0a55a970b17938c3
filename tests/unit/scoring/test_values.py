"""Value decoding: every rule of scoring.values and the messages a PM reads."""

from __future__ import annotations

import pytest

from priosync.domain import Missing, RawValue
from scoring.formatting import display_name
from scoring.values import Decoded, decode_value

IMPACT_SCALE = {"Massive": 3.0, "High": 2.0, "Medium": 1.0, "Low": 0.5, "Minimal": 0.25}
SIZES = {"XS": 1.0, "S": 2.0, "M": 3.0, "L": 5.0, "XL": 8.0}


def value_of(
    raw: RawValue, *, scale: dict[str, float] | None = None, percent: bool = False
) -> float | None:
    return decode_value("reach", raw, scale=scale, percent=percent).value


class TestNumbers:
    """Numbers and numeric strings."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (3, 3.0),
            (0, 0.0),
            (-2, -2.0),
            (3.5, 3.5),
            ("3.5", 3.5),
            ("  42 ", 42.0),
            ("\t7\n", 7.0),
            ("1,200", 1200.0),
            ("1,200,300.25", 1200300.25),
            ("-1,000", -1000.0),
            ("+5", 5.0),
            (".5", 0.5),
            ("0012", 12.0),
        ],
    )
    def test_reads_numbers_and_numeric_strings(self, raw: RawValue, expected: float) -> None:
        """Ints, floats and numeric strings (trimmed, with thousands commas) become floats."""
        assert value_of(raw) == expected

    @pytest.mark.parametrize(
        "raw", ["1,20", "1,2000", ",100", "12,", "1.2.3", "1e3", "3 5", "NaN", "inf", "０"]
    )
    def test_rejects_malformed_numeric_strings(self, raw: str) -> None:
        """Misplaced commas, exponents, NaN/inf text and non-ASCII digits are not numbers."""
        decoded = decode_value("effort", raw, scale=None, percent=False)
        assert decoded.value is None
        assert decoded.missing == Missing("effort", f"Effort: {raw!r} is not a number")

    @pytest.mark.parametrize("raw", [True, False])
    def test_bool_is_not_a_number(self, raw: bool) -> None:
        """A checkbox value is missing, never 1 or 0."""
        decoded = decode_value("reach", raw, scale=None, percent=False)
        assert decoded.value is None
        assert decoded.missing == Missing(
            "reach", f"Reach: {raw!r} is a yes/no value, not a number"
        )

    @pytest.mark.parametrize("raw", [float("nan"), float("inf"), float("-inf")])
    def test_non_finite_floats_are_missing(self, raw: float) -> None:
        """NaN and infinities are not usable numbers."""
        decoded = decode_value("reach", raw, scale=None, percent=False)
        assert decoded.value is None
        assert decoded.missing is not None
        assert decoded.missing.reason == f"Reach: {raw!r} is not a usable number"

    def test_huge_integer_is_missing(self) -> None:
        """An integer beyond float range is reported, not raised."""
        decoded = decode_value("reach", 10**400, scale=None, percent=False)
        assert decoded.missing == Missing("reach", "Reach: the number is too large")

    def test_huge_numeric_string_is_missing(self) -> None:
        """A numeric string beyond float range is reported, with the text cut short."""
        decoded = decode_value("reach", "9" * 400, scale=None, percent=False)
        assert decoded.missing is not None
        assert decoded.missing.reason == f"Reach: '{'9' * 40}…' is too large a number"


class TestPercents:
    """Percent strings and percent inputs."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("80%", 0.8),
            (" 80 % ", 0.8),
            ("12.5%", 0.125),
            ("33.3%", 0.333),
            ("100%", 1.0),
            ("150%", 1.5),
            (80, 0.8),
            ("80", 0.8),
            (0.8, 0.8),
            (1, 1.0),
            (0, 0.0),
            (50.5, 0.505),
        ],
    )
    def test_percent_input(self, raw: RawValue, expected: float) -> None:
        """For a percent input "80%" and any number above 1 are percents; 0–1 stays a fraction."""
        assert value_of(raw, percent=True) == expected

    def test_percent_sign_on_plain_input_is_a_fraction(self) -> None:
        """ "80%" is 0.8 even for an input not configured as a percent."""
        assert value_of("80%", percent=False) == 0.8

    def test_plain_input_keeps_numbers_above_one(self) -> None:
        """Without the percent flag, 80 stays 80."""
        assert value_of(80, percent=False) == 80.0

    def test_scale_value_of_percent_input_is_normalised(self) -> None:
        """A confidence scale written in percent (High = 100) yields fractions too."""
        decoded = decode_value("confidence", "High", scale={"High": 100.0}, percent=True)
        assert decoded.value == 1.0


class TestScales:
    """Select options and t-shirt sizes through a scale."""

    @pytest.mark.parametrize(
        ("raw", "expected"), [("High", 2.0), ("high", 2.0), ("  MASSIVE ", 3.0), ("Minimal", 0.25)]
    )
    def test_option_lookup_is_case_insensitive_and_trimmed(self, raw: str, expected: float) -> None:
        """Options match whatever their case and surrounding whitespace."""
        assert decode_value("impact", raw, scale=IMPACT_SCALE, percent=False).value == expected

    def test_inner_whitespace_is_collapsed(self) -> None:
        """ "Very   high" matches the option "Very High"."""
        decoded = decode_value("impact", "Very   high", scale={"Very High": 4.0}, percent=False)
        assert decoded.value == 4.0

    @pytest.mark.parametrize(("raw", "expected"), [("XS", 1.0), ("xl", 8.0), ("M", 3.0)])
    def test_tshirt_sizes(self, raw: str, expected: float) -> None:
        """T-shirt sizes map through the effort scale."""
        assert decode_value("effort", raw, scale=SIZES, percent=False).value == expected

    @pytest.mark.parametrize(("raw", "expected"), [(5, 5.0), ("5", 5.0), (0.5, 0.5)])
    def test_numbers_pass_through_when_a_scale_exists(self, raw: RawValue, expected: float) -> None:
        """A number is used as is even for an input with a scale."""
        assert decode_value("impact", raw, scale=IMPACT_SCALE, percent=False).value == expected

    def test_option_named_like_a_number_wins(self) -> None:
        """A scale option "1" is looked up before the text is read as a number."""
        assert decode_value("impact", "1", scale={"1": 10.0}, percent=False).value == 10.0

    def test_unknown_option_lists_the_scale(self) -> None:
        """An option missing from the scale names the scale and lists its options in order."""
        decoded = decode_value("impact", "Huge", scale=IMPACT_SCALE, percent=False)
        assert decoded.missing == Missing(
            "impact",
            "Impact: option 'Huge' is not in scales.impact (Massive, High, Medium, Low, Minimal)",
            option="Huge",
        )

    def test_long_scales_are_cut_in_the_message(self) -> None:
        """Only the first 12 options are listed, then an ellipsis."""
        scale = {f"O{i}": float(i) for i in range(20)}
        decoded = decode_value("impact", "nope", scale=scale, percent=False)
        assert decoded.missing is not None
        assert decoded.missing.reason.endswith(
            "(O0, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, …)"
        )

    def test_text_without_scale_is_not_a_number(self) -> None:
        """Text for an input without a scale says it is not a number."""
        decoded = decode_value("effort", "n/a", scale=None, percent=False)
        assert decoded.missing == Missing("effort", "Effort: 'n/a' is not a number")


class TestListsAndEmpties:
    """Multi-select lists, None and empty strings."""

    def test_list_uses_first_value_with_a_note(self) -> None:
        """Several values: the first is used and a note says so."""
        decoded = decode_value("impact", ["High", "Low"], scale=IMPACT_SCALE, percent=False)
        assert decoded == Decoded(2.0, None, "Impact: 2 values, used the first ('High')")

    def test_single_value_list_has_no_note(self) -> None:
        """A one-element list is an ordinary value."""
        assert decode_value("reach", [7], scale=None, percent=False) == Decoded(7.0)

    def test_nested_list_unwraps_to_first_scalar(self) -> None:
        """Nested lists are unwrapped without recursion limits."""
        raw: RawValue = 5
        for _ in range(5000):
            raw = [raw]
        assert decode_value("reach", raw, scale=None, percent=False).value == 5.0

    def test_bad_first_value_is_missing(self) -> None:
        """When the first list value cannot be read the whole input is missing."""
        decoded = decode_value("impact", ["Huge", "High"], scale=IMPACT_SCALE, percent=False)
        assert decoded.value is None
        assert decoded.note is None

    @pytest.mark.parametrize("raw", [None, "", "   ", [], [[]], [None, 3]])
    def test_empty_values_are_missing(self, raw: RawValue) -> None:
        """None, blank text and empty lists are reported as empty."""
        decoded = decode_value("reach", raw, scale=None, percent=False)
        assert decoded == Decoded(None, Missing("reach", "Reach: empty"))

    def test_unsupported_type_is_missing(self) -> None:
        """A value of a type no tracker should send (a dict) is reported by its type."""
        raw: object = {"value": "High"}
        decoded = decode_value("impact", raw, scale=IMPACT_SCALE, percent=False)  # type: ignore[arg-type]
        assert decoded.missing == Missing(
            "impact", "Impact: a dict value cannot be read as a number or an option"
        )

    def test_long_text_is_cut_in_the_message(self) -> None:
        """A long unreadable string appears shortened, on one line."""
        decoded = decode_value("effort", "x" * 100 + "\nmore", scale=None, percent=False)
        assert decoded.missing is not None
        assert decoded.missing.reason == f"Effort: '{'x' * 40}…' is not a number"


class TestDisplayName:
    """Input names as a PM reads them."""

    @pytest.mark.parametrize(
        ("name", "shown"),
        [
            ("reach", "Reach"),
            ("business_value", "Business value"),
            ("time_criticality", "Time criticality"),
            ("job-size", "Job size"),
            ("RICE", "RICE"),
            ("", "Input"),
            ("\n", "Input"),
        ],
    )
    def test_display_name(self, name: str, shown: str) -> None:
        """Underscores and dashes become spaces and the first letter is capitalised."""
        assert display_name(name) == shown
