"""The wheel holds exactly the packages pyproject lists, and the environment is consistent.

priosync is an application installed into its own environment, so its layers are top-level
packages (``config``, ``scoring``, ``connectors``, ``sync``, …). These tests build the real
wheel and look inside it, so a package left out of the list (or one listed by mistake) fails
here rather than on a user's machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LISTED = set(PYPROJECT["tool"]["setuptools"]["packages"])
#: Top-level folders that are not part of the distribution.
NOT_SHIPPED = {"tests", "bench", "scripts", "examples", "docs"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Build from a copy of the tree, so setuptools' build/ and egg-info stay out of the
    # checkout and nothing but the sources can end up in the wheel.
    tree = tmp_path_factory.mktemp("tree") / "priosync"
    shutil.copytree(
        ROOT,
        tree,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            ".cache",
        ),
        symlinks=True,
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--quiet", "--wheel-dir", str(out), "."),
        ],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("priosync-*.whl")
    return zipfile.ZipFile(built)


class TestPackageList:
    def test_every_package_in_the_tree_is_listed(self) -> None:
        """Each folder with an __init__.py outside tests/bench/scripts is in [tool.setuptools] packages."""
        found = {
            ".".join(init.parent.relative_to(ROOT).parts)
            for init in ROOT.rglob("__init__.py")
            if init.relative_to(ROOT).parts[0] not in NOT_SHIPPED
            and ".venv" not in init.parts
            and "build" not in init.relative_to(ROOT).parts[:1]
            and not init.relative_to(ROOT).parts[0].startswith(".")  # .cache, .git, …
        }
        assert found == LISTED

    def test_the_wheel_holds_exactly_the_listed_packages(self, wheel: zipfile.ZipFile) -> None:
        """The built wheel's packages are the list: nothing missing, nothing extra (no tests)."""
        packages = {
            ".".join(Path(name).parent.parts)
            for name in wheel.namelist()
            if name.endswith("/__init__.py")
        }
        assert packages == LISTED

    def test_the_wheel_carries_its_package_data(self, wheel: zipfile.ZipFile) -> None:
        """Files named as package data (the sandbox's GraphQL schema) are inside the wheel."""
        names = set(wheel.namelist())
        for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
            base = ROOT.joinpath(*package.split("."))
            for pattern in patterns:
                files = list(base.glob(pattern))
                assert files, f"{package}: {pattern}"
                for file in files:
                    assert file.relative_to(ROOT).as_posix() in names

    def test_the_console_script_points_into_the_wheel(self, wheel: zipfile.ZipFile) -> None:
        """`priosync` is declared as an entry point whose module is shipped."""
        (entry_points,) = (n for n in wheel.namelist() if n.endswith("entry_points.txt"))
        text = wheel.read(entry_points).decode()
        assert "priosync = cli.main:main" in text
        assert "cli/main.py" in wheel.namelist()


class TestEnvironment:
    def test_pip_check_is_clean(self) -> None:
        """Every installed distribution's requirements are met in priosync's environment."""
        result = subprocess.run(
            [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_no_other_distribution_ships_our_top_level_names(self) -> None:
        """No installed distribution provides a top-level module with one of our package names."""
        from importlib.metadata import distributions

        ours = {p for p in LISTED if "." not in p}
        clashes = {}
        for dist in distributions():
            if dist.metadata["Name"] == "priosync":
                continue
            top = (dist.read_text("top_level.txt") or "").split()
            for name in ours.intersection(top):
                clashes[name] = dist.metadata["Name"]
        assert clashes == {}
