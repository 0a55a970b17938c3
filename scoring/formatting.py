"""Number formatting and rounding shared by decoding, models and explanations.

Pure helpers. Decimal arithmetic starts from ``repr(x)`` (the shortest string that round-trips
the float), so 2.675 rounds to 2.68 and 0.1 + 0.2 style noise never leaks into what a PM reads.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache

#: Terms in explanations show at most this many decimals (inputs rarely have more).
TERM_DECIMALS = 6


def display_name(name: str) -> str:
    """Return the input name as a PM reads it: ``business_value`` → ``Business value``."""
    words = name.replace("_", " ").replace("-", " ").split()
    # Messages are one line: a blank or whitespace-only name must not break that.
    text = " ".join(words) or "Input"
    return text[:1].upper() + text[1:]


def to_decimal(value: float) -> Decimal:
    """Return the decimal a float was written as (``0.1`` → ``Decimal('0.1')``); finite only."""
    return Decimal(repr(float(value)))


def round_half_up(value: float, decimals: int) -> float:
    """Round ``value`` to ``decimals`` places, halves away from zero (2.5 → 3, 2.675 → 2.68).

    Non-finite values are returned unchanged; ``-0.0`` becomes ``0.0``.
    """
    if not math.isfinite(value):
        return value
    if decimals >= 0 and _decimal_places(value) <= decimals:
        return value + 0.0  # already short enough (the common case): nothing to round
    exact = to_decimal(value)
    quantum = Decimal(1).scaleb(-decimals)
    # Enough precision for any finite double at any requested number of decimals.
    context = _half_up_context(max(28, exact.adjusted() + abs(decimals) + 4))
    try:
        rounded = exact.quantize(quantum, context=context)
    except InvalidOperation:
        return value
    return float(rounded) + 0.0


@lru_cache(maxsize=32)
def _half_up_context(precision: int) -> Context:
    return Context(prec=precision, rounding=ROUND_HALF_UP)


def _decimal_places(value: float) -> int:
    """Return how many decimals ``repr(value)`` shows; large for exponent notation."""
    text = repr(value)
    if "e" in text:
        return 10_000
    return len(text) - text.index(".") - 1 if "." in text else 0


def format_number(value: float, *, max_decimals: int | None = None) -> str:
    """Format a number without trailing zeros or exponent: 2.0 → ``2``, 0.80 → ``0.8``.

    With ``max_decimals`` the number is first rounded half-up to that many places.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if max_decimals is not None:
        value = round_half_up(value, max_decimals)
    text = repr(value + 0.0)
    if "e" in text:
        text = format(to_decimal(value).normalize(), "f")
    elif text.endswith(".0"):
        text = text[:-2]
    return "0" if text in ("-0", "0") else text


def format_term(value: float) -> str:
    """Format one model input for an explanation (at most ``TERM_DECIMALS`` decimals)."""
    return format_number(value, max_decimals=TERM_DECIMALS)


def format_percent(value: float) -> str:
    """Format a fraction as a percent: 0.8 → ``80%``, 1.5 → ``150%``."""
    if not math.isfinite(value):
        return format_number(value)
    return format(((to_decimal(value) * 100).normalize()), "f") + "%"
