"""Moves in sync: who moves (sync.order), how they are recorded, resolved and undone."""

from __future__ import annotations

from pathlib import Path

from priosync.domain import Cut, ModelSpec, Move, Outputs, Place, RankedItem, WorkItem
from scoring import score_backlog
from scoring.order import apply_steps
from sync.audit import POSITION, AuditLog, SqliteAuditLog
from sync.order import plan_moves, with_landed_moves
from sync.outcomes import resolve_moves
from sync.pipeline import Reads, settle_reads
from sync.plan import PlanRules
from sync.revert_order import plan_unmoves
from sync.writer import chunk_requests, split_move_budget

SPEC = ModelSpec(
    model="rice",
    inputs=("reach", "impact", "confidence", "effort"),
    percent_inputs=frozenset({"confidence"}),
)
RULES = PlanRules(
    decimals=1, label_prefix="roadmap:", manage_buckets=False, pin_label="pinned", reorder=True
)


def item(
    key: str, reach: object, *, source: str = "web", labels: frozenset[str] = frozenset()
) -> WorkItem:
    return WorkItem(
        key=key,
        title=key,
        url=f"https://x/{key}",
        source=source,
        inputs={"reach": reach, "impact": 1, "confidence": 1, "effort": 1},  # type: ignore[dict-item]
        current=Outputs(labels=labels),
    )


def ranked(items: list[WorkItem]) -> tuple[RankedItem, ...]:
    return score_backlog(items, SPEC, tiers=[Cut("all")], buckets=[])


def keys(items: list[WorkItem]) -> list[str]:
    return [i.key for i in items]


class TestWhoMoves:
    """Only ranked, unpinned items of orderable sources move; the rest keep their places."""

    def test_unscored_and_pinned_items_keep_their_places(self) -> None:
        """An item missing input and a pinned item are never moved; the ranked ones are
        ordered around them."""
        backlog = [
            item("W-1", 10),
            item("W-2", None),
            item("W-3", 30, labels=frozenset({"pinned"})),
            item("W-4", 40),
            item("W-5", 20),
        ]
        moves = plan_moves(ranked(backlog), {"web": backlog}, RULES)
        assert {m.key for m in moves} <= {"W-1", "W-4", "W-5"}
        after = apply_steps(keys(backlog), moves)
        assert [k for k in after if k in {"W-1", "W-4", "W-5"}] == ["W-4", "W-5", "W-1"]
        assert after.index("W-2") < after.index("W-3")
        assert len(moves) == 1  # W-1 to the end: W-4, W-5 already in order
        (move,) = moves
        assert (move.key, move.to, move.was) == ("W-1", Place(after="W-5"), Place(before="W-2"))
        assert move.anchor is not None
        assert move.anchor.key == "W-5"
        assert "rank 4/4" in move.reason  # the pinned item is ranked, it only keeps its place

    def test_each_source_is_ordered_on_its_own(self) -> None:
        """With a global ranking, each source's items follow the global ranks in their own
        order; nothing moves across sources."""
        web = [item("W-1", 1), item("W-2", 50)]
        app = [item("A-1", 10, source="app"), item("A-2", 40, source="app")]
        moves = plan_moves(ranked(web + app), {"web": web, "app": app}, RULES)
        assert {(m.source, m.key) for m in moves} in (
            {("web", "W-1"), ("app", "A-1")},
            {("web", "W-2"), ("app", "A-2")},
        )
        assert keys(web)[0] != apply_steps(keys(web), [m for m in moves if m.source == "web"])[0]

    def test_sources_without_an_order_are_not_planned(self) -> None:
        """Only the sources given orders are planned (files and repositories are not)."""
        web = [item("W-1", 1), item("W-2", 50)]
        assert plan_moves(ranked(web), {}, RULES) == ()


class TestSnapshot:
    """The service's snapshot follows landed moves."""

    def test_landed_moves_reorder_the_snapshot(self) -> None:
        """settle_reads applies landed moves, so the next plan from it moves nothing."""
        backlog = [item("W-1", 10), item("W-2", 20), item("W-3", 30)]
        moves = plan_moves(ranked(backlog), {"web": backlog}, RULES)
        reads = settle_reads(Reads(items={"web": backlog}), [], moves)
        assert keys(reads.items["web"]) == ["W-3", "W-2", "W-1"]
        again = reads.items["web"]
        assert plan_moves(ranked(again), {"web": again}, RULES) == ()

    def test_a_move_next_to_an_item_gone_is_skipped(self) -> None:
        """A landed move whose anchor left the snapshot leaves the order as it is."""
        backlog = [item("W-1", 10), item("W-2", 20)]
        gone = Move("W-1", "web", "", Place(after="W-9"), Place())
        assert keys(with_landed_moves(backlog, [gone])) == ["W-1", "W-2"]


