"""The ``formula`` model: a user's arithmetic expression over named inputs, evaluated safely.

The expression is parsed with :mod:`ast` and checked against a small grammar before
:mod:`simpleeval` evaluates it (never ``eval``): numbers, input names, ``+ - * / // % **``,
unary ``+``/``-``, parentheses and the functions ``abs``, ``log``, ``max``, ``min``, ``round``,
``sqrt`` with positional arguments. Anything else (names that are not inputs, attributes,
comparisons, text, keyword arguments, …) is refused by :func:`check_formula` with a message
that says what to change. Powers are computed in floating point, so ``10 ** 10 ** 10`` fails
fast with an overflow instead of building a huge integer.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import simpleeval

__all__ = ["ALLOWED_FUNCTIONS", "FormulaResult", "check_formula", "evaluate_formula"]

#: Function name → (implementation, fewest arguments, most arguments or None for any).
_FUNCTIONS: Mapping[str, tuple[Callable[..., Any], int, int | None]] = {
    "abs": (abs, 1, 1),
    "log": (math.log, 1, 2),
    "max": (max, 2, None),
    "min": (min, 2, None),
    "round": (round, 1, 2),
    "sqrt": (math.sqrt, 1, 1),
}
ALLOWED_FUNCTIONS: tuple[str, ...] = tuple(sorted(_FUNCTIONS))

_OPERATORS: Mapping[type[ast.AST], Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: math.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_STRUCTURE: tuple[type[ast.AST], ...] = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load)
_CONSTRUCT_NAMES: Mapping[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Lambda: "lambda",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignment",
    ast.Starred: "* arguments",
    ast.MatMult: "the @ operator",
    ast.BitAnd: "the & operator",
    ast.BitOr: "the | operator",
    ast.BitXor: "the ^ operator",
    ast.LShift: "the << operator",
    ast.RShift: "the >> operator",
    ast.Invert: "the ~ operator",
    ast.Not: "not",
}


@dataclass(frozen=True, slots=True)
class FormulaResult:
    """A formula's value, or the reason it has none (without an input-name prefix)."""

    value: float | None
    error: str | None = None


def check_formula(expr: str, names: Sequence[str]) -> str | None:
    """Return why ``expr`` is not a valid formula over the inputs ``names``, or None if it is."""
    return _parse(expr, tuple(names))[1]


def evaluate_formula(expr: str, values: Mapping[str, float]) -> FormulaResult:
    """Evaluate ``expr`` over ``values`` (every name it uses must be a key); never raises."""
    tree, error = _parse(expr, tuple(sorted(values)))
    if tree is None:
        return FormulaResult(None, error)
    evaluator = simpleeval.SimpleEval(
        operators=dict(_OPERATORS),
        functions={name: spec[0] for name, spec in _FUNCTIONS.items()},
        names=dict(values),
    )
    try:
        result: object = evaluator.eval(expr, previously_parsed=tree)
    except ZeroDivisionError:
        return FormulaResult(None, "division by zero")
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        return FormulaResult(None, f"cannot be computed for these inputs ({exc})")
    except simpleeval.InvalidExpression as exc:
        return FormulaResult(None, f"cannot be computed ({exc})")
    return _as_result(result)


def _as_result(result: object) -> FormulaResult:
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        return FormulaResult(None, f"result is not a number ({type(result).__name__})")
    try:
        number = float(result)
    except OverflowError:
        return FormulaResult(None, "result is too large")
    if not math.isfinite(number):
        return FormulaResult(None, f"result is not a finite number ({number})")
    return FormulaResult(number)


@lru_cache(maxsize=64)
def _parse(expr: str, names: tuple[str, ...]) -> tuple[ast.expr | None, str | None]:
    if not expr.strip():
        return None, "the formula is empty"
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        return None, f"syntax error at column {exc.offset or 0}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError):
        return None, "the formula cannot be parsed (too long, too deeply nested or not text)"
    error = _check_tree(tree, names)
    return (None, error) if error else (tree.body, None)


def _check_tree(tree: ast.Expression, names: tuple[str, ...]) -> str | None:
    function_names: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            error = _check_call(node)
            function_names.add(id(node.func))
        elif isinstance(node, ast.Name):
            error = None if id(node) in function_names else _check_name(node.id, names)
        elif isinstance(node, ast.Constant):
            error = _check_constant(node.value)
        elif isinstance(node, _STRUCTURE) or type(node) in _OPERATORS:
            error = None
        else:
            construct = _CONSTRUCT_NAMES.get(type(node), type(node).__name__)
            error = f"{construct} not allowed; {_GRAMMAR}"
        if error:
            return error
    return None


_GRAMMAR = "use numbers, input names, + - * / // % ** and the functions " + ", ".join(
    ALLOWED_FUNCTIONS
)


def _check_call(node: ast.Call) -> str | None:
    if not isinstance(node.func, ast.Name):
        return f"only the functions {', '.join(ALLOWED_FUNCTIONS)} can be called"
    name = node.func.id
    if name not in _FUNCTIONS:
        return f"unknown function '{name}'{_closest(name, ALLOWED_FUNCTIONS, 'allowed')}"
    if node.keywords:
        return f"{name}() takes positional arguments only"
    _, fewest, most = _FUNCTIONS[name]
    count = len(node.args)
    if count < fewest or (most is not None and count > most):
        if fewest == most:
            wanted = str(fewest)
        elif most is None:
            wanted = f"{fewest} or more"
        else:
            wanted = f"{fewest} or {most}"
        return f"{name}() takes {wanted} argument{'s' if wanted != '1' else ''}, found {count}"
    return None


def _check_name(name: str, names: tuple[str, ...]) -> str | None:
    if name in names:
        return None
    return f"unknown name '{name}'{_closest(name, names, 'inputs')}"


def _check_constant(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{value!r} is not allowed: constants must be numbers"
    return None


def _closest(name: str, candidates: Sequence[str], label: str) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if close:
        return f" (closest: {', '.join(close)})"
    return f" ({label}: {', '.join(candidates)})" if candidates else " (no inputs are configured)"
