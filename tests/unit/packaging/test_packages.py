"""The wheel must carry every package: pyproject lists them explicitly, so check the list."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[3]


class TestPackageList:
    def test_every_package_is_listed(self) -> None:
        """Each directory under priosync/ with an __init__.py is in [tool.setuptools] packages."""
        listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
        found = {
            ".".join(init.parent.relative_to(ROOT).parts)
            for init in (ROOT / "priosync").rglob("__init__.py")
        }
        assert found == listed

    def test_package_data_exists(self) -> None:
        """Files named as package data are where pyproject says."""
        data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
        for package, patterns in data.items():
            base = ROOT.joinpath(*package.split("."))
            for pattern in patterns:
                assert list(base.glob(pattern)), f"{package}: {pattern}"
