"""How plans and sync reports show moves: their own rows, counts and JSON keys."""

from __future__ import annotations

import io
import json

from rich.console import Console

from priosync.domain import Move, MoveResult, Place, Plan
from priosync.errors import ChangeRejected
from reports.moves import describe_move, move_requests
from reports.text import plan_counts, plan_document, plan_summary, render_plan
from sync.writer import WriteReport

WAS = Place(after="WEB-1")


def move(key: str, to: Place) -> Move:
    return Move(key, "web", f"https://x/{key}", to, WAS, reason="RICE 1 · rank 2/9")


PLAN = Plan(
    unchanged=9,
    moves=(
        move("WEB-12", Place(after="WEB-7")),
        move("WEB-13", Place(after="WEB-12")),
        move("WEB-3", Place(before="WEB-9")),
    ),
)


def rendered(fmt: str, report: WriteReport | None = None) -> str:
    out = io.StringIO()
    render_plan(PLAN, fmt, Console(file=out, width=200, color_system=None), report)  # type: ignore[arg-type]
    return out.getvalue()


class TestMoves:
    """Moves are shown apart from field writes and counted on their own."""

    def test_a_move_reads_as_its_neighbour(self) -> None:
        """``move WEB-12 after WEB-7``; at the top, ``before``."""
        assert describe_move(PLAN.moves[0]) == "move WEB-12 after WEB-7"
        assert describe_move(PLAN.moves[2]) == "move WEB-3 before WEB-9"

    def test_counts_say_moves_and_requests(self) -> None:
        """The counts line names the moves and the requests they take (a chain is one)."""
        assert move_requests(PLAN.moves) == 2
        assert plan_counts(PLAN) == ("9 items: 0 to change, 9 unchanged; 3 to move in 2 requests")

    def test_json_has_a_stable_shape(self) -> None:
        """Each move: key, source, url, after, before, was, reason; and after a sync what
        landed, failed and was left."""
        failed = ChangeRejected("jira did not rank WEB-3: no", tracker="jira", status=207)
        report = WriteReport(
            moved=list(PLAN.moves[:1]),
            move_failed=[MoveResult(PLAN.moves[2], failed)],
            moves_left=[PLAN.moves[1]],
        )
        doc = json.loads(json.dumps(plan_document(PLAN, report)))
        assert doc["moves"][0] == {
            "key": "WEB-12",
            "source": "web",
            "url": "https://x/WEB-12",
            "after": "WEB-7",
            "before": None,
            "was": {"after": "WEB-1", "before": None},
            "reason": "RICE 1 · rank 2/9",
        }
        assert doc["move_requests"] == 2
        assert doc["moved"] == 1
        assert doc["move_failed"] == [
            {"key": "WEB-3", "source": "web", "error": "jira did not rank WEB-3: no"}
        ]
        assert doc["moves_left"] == ["WEB-13"]
        assert "; of the 3 moves: 1 moved, 1 failed, 1 left" in plan_summary(PLAN, report)

    def test_without_reorder_the_keys_are_there_and_empty(self) -> None:
        """Scripts can rely on the keys: empty lists without moves."""
        doc = plan_document(Plan())
        assert (doc["moves"], doc["move_requests"]) == ([], 0)

    def test_table_and_markdown_rows(self) -> None:
        """A row per move in the table and in Markdown, with its status after a sync."""
        assert "move WEB-12 after WEB-7" in rendered("table")
        markdown = rendered("markdown", WriteReport(moved=list(PLAN.moves)))
        assert "| [WEB-3](https://x/WEB-3) | web | move WEB-3 before WEB-9 |" in markdown
        assert markdown.count("| moved |") == 3
