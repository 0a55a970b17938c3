"""Large outputs written as they are made are byte for byte the whole documents."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from priosync.domain import Cut, ModelSpec, Plan, WorkItem, WriteResult
from priosync.errors import TrackerError
from reports import stream, text
from reports.html import html_parts, render_html
from reports.text import (
    RANK_CSV_COLUMNS,
    RANK_CSV_TAIL,
    plan_document,
    rank_row,
    rank_rows,
    render_plan,
    render_rank,
)
from scoring import score_backlog
from sync.plan import PlanRules, plan_changes
from sync.writer import WriteReport

SPEC = ModelSpec(
    model="rice",
    inputs=("reach", "impact", "confidence", "effort"),
    scales={"impact": {"High": 2.0, "Low": 0.5}},
    percent_inputs=frozenset({"confidence"}),
    decimals=1,
    effort_input="effort",
)


def sample_plan() -> Plan:
    """Scored and unscored items, odd titles (quotes, newlines, non-ASCII, markup)."""
    titles = ["Plain", 'Quote " and \\ slash', "Line\nbreak", "Ünïcödé ✓", "<b>bold</b>", ""]
    items = [
        WorkItem(
            key=f"WEB-{n}",
            title=titles[n % len(titles)],
            url=f"https://jira.example/browse/WEB-{n}",
            source="web",
            inputs={
                "reach": 10 * n,
                "impact": ("High", "Low", "Massive")[n % 3],
                "confidence": 80,
                "effort": (n % 4) or None,
            },
        )
        for n in range(1, 40)
    ]
    tiers = (Cut("Highest", top=3), Cut("High", min_score=50), Cut("Low"))
    buckets = (Cut("now", capacity=6), Cut("next", capacity=12), Cut("later"))
    ranking = score_backlog(items, SPEC, tiers=tiers, buckets=buckets)
    rules = PlanRules(
        decimals=1,
        manage_buckets=True,
        writes_score=True,
        writes_priority=True,
        label_prefix="roadmap:",
        needs_input_label="needs-scoring",
    )
    return plan_changes(ranking, rules)


def console(out: io.StringIO) -> Console:
    return Console(file=out, width=200, color_system=None)


def whole(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class TestWriteJson:
    """``stream.write_json`` writes what ``json.dump(indent=2)`` writes, iterators as arrays."""

    @pytest.mark.parametrize(
        "document",
        [
            {},
            {"items": []},
            {"items": [{"a": 1, "b": [1, {"c": 'ü\n"x"'}], "d": {}, "e": None}], "n": 3},
            {"n": 1, "nested": {"deep": [[], [1, 2], {"k": "v"}]}, "last": [{}, {"x": 1.5}]},
        ],
    )
    def test_equals_json_dump(self, document: dict[str, Any]) -> None:
        """Every top-level list given as an iterator gives the same bytes as the list."""
        lazy = {k: iter(v) if isinstance(v, list) else v for k, v in document.items()}
        out = io.StringIO()
        stream.write_json(out, lazy)
        assert out.getvalue() == whole(document)


class TestStreamedReports:
    """rank, plan and the HTML report on a sample equal the documents built whole."""

    def test_rank_json(self) -> None:
        """The streamed rank document equals ``{"items": rank_rows(...)}`` dumped whole."""
        plan = sample_plan()
        out = io.StringIO()
        render_rank(plan.ranking, "json", console(out))
        assert out.getvalue() == whole({"items": rank_rows(plan.ranking)})

    def test_plan_json_with_a_report(self) -> None:
        """The streamed plan and sync documents equal ``plan_document`` dumped whole."""
        plan = sample_plan()
        assert plan.changes
        assert plan.skipped
        failed = [WriteResult(plan.changes[2], error=TrackerError("refused", tracker="jira"))]
        report = WriteReport(
            written=list(plan.changes[:2]), failed=failed, left=list(plan.changes[3:])
        )
        for given in (None, report):
            out = io.StringIO()
            render_plan(plan, "json", console(out), given)
            assert out.getvalue() == whole(plan_document(plan, given))

    def test_rank_csv(self) -> None:
        """The CSV written row by row has the fixed columns, a column per term, and one row
        per item in rank order, each as ``rank_row`` has it."""
        plan = sample_plan()
        out = io.StringIO()
        render_rank(plan.ranking, "csv", console(out))
        header, *rows = list(csv.reader(io.StringIO(out.getvalue())))
        terms = list(dict.fromkeys(t for r in plan.ranking for t in r.score.terms))
        assert header == [*RANK_CSV_COLUMNS, *terms, *RANK_CSV_TAIL]
        assert [row[1] for row in rows] == [r.item.key for r in plan.ranking]
        for row, r in zip(rows, plan.ranking, strict=True):
            expected = rank_row(r)
            assert row[2] == expected["title"]
            assert row[-2] == "; ".join(expected["missing"])

    def test_html_parts_make_the_report(self) -> None:
        """The pieces joined are the report, and no piece holds more than one row's worth."""
        plan = sample_plan()
        parts = list(html_parts(plan, title="t", generated_at="now"))
        page = render_html(plan, title="t", generated_at="now")
        assert "".join(parts) == page
        assert len(parts) > sum(1 for r in plan.ranking if r.rank is not None)


class TestLongTables:
    """A table longer than ``TABLE_CHUNK`` rows is printed a chunk at a time, as one table."""

    @pytest.mark.parametrize("what", ["rank", "plan"])
    def test_every_row_once_in_order_one_header_aligned(
        self, what: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """39 items in chunks of 7: each key once in rank order, the header and title once,
        and every line of the body as wide as the header (the chunks share column widths)."""
        monkeypatch.setattr(text, "TABLE_CHUNK", 7)
        plan = sample_plan()
        out = io.StringIO()
        if what == "rank":
            render_rank(plan.ranking, "table", console(out))
            keys = [r.item.key for r in plan.ranking]
            title = "Ranked backlog"
        else:
            render_plan(plan, "table", console(out))
            keys = [c.key for c in plan.changes]
            title = text.plan_counts(plan)
        lines = out.getvalue().splitlines()
        assert len(keys) > 3 * 7
        # the title is centred above the table (a plan's counts are repeated under it)
        assert sum(line.startswith(" ") and line.strip() == title for line in lines) == 1
        headers = [n for n, line in enumerate(lines) if "┃" in line]
        assert len(headers) == 1
        body = [line for line in lines[headers[0] + 2 :] if "│" in line]
        assert {cell_len(line) for line in body} == {cell_len(lines[headers[0]])}
        column = 1 if what == "rank" else 0
        found = [c for c in (line.split("│")[column].strip() for line in body) if c]
        assert found == keys

    def test_a_short_table_is_one_framed_table(self) -> None:
        """Below the chunk size the table is rich's own, frame included."""
        out = io.StringIO()
        render_rank(sample_plan().ranking, "table", console(out))
        assert out.getvalue().lstrip().startswith("Ranked backlog")
        assert "┏" in out.getvalue()
