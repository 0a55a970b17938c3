"""`priosync rank` on the shipped CSV export, as a user runs it (a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "file.toml"

# Hand-computed from examples/backlog.csv: RICE = reach × impact × confidence ÷ effort,
# tiers Highest top 2 / High ≥ 250 / Medium ≥ 100 / Low, buckets now 8 / next 12 / later.
EXPECTED = [
    ("WEB-5", 1, 1000.0, "Highest", "now"),  # 500×1×1/0.5, effort 0.5 (now: 0.5)
    ("WEB-4", 2, 500.0, "Highest", "now"),  # 2000×3×0.5/6 (now: 6.5)
    ("WEB-1", 3, 320.0, "High", "next"),  # 800×2×0.8/4; 10.5 > 8 closes now (next: 4)
    ("WEB-2", 4, 300.0, "High", "next"),  # 1,200×0.5×1/2 (next: 6); ties break by key
    ("WEB-11", 5, 300.0, "High", "next"),  # 600×2×0.5/2 (next: 8)
    ("WEB-12", 6, 300.0, "High", "later"),  # 1000×3×0.8/8; 16 > 12 closes next
    ("WEB-3", 7, 240.0, "Medium", "later"),  # 300×1×80%/1: next stays closed though it would fit
    ("WEB-36", 8, 175.0, "Medium", "later"),  # 350×0.25×1/0.5
    ("WEB-10", 9, 125.0, "Medium", "later"),  # 250×0.5×1/1
    ("WEB-6", 10, 80.0, "Low", "later"),  # 150×2×0.8/3
]
UNSCORED = {
    "WEB-7": "Impact: option 'Huge' is not in scales.impact (Massive, High, Medium, Low, Minimal)",
    "WEB-8": "Reach: empty",
    "WEB-9": "Effort: must be greater than 0, found 0",
}


def priosync(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "priosync", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


class TestRankCommand:
    def test_json_matches_hand_computed_ranking(self) -> None:
        """The JSON ranking of the example export matches the hand-computed one."""
        result = priosync("rank", "--config", str(EXAMPLE), "--format", "json")
        assert result.returncode == 0, result.stderr
        items = json.loads(result.stdout)["items"]
        got = [(i["key"], i["rank"], i["score"], i["priority"], i["bucket"]) for i in items[:10]]
        assert got == EXPECTED
        assert {i["key"]: i["missing"] for i in items[10:]} == {k: [v] for k, v in UNSCORED.items()}
        assert all(i["rank"] is None and i["score"] is None for i in items[10:])
        assert items[0]["terms"] == {"reach": 500, "impact": 1, "confidence": 1, "effort": 0.5}
        assert set(items[0]) == {
            "key",
            "title",
            "url",
            "source",
            "rank",
            "score",
            "terms",
            "priority",
            "bucket",
            "missing",
            "assignee",
            "lifted_by",
            "cycle",
            "blocked_outside",
        }

    def test_csv_and_markdown(self) -> None:
        """CSV and Markdown carry the same ranking."""
        result = priosync("rank", "--config", str(EXAMPLE), "--format", "csv")
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["key"] for r in rows[:3]] == ["WEB-5", "WEB-4", "WEB-1"]
        assert rows[0]["bucket"] == "now"
        md = priosync("rank", "--config", str(EXAMPLE), "--format", "markdown")
        assert "| 1 | WEB-5 | Fix flaky search results | 1000 |" in md.stdout

    def test_table_shows_missing_reasons(self) -> None:
        """The default table names why unscored items were skipped."""
        result = priosync("rank", "--config", str(EXAMPLE))
        assert result.returncode == 0, result.stderr
        assert "Reach: empty" in result.stdout
        assert "WEB-36" in result.stdout

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["rank", "--config", "nope.toml"], "no configuration file at nope.toml"),
            (
                ["rank", "--config", str(EXAMPLE), "--source", "web"],
                "--source web is not configured",
            ),
        ],
    )
    def test_bad_usage_exits_1_without_traceback(self, args: list[str], message: str) -> None:
        """Bad config or usage prints one clear line and exits 1."""
        result = priosync(*args)
        assert result.returncode == 1
        assert message in result.stderr
        assert "Traceback" not in result.stderr

    def test_unknown_column_lists_closest(self, tmp_path: Path) -> None:
        """A mapped column the export lacks is named, with the closest columns."""
        text = EXAMPLE.read_text().replace('reach = "Reach"', 'reach = "Rech"')
        text = text.replace('path = "backlog.csv"', f'path = "{ROOT / "examples" / "backlog.csv"}"')
        config = tmp_path / "p.toml"
        config.write_text(text)
        result = priosync("rank", "--config", str(config))
        assert result.returncode == 1
        assert "no column 'Rech'" in result.stderr
        assert "closest: Reach" in result.stderr

    def test_help_lists_commands(self) -> None:
        """--help explains the tool and lists its commands."""
        result = priosync("--help")
        assert result.returncode == 0
        for command in ("rank", "plan", "sync", "demo", "check", "init", "history", "revert"):
            assert command in result.stdout
