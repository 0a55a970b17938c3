"""The audit log records each write with the value it replaced; revert restores only untouched values."""

from __future__ import annotations

from pathlib import Path

from priosync.domain import Change, Outputs, WorkItem
from sync.audit import AuditLog, field_changes
from sync.plan import PlanRules
from sync.revert import plan_revert

RULES = PlanRules(
    decimals=1,
    label_prefix="roadmap:",
    manage_buckets=True,
    writes_score=True,
    writes_priority=True,
)


def change(key: str, before: Outputs, after: Outputs) -> Change:
    return Change(
        key=key, source="web", url=f"https://x/{key}", before=before, after=after, reason="r"
    )


def item(key: str, current: Outputs) -> WorkItem:
    return WorkItem(key=key, title=key, url="", source="web", inputs={}, current=current)


class TestAuditLog:
    def test_records_runs_and_field_writes(self, tmp_path: Path) -> None:
        """A run and its writes are stored with old and new values per field."""
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="abc", sources=["web"])
        c = change(
            "WEB-1",
            Outputs(score=1.0, priority="Low", labels=frozenset({"roadmap:later"})),
            Outputs(score=2.0, priority="Low", labels=frozenset({"roadmap:now"})),
        )
        audit.record_write(run, c, error=None)
        audit.finish_run(run, counts={"written": 1}, outcome="ok")
        writes = audit.writes(run_id=run)
        assert [(w.field, w.old, w.new) for w in writes] == [
            ("score", 1.0, 2.0),
            ("labels", ["roadmap:later"], ["roadmap:now"]),
        ]
        (record,) = audit.runs()
        assert record.outcome == "ok"
        assert record.counts == {"written": 1}
        assert audit.writes(item="WEB-2") == []
        audit.close()

    def test_failed_write_recorded_with_error(self, tmp_path: Path) -> None:
        """A refused write is stored as failed with the tracker's message."""
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="abc", sources=["web"])
        audit.record_write(
            run, change("WEB-1", Outputs(score=1.0), Outputs(score=2.0)), error="nope"
        )
        (w,) = audit.writes(run_id=run)
        assert (w.status, w.error) == ("failed", "nope")
        audit.close()

    def test_field_changes_only_lists_differences(self) -> None:
        """Unchanged fields are not recorded."""
        c = change("K", Outputs(score=1.0, priority="Low"), Outputs(score=1.0, priority="High"))
        assert field_changes(c) == [("priority", "Low", "High")]


class TestPlanRevert:
    def test_restores_values_the_run_wrote(self, tmp_path: Path) -> None:
        """Where the tracker still holds what the run wrote, the old value is written back."""
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(
            run,
            change(
                "WEB-1",
                Outputs(score=1.0, labels=frozenset({"roadmap:later"})),
                Outputs(score=2.0, labels=frozenset({"roadmap:now"})),
            ),
            error=None,
        )
        now = item("WEB-1", Outputs(score=2.0, labels=frozenset({"roadmap:now", "ux"})))
        changes, conflicts = plan_revert(run, audit.writes(run_id=run), {"WEB-1": now}, RULES)
        assert conflicts == []
        (c,) = changes
        assert c.after.score == 1.0
        assert c.labels_to_add == frozenset({"roadmap:later"})
        assert c.labels_to_remove == frozenset({"roadmap:now"})
        audit.close()

    def test_refuses_where_a_person_changed_the_value(self, tmp_path: Path) -> None:
        """A field changed since the run is reported as a conflict and left alone."""
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(
            run,
            change(
                "WEB-1", Outputs(score=1.0, priority="Low"), Outputs(score=2.0, priority="High")
            ),
            error=None,
        )
        now = item("WEB-1", Outputs(score=2.0, priority="Medium"))
        changes, conflicts = plan_revert(run, audit.writes(run_id=run), {"WEB-1": now}, RULES)
        assert [(x.field, x.found) for x in conflicts] == [("priority", "Medium")]
        (c,) = changes
        assert c.after.priority == "Medium"
        assert c.after.score == 1.0
        audit.close()

    def test_missing_item_is_a_conflict(self, tmp_path: Path) -> None:
        """An item no longer in the source is skipped with a conflict."""
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(run, change("WEB-9", Outputs(score=1.0), Outputs(score=2.0)), error=None)
        changes, conflicts = plan_revert(run, audit.writes(run_id=run), {}, RULES)
        assert changes == []
        assert conflicts[0].describe().startswith("WEB-9: no longer in the source")
        audit.close()


class TestExactOldValues:
    def test_the_unrounded_score_is_recorded_and_restored(self, tmp_path: Path) -> None:
        """The plan compares 12.3 (rounded) but the audit keeps 12.34, and revert restores it."""
        held = item("WEB-1", Outputs(score=12.34))
        c = Change(
            key="WEB-1",
            source="web",
            url="",
            before=Outputs(score=12.3),
            after=Outputs(score=50.0),
            reason="r",
            item=held,
        )
        assert field_changes(c) == [("score", 12.34, 50.0)]
        audit = AuditLog(tmp_path / "a.sqlite3")
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(run, c, error=None)
        now = item("WEB-1", Outputs(score=50.0))
        (restore,), _ = plan_revert(run, audit.writes(run_id=run), {"WEB-1": now}, RULES)
        assert restore.after.score == 12.34
        audit.close()

    def test_a_non_numeric_value_the_score_field_held_is_recorded_as_held(self) -> None:
        """A score field holding text ('n/a') is recorded as 'n/a', not as an empty field."""
        held = WorkItem(
            key="WEB-1", title="", url="", source="web", inputs={}, held={"score": "n/a"}
        )
        c = Change(
            key="WEB-1",
            source="web",
            url="",
            before=Outputs(),
            after=Outputs(score=5.0),
            reason="r",
            item=held,
        )
        assert field_changes(c) == [("score", "n/a", 5.0)]
