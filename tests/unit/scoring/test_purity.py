"""The scoring core is pure: it imports nothing that does I/O or reads a clock or randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import scoring

#: Pure standard-library modules, simpleeval, and our own packages (checked more closely below).
ALLOWED_TOP_LEVEL = frozenset(
    {
        "__future__",
        "ast",
        "bisect",
        "collections",
        "dataclasses",
        "decimal",
        "difflib",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "math",
        "operator",
        "re",
        "typing",
        "simpleeval",
        "priosync",
        "scoring",
    }
)
ALLOWED_OWN = ("priosync.domain", "priosync.errors", "scoring")

SCORING_DIR = Path(scoring.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Return the absolute module names a source file imports (relative ones resolved)."""
    package = "scoring"  # every file here is a module of this package
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                modules.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                modules.add(node.module)
    return modules


class TestScoringPurity:
    """Walk the AST of every scoring module and check its imports against an allow-list."""

    def test_every_module_is_checked(self) -> None:
        """The walk finds the scoring modules (so an empty walk cannot pass silently)."""
        names = {p.name for p in SCORING_DIR.glob("*.py")}
        assert {"__init__.py", "values.py", "models.py", "ranking.py", "formula.py"} <= names

    def test_only_pure_modules_are_imported(self) -> None:
        """Every top-level import is in the allow-list (no os, time, datetime, random, httpx…)."""
        offenders = {
            f"{path.name}: {module}"
            for path in SCORING_DIR.rglob("*.py")
            for module in imported_modules(path)
            if module.split(".")[0] not in ALLOWED_TOP_LEVEL
        }
        assert offenders == set()

    def test_own_imports_stay_below_scoring(self) -> None:
        """Of our own package, scoring imports only the domain types, errors and itself."""
        offenders = {
            f"{path.name}: {module}"
            for path in SCORING_DIR.rglob("*.py")
            for module in imported_modules(path)
            if module.split(".")[0] in ("priosync", "scoring")
            and not module.startswith(ALLOWED_OWN)
        }
        assert offenders == set()

    def test_no_dynamic_imports_or_eval(self) -> None:
        """No __import__, importlib, eval, exec or open call appears in scoring."""
        forbidden = {"__import__", "eval", "exec", "open", "compile", "input"}
        calls = {
            f"{path.name}: {node.func.id}"
            for path in SCORING_DIR.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in forbidden
        }
        assert calls == set()

    def test_the_checker_catches_an_impure_import(self, tmp_path: Path) -> None:
        """The import walker sees plain, dotted and from-imports."""
        sample = tmp_path / "sample.py"
        sample.write_text("import os.path\nfrom time import monotonic\nfrom . import values\n")
        assert imported_modules(sample) == {"os.path", "time", "scoring"}