def move(key: str, to: Place, was: Place) -> Move:
    return Move(key=key, source="web", url=f"https://x/{key}", to=to, was=was)


class TestAuditAndUndo:
    """Moves recorded with the old neighbour, resolved from an order, undone newest first."""

    def record(self, tmp_path: Path, moves: list[Move], status: str = "ok") -> AuditLog:
        audit = SqliteAuditLog(tmp_path / "audit.sqlite3")
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_move_intents(run, moves)
        if status != "pending":
            for m in moves:
                audit.settle_move(run, m, status="ok", error=None)
        audit.finish_run(run, counts={}, outcome="ok")
        return audit

    def test_moves_are_rows_with_the_previous_neighbour(self, tmp_path: Path) -> None:
        """A move's row holds where the item was and where it went; settling a field change
        of the same item leaves it alone."""
        audit = self.record(
            tmp_path, [move("W-3", Place(before="W-1"), Place(after="W-2"))], "pending"
        )
        (row,) = audit.writes()
        assert (row.field, row.old, row.new, row.status) == (
            POSITION,
            {"after": "W-2"},
            {"before": "W-1"},
            "pending",
        )
        assert resolve_moves(audit.pending(), {"web": ["W-3", "W-1", "W-2"]}) == [(row, "ok")]
        assert resolve_moves(audit.pending(), {"web": ["W-1", "W-2", "W-3"]}) == [(row, "not-sent")]
        assert resolve_moves(audit.pending(), {"web": ["W-1", "W-3", "W-4", "W-2"]}) == [
            (row, "unknown")
        ]
        audit.close()

    def test_undo_restores_the_order_before_the_run(self, tmp_path: Path) -> None:
        """Undoing the run's moves newest first over the order it left gives the order
        before it, exactly."""
        start = ["W-1", "W-2", "W-3", "W-4", "W-5"]
        backlog = [item(k, r) for k, r in zip(start, (10, 50, 20, 40, 30), strict=True)]
        moves = list(plan_moves(ranked(backlog), {"web": backlog}, RULES))
        after = apply_steps(start, moves)
        audit = self.record(tmp_path, moves)
        now = [item(k, 1) for k in after]
        unmoves, refused = plan_unmoves(7, audit.writes(), {"web": now})
        assert refused == []
        assert apply_steps(after, unmoves) == start
        assert all(m.reason == "revert run 7" for m in unmoves)
        audit.close()

    def test_items_moved_since_stay_where_they_are(self, tmp_path: Path) -> None:
        """An item a person moved after the run, or whose old neighbour left, is reported,
        not moved back."""
        moves = [
            move("W-3", Place(before="W-1"), Place(after="W-2")),
            move("W-4", Place(after="W-1"), Place(after="W-9")),
            move("W-5", Place(after="W-2"), Place(after="W-1")),
        ]
        audit = self.record(tmp_path, moves)
        now = [item(k, 1) for k in ["W-3", "W-1", "W-4", "W-2", "W-6", "W-5"]]  # W-5 moved
        unmoves, refused = plan_unmoves(7, audit.writes(), {"web": now})
        assert [(m.key, m.to) for m in unmoves] == [("W-3", Place(after="W-2"))]
        assert sorted(r.key for r in refused) == ["W-4", "W-5"]
        assert any("W-9 is no longer there" in r.describe() for r in refused)
        assert any("someone moved it since" in r.describe() for r in refused)
        audit.close()


class TestBudget:
    """``--max-writes`` counts a move request as one write."""

    def test_whole_requests_in_order(self) -> None:
        """The budget takes whole chains; what it leaves follows in order."""
        chain = [move(f"W-{n}", Place(after=f"W-{n - 1}"), Place()) for n in range(2, 60)]
        single = [move("X-1", Place(after="W-1"), Place())]
        now, later = split_move_budget(chain + single, 1)
        assert [len(r) for r in now] == [50]
        assert [m.key for m in later] == [m.key for m in chain[50:]] + ["X-1"]
        assert split_move_budget(chain, 0)[0] == []
        assert sum(len(r) for r in split_move_budget(chain, None)[0]) == len(chain)

    def test_chunks_hold_whole_requests(self) -> None:
        """Chunks handed to a connector never split a request."""
        requests = [
            [move(f"W-{i}", Place(after="W-0"), Place())] * n for i, n in enumerate((60, 30, 30, 1))
        ]
        assert [[len(r) for r in c] for c in chunk_requests(requests, 100)] == [[60, 30], [30, 1]]
