"""CSV, Markdown and table renderings of a ranking and a plan: columns, links, drafts, counts."""

from __future__ import annotations

import csv
import io

from rich.console import Console

from priosync.domain import Change, Missing, Outputs, Plan, RankedItem, Score, Skipped, WorkItem
from reports.text import plan_counts, render_plan, render_rank


def item(key: str, *, url: str = "", title: str = "", assignee: str | None = None) -> WorkItem:
    return WorkItem(
        key=key, title=title or f"Title of {key}", url=url, source="app", inputs={},
        assignee=assignee,
    )  # fmt: skip


def scored(key: str, rank: int, **kwargs: str) -> RankedItem:
    terms = {"reach": 500.0, "impact": 2.0, "confidence": 0.8, "effort": 3.0}
    return RankedItem(
        item(key, **kwargs),
        Score(value=266.7, terms=terms, explanation="RICE 500×2×0.8/3 = 266.7"),
        rank=rank, tier="High", bucket="now", of=2,
    )  # fmt: skip


def rendered(fn: object, *args: object) -> str:
    buffer = io.StringIO()
    fn(*args, Console(file=buffer, width=200))  # type: ignore[operator]
    return buffer.getvalue()


DRAFT = "draft:PVTI_kwDOAAAAAAAABEY"


class TestCsv:
    def test_rank_has_a_column_per_term_and_the_url_and_source(self) -> None:
        """Each term is its own column with a plain number; url, source and assignee are columns."""
        ranking = [
            scored("acme/app#7", 1, url="https://github.com/acme/app/issues/7", assignee="ana"),
            RankedItem(item("acme/app#9"), Score(value=None, missing=(Missing("reach", "Reach: empty"),))),
        ]  # fmt: skip
        rows = list(csv.reader(io.StringIO(rendered(render_rank, ranking, "csv"))))
        assert rows[0] == [
            "rank", "key", "title", "url", "source", "score", "reach", "impact", "confidence",
            "effort", "priority", "bucket", "assignee", "missing", "dependencies",
        ]  # fmt: skip
        assert rows[1] == [
            "1", "acme/app#7", "Title of acme/app#7", "https://github.com/acme/app/issues/7",
            "app", "266.7", "500", "2", "0.8", "3", "High", "now", "ana", "", "",
        ]  # fmt: skip
        assert rows[2][:6] == ["", "acme/app#9", "Title of acme/app#9", "", "app", ""]
        assert rows[2][-2:] == ["Reach: empty", ""]

    def test_plan_has_the_url_and_title(self) -> None:
        """A plan's CSV carries each change's url and title beside the key and source."""
        target = item("WEB-1", url="https://x.example/browse/WEB-1")
        change = Change(
            "WEB-1", "web", target.url, Outputs(score=1.0), Outputs(score=2.0), "why", target
        )
        rows = list(csv.reader(io.StringIO(rendered(render_plan, Plan(changes=(change,)), "csv"))))
        assert rows[0] == ["key", "source", "url", "title", "change", "reason"]
        assert rows[1] == ["WEB-1", "web", target.url, "Title of WEB-1", "score 1 → 2", "why"]


class TestMarkdown:
    def test_keys_link_to_the_item_and_text_stays_text(self) -> None:
        """A key is a Markdown link to its item; brackets in titles are escaped, not links."""
        ranking = [scored("WEB-1", 1, url="https://x.example/browse/WEB-1?a=(1)|2", title="[x](y)")]
        text = rendered(render_rank, ranking, "markdown")
        assert (
            "| 1 | [WEB-1](https://x.example/browse/WEB-1?a=%281%29%7C2) | \\[x\\]\\(y\\) |" in text
        )

    def test_a_plan_with_nothing_to_change_says_so_in_words(self) -> None:
        """Zero changes is a sentence, not an empty table header."""
        text = rendered(render_plan, Plan(unchanged=12), "markdown")
        assert "Nothing to change: all 12 items hold the values a sync would write." in text
        assert "| key |" not in text

    def test_warnings_come_first(self) -> None:
        """A plan's warnings are printed before its table."""
        plan = Plan(unchanged=1, warnings=("scales.impact has no number for option 'Huge'",))
        text = rendered(render_plan, plan, "markdown")
        assert text.startswith("> **warning:** scales.impact has no number for option 'Huge'")


class TestDrafts:
    def test_a_draft_is_shown_by_its_title(self) -> None:
        """A GitHub draft's opaque key gives way to its title in tables and plans."""
        draft = item(DRAFT, title="Idea: dark mode")
        ranking = [RankedItem(draft, Score(value=3.0), rank=1, tier="Low", bucket="later", of=1)]
        table = rendered(render_rank, ranking, "table")
        assert "draft “Idea: dark mode”" in table
        assert "PVTI" not in table
        change = Change(DRAFT, "app", "", Outputs(score=1.0), Outputs(score=3.0), "why", draft)
        markdown = rendered(render_plan, Plan(changes=(change,)), "markdown")
        assert "draft “Idea: dark mode”" in markdown
        assert "PVTI" not in markdown


class TestCounts:
    def test_items_needing_input_are_counted_among_the_items(self) -> None:
        """Changes + unchanged = items; those needing input are "of the" items, not extra."""
        changes = tuple(
            Change(f"K-{i}", "web", "", Outputs(), Outputs(score=1.0), "") for i in range(3)
        )
        plan = Plan(
            changes=changes,
            unchanged=5,
            skipped=(Skipped("K-0", "web", ()), Skipped("K-7", "web", ())),
        )
        assert plan_counts(plan) == (
            "8 items: 3 to change, 5 unchanged; 2 of the 8 need input (1 of them to change)"
        )
