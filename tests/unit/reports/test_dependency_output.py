"""What `rank` and the HTML report show about dependencies: the column, the JSON, the badge."""

from __future__ import annotations

import io
import json

from rich.console import Console

from priosync.domain import Plan, RankedItem, Score, WorkItem
from reports.dependency_badge import dependency_badge
from reports.html import render_html
from reports.text import Format, render_rank


def ranked(
    key: str,
    rank: int,
    *,
    lifted_by: tuple[str, ...] = (),
    cycle: tuple[str, ...] = (),
    blocked_outside: tuple[str, ...] = (),
) -> RankedItem:
    item = WorkItem(key=key, title=key, url="", source="web", inputs={})
    score = Score(10.0, explanation="RICE")
    return RankedItem(
        item,
        score,
        rank=rank,
        of=3,
        lifted_by=lifted_by,
        cycle=cycle,
        blocked_outside=blocked_outside,
    )


RANKING = (
    ranked("WEB-3", 1, lifted_by=("WEB-12",)),
    ranked("WEB-12", 2),
    ranked("WEB-7", 3, cycle=("WEB-7", "WEB-9"), blocked_outside=("API-1",)),
)


def rendered(ranking: tuple[RankedItem, ...], fmt: Format) -> str:
    out = io.StringIO()
    render_rank(ranking, fmt, Console(file=out, width=200, color_system=None))
    return out.getvalue()


class TestRankOutput:
    """`rank` says who was lifted and by what, in every format."""

    def test_json_lists_lifted_by_cycle_and_outside_blockers(self) -> None:
        """Each item has ``lifted_by``, ``cycle`` and ``blocked_outside`` lists."""
        items = json.loads(rendered(RANKING, "json"))["items"]
        assert [i["lifted_by"] for i in items] == [["WEB-12"], [], []]
        assert items[2]["cycle"] == ["WEB-7", "WEB-9"]
        assert items[2]["blocked_outside"] == ["API-1"]

    def test_the_table_gains_a_dependencies_column_only_when_needed(self) -> None:
        """With notes the table shows them; without, no empty column; CSV always has it."""
        table = rendered(RANKING, "table")
        assert "dependencies" in table
        assert "lifted: blocks WEB-12" in table
        plain = tuple(ranked(k, n) for n, k in enumerate(("A-1", "A-2"), start=1))
        assert "dependencies" not in rendered(plain, "table")
        assert rendered(plain, "csv").splitlines()[0].endswith(",dependencies")


class TestHtmlBadge:
    """The report marks lifted items, cycles and outside blockers with a small badge."""

    def test_badges_say_what_and_keep_the_whole_note_in_the_title(self) -> None:
        """↑ for a lift, ⟲ for a cycle (which wins over an outside blocker); none otherwise."""
        assert "↑ blocks WEB-12" in dependency_badge(RANKING[0])
        assert dependency_badge(RANKING[1]) == ""
        cycle = dependency_badge(RANKING[2])
        assert "⟲ cycle" in cycle
        assert (
            'title="dependency cycle with WEB-9 (ignored) · blocked by API-1 (not ranked)"' in cycle
        )

    def test_tracker_keys_are_escaped(self) -> None:
        """A key with markup stays text in the badge and in the report."""
        hostile = ranked("WEB-1", 1, lifted_by=('<img src=x onerror="alert(1)">',))
        badge = dependency_badge(hostile)
        assert "<img" not in badge
        assert "&lt;img" in badge
        page = render_html(Plan(ranking=(hostile,)), title="t", generated_at="now")
        assert "<img" not in page
        assert "↑ blocks &lt;img" in page
