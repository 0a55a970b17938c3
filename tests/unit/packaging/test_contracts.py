"""The vendored API descriptions are the files their README describes, byte for byte."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
README = (CONTRACTS / "README.md").read_text(encoding="utf-8")
#: `| `file` | what | size | sha256 |` rows of the README's table.
ROWS = re.findall(r"^\| `([\w.-]+)` \|[^|]+\| ([\d,]+) B \| `([0-9a-f]{64})` \|$", README, re.M)


class TestVendoredContracts:
    def test_the_readme_lists_every_file(self) -> None:
        """Every data file in tests/contracts has a row (and no row names a missing file)."""
        listed = {name for name, _, _ in ROWS}
        present = {p.name for p in CONTRACTS.iterdir() if p.name != "README.md"}
        assert listed == present
        assert len(listed) == 3

    @pytest.mark.parametrize(("name", "size", "sha256"), ROWS)
    def test_size_and_digest_match(self, name: str, size: str, sha256: str) -> None:
        """The file has the size and sha256 its README row records."""
        data = (CONTRACTS / name).read_bytes()
        assert len(data) == int(size.replace(",", ""))
        assert hashlib.sha256(data).hexdigest() == sha256


class TestSelfContained:
    def test_no_file_refers_outside_the_repository(self) -> None:
        """No tracked text file names a path outside the repository (a fresh clone has none)."""
        root = Path(__file__).resolve().parents[3]
        parent = str(root.parent) + "/"
        # Built from parts, so this file does not name the path it looks for.
        outside = ["/".join(("..", "shared")), parent]
        offenders = []
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if not path.is_file() or rel.parts[0].startswith(".") or "__pycache__" in rel.parts:
                continue
            if rel.parts[0] in ("build", "dist") or rel.parts[0].endswith(".egg-info"):
                continue
            if path.suffix in (".png", ".sqlite3", ".whl"):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            offenders += [f"{rel}: {needle}" for needle in outside if needle in text]
        assert offenders == []
