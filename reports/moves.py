"""Moves (``[outputs] reorder``) as plans and reports show them, apart from field writes.

A move reads ``move WEB-12 after WEB-7`` (``before WEB-3`` at the top of what is in place).
JSON, a stable interface for scripts: ``"moves": [{"key", "source", "url", "after",
"before", "was": {"after", "before"}, "reason"}]`` in the order they are applied (exactly one
of ``after``/``before`` is a key; ``was`` is where the item stood just before), and
``"move_requests"``: how many requests they take (a chain of up to 50 consecutive moves is
one, and counts once against ``--max-writes``). After a sync: ``"moved"`` (how many landed),
``"move_failed": [{"key", "source", "error"}]`` and ``"moves_left": [keys]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from priosync.domain import Move, Place, Plan
from scoring.order import MOVES_PER_REQUEST, group_moves
from sync.writer import WriteReport


def describe_move(move: Move) -> str:
    """``move WEB-12 after WEB-7``."""
    return f"move {move.key} {move.to.describe()}"


def place_json(place: Place) -> dict[str, str | None]:
    return {"after": place.after, "before": place.before}


def move_requests(moves: Sequence[Move]) -> int:
    """How many requests the moves take (what ``--max-writes`` counts)."""
    return len(group_moves(moves, MOVES_PER_REQUEST))


def moves_document(plan: Plan, report: WriteReport | None = None) -> dict[str, Any]:
    """The JSON keys a plan (and a sync's report) adds for its moves."""
    doc: dict[str, Any] = {
        "moves": [
            {
                "key": m.key,
                "source": m.source,
                "url": m.url,
                **place_json(m.to),
                "was": place_json(m.was),
                "reason": m.reason,
            }
            for m in plan.moves
        ],
        "move_requests": move_requests(plan.moves),
    }
    if report is not None:
        doc["moved"] = len(report.moved)
        doc["move_failed"] = [
            {"key": f.move.key, "source": f.move.source, "error": str(f.error)}
            for f in report.move_failed
        ]
        doc["moves_left"] = [m.key for m in report.moves_left]
    return doc


def moves_count(plan: Plan) -> str:
    """``; 12 to move in 3 requests`` for the counts line ('' without moves)."""
    if not plan.moves:
        return ""
    requests = move_requests(plan.moves)
    noun = "request" if requests == 1 else "requests"
    return f"; {len(plan.moves)} to move in {requests} {noun}"


def moves_summary(plan: Plan, report: WriteReport) -> str:
    """``; of the 12 moves: 11 moved, 1 failed, 0 left``."""
    if not plan.moves:
        return ""
    return (
        f"; of the {len(plan.moves)} moves: {len(report.moved)} moved, "
        f"{len(report.move_failed)} failed, {len(report.moves_left)} left"
    )
