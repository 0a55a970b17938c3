"""Turn a raw tracker value into a number, or say exactly why it cannot be one.

``decode_value`` never raises. Its rules, in order:

- **Lists** (multi-selects) use their first value; when there were several, a note says so
  ("Impact: 2 values, used the first ('High')"). An empty list is missing.
- **None**, ``""`` and whitespace-only strings are missing ("Reach: empty").
- **Booleans** are not numbers (a checkbox is not a score): missing.
- **Numbers** (int, float) pass through, even when the input has a scale. NaN, infinities and
  integers too large for a float are missing.
- **Strings** are trimmed, then looked up in the input's scale (select options, t-shirt sizes),
  case-insensitively and ignoring repeated inner whitespace. A string that is not an option is
  read as a number: ``"3.5"``, ``"-2"``, ``"1,200"`` (commas only as thousands separators in
  groups of three: ``"1,20"`` is not a number), ``"80%"``. Scale options win over numbers, so a
  scale that maps the option ``"1"`` to 10 is honoured.
- **Percents.** A string ending in ``%`` is divided by 100 for every input (``"80%"`` → 0.8,
  even for an input not configured as a percent: the author wrote a fraction). For a percent
  input a number greater than 1 is also a percent (``80`` → 0.8, ``"80"`` → 0.8, a scale value of
  80 → 0.8) while 0.8 and 1 stay as they are.
- Anything else is missing with a reason a PM can act on:
  ``Impact: option 'Huge' is not in scales.impact (Massive, High, Medium, Low, Minimal)``,
  ``Effort: 'n/a' is not a number``.

The ``reason`` of every ``Missing`` starts with the input's display name (``Business value:``)
so reasons can be shown on their own or joined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from priosync.domain import Missing, RawValue
from scoring.formatting import display_name

__all__ = ["Decoded", "decode_value", "describe_raw"]

_NUMBER = re.compile(
    r"(?P<number>[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+))"
    r"(?:\s*(?P<percent>%))?"
)
#: Long raw strings are cut in messages so one bad cell cannot flood a report.
_MAX_SHOWN_CHARS = 40
#: At most this many options are listed in an "is not in scales.x" message.
_MAX_SHOWN_OPTIONS = 12


@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of decoding one raw value: a number, or why there is none; maybe a note."""

    value: float | None
    missing: Missing | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """True when a number was decoded."""
        return self.value is not None


def decode_value(
    name: str,
    raw: RawValue,
    *,
    scale: Mapping[str, float] | None,
    percent: bool,
) -> Decoded:
    """Decode ``raw`` for the model input ``name`` following the module's rules; never raises."""
    value: object = raw
    count = len(value) if isinstance(value, (list, tuple)) else 0
    while isinstance(value, (list, tuple)):
        if not value:
            return _missing(name, "empty")
        value = value[0]
    decoded = _decode_scalar(name, value, scale=scale, percent=percent)
    if decoded.ok and count > 1:
        note = f"{display_name(name)}: {count} values, used the first ({describe_raw(value)})"
        return Decoded(decoded.value, None, note)
    return decoded


def describe_raw(value: object) -> str:
    """Show a raw value in a message on one line: ``'High'``, ``3``, ``True``."""
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN_CHARS else value[:_MAX_SHOWN_CHARS] + "…"
        return repr(shown)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return "a very large number"  # repr() of a huge int can itself raise
    if isinstance(value, (bool, int, float)):
        return repr(value)
    return f"a {type(value).__name__} value"


def _decode_scalar(
    name: str, value: object, *, scale: Mapping[str, float] | None, percent: bool
) -> Decoded:
    if value is None:
        return _missing(name, "empty")
    if isinstance(value, bool):
        return _missing(name, f"{value!r} is a yes/no value, not a number")
    if isinstance(value, (int, float)):
        return _decode_number(name, value, percent=percent)
    if isinstance(value, str):
        return _decode_text(name, value, scale=scale, percent=percent)
    return _missing(name, f"{describe_raw(value)} cannot be read as a number or an option")


def _decode_number(name: str, value: int | float, *, percent: bool) -> Decoded:
    try:
        number = float(value)
    except OverflowError:
        return _missing(name, "the number is too large")
    if not math.isfinite(number):
        return _missing(name, f"{describe_raw(value)} is not a usable number")
    return Decoded(_as_fraction(number) if percent and number > 1 else number)


def _decode_text(
    name: str, text: str, *, scale: Mapping[str, float] | None, percent: bool
) -> Decoded:
    stripped = text.strip()
    if not stripped:
        return _missing(name, "empty")
    if scale:
        option = _lookup_option(stripped, scale)
        if option is not None:
            return _decode_number(name, option, percent=percent)
    parsed = _parse_number(stripped)
    if parsed is not None:
        number, has_percent_sign = parsed
        if not math.isfinite(number):
            return _missing(name, f"{describe_raw(stripped)} is too large a number")
        if has_percent_sign:
            return Decoded(_as_fraction(number))
        return _decode_number(name, number, percent=percent)
    if scale:
        options = ", ".join(list(scale)[:_MAX_SHOWN_OPTIONS])
        if len(scale) > _MAX_SHOWN_OPTIONS:
            options += ", …"
        reason = f"option {describe_raw(stripped)} is not in scales.{name} ({options})"
        return _missing(name, reason, option=stripped)
    return _missing(name, f"{describe_raw(stripped)} is not a number")


def _lookup_option(text: str, scale: Mapping[str, float]) -> float | None:
    wanted = _option_key(text)
    for option, number in scale.items():
        if _option_key(option) == wanted:
            return number
    return None


def _option_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _parse_number(text: str) -> tuple[float, bool] | None:
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    try:
        number = float(Decimal(match["number"].replace(",", "")))
    except (InvalidOperation, OverflowError):
        return None
    return number, match["percent"] is not None


def _as_fraction(number: float) -> float:
    """Divide by 100 in decimal so ``33.3`` becomes 0.333, not 0.33299999999999996."""
    return float(Decimal(repr(number)) / 100)


def _missing(name: str, why: str, *, option: str | None = None) -> Decoded:
    # Option names come from the config and values from the tracker: either may hold a
    # newline, but a reason is shown on one line (tables, labels, the JSON report).
    reason = " ".join(f"{display_name(name)}: {why}".split())
    return Decoded(None, Missing(input=name, reason=reason, option=option))
