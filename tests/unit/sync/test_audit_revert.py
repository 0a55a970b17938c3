"""The audit log records each write with the value it replaced; revert restores only untouched
values. Every test runs on both stores, a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from cli.demo import DEMO_CONFIG
from config import validate_config
from priosync.domain import Change, Outputs, WorkItem
from sandbox.jira import JiraSandbox, create_jira_app
from sync.audit import field_changes
from sync.outcomes import resolve_outcomes
from sync.pipeline import run_sync
from sync.plan import PlanRules
from sync.revert import plan_revert, revert_run
from sync.state import StateLocation, open_audit

from .conftest import OpenStore

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
    def test_records_runs_and_field_writes(self, open_store: OpenStore) -> None:
        """A run and its writes are stored with old and new values per field."""
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="abc", sources=["web"])
        c = change(
            "WEB-1",
            Outputs(score=1.0, priority="Low", labels=frozenset({"roadmap:later"})),
            Outputs(score=2.0, priority="Low", labels=frozenset({"roadmap:now"})),
        )
        audit.record_write(run, c, error=None)
        audit.finish_run(run, counts={"written": 1}, outcome="ok")
        writes = audit.writes(run_id=run)
        assert [(w.field, w.old, w.new, w.status) for w in writes] == [
            ("score", 1.0, 2.0, "ok"),
            ("labels", ["roadmap:later"], ["roadmap:now"], "ok"),
        ]
        (record,) = audit.runs()
        assert (record.outcome, record.counts, record.sources) == ("ok", {"written": 1}, ("web",))
        assert audit.writes(item="WEB-2") == []

    def test_failed_write_recorded_with_error(self, open_store: OpenStore) -> None:
        """A refused write is stored as failed with the tracker's message."""
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="abc", sources=["web"])
        audit.record_write(
            run, change("WEB-1", Outputs(score=1.0), Outputs(score=2.0)), error="nope"
        )
        (w,) = audit.writes(run_id=run)
        assert (w.status, w.error) == ("failed", "nope")

    def test_field_changes_only_lists_differences(self) -> None:
        """Unchanged fields are not recorded."""
        c = change("K", Outputs(score=1.0, priority="Low"), Outputs(score=1.0, priority="High"))
        assert field_changes(c) == [("priority", "Low", "High")]

    def test_intents_stay_pending_until_settled(self, open_store: OpenStore) -> None:
        """Intents are recorded before sending; only a finished run's unsettled ones are pending."""
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="abc", sources=["web"])
        one = change("WEB-1", Outputs(score=1.0), Outputs(score=2.0))
        two = change("WEB-2", Outputs(score=3.0), Outputs(score=4.0))
        audit.record_intents(run, [one, two])
        assert {w.status for w in audit.writes(run_id=run)} == {"pending"}
        assert audit.pending() == []  # the run is still going: its answers may be on the way
        audit.settle(run, one, status="ok", error=None)
        audit.finish_run(run, counts={}, outcome="interrupted")
        (left,) = audit.pending(sources=["web"])
        assert left.item == "WEB-2"
        assert audit.pending(sources=["other"]) == []
        audit.resolve(left, "not-sent")
        audit.resolve(left, "ok")  # a second resolution changes nothing
        assert [w.status for w in audit.writes(run_id=run)] == ["ok", "not-sent"]

    def test_the_log_is_shared_by_every_process_that_opens_it(self, open_store: OpenStore) -> None:
        """A second opener sees the first one's runs, and opening again migrates nothing twice."""
        first, second = open_store(), open_store()
        run = first.start_run(command="sync", config_sha256="abc", sources=["web"])
        first.record_write(run, change("WEB-1", Outputs(), Outputs(score=2.0)), error=None)
        assert [w.item for w in second.writes(run_id=run)] == ["WEB-1"]
        assert [r.id for r in open_store().runs()] == [run]

    def test_many_openers_at_once_migrate_once(self, location: StateLocation) -> None:
        """Replicas that start together all open the store; none sees a half-made schema."""

        def open_and_run(_: int) -> int:
            log = open_audit(location)
            try:
                return log.start_run(command="sync", config_sha256="x", sources=[])
            finally:
                log.close()

        with ThreadPoolExecutor(8) as pool:
            runs = list(pool.map(open_and_run, range(8)))
        assert sorted(runs) == list(range(1, 9))


DIE_MID_RUN = (
    "import os, sys; from sync.state import parse_state, open_audit; "
    "audit = open_audit(parse_state(sys.argv[1])); "
    "run = audit.start_run(command='sync', config_sha256='x', sources=['web']); "
    "from priosync.domain import Change, Outputs; "
    "audit.record_intents(run, [Change(key='WEB-1', source='web', url='u', "
    "before=Outputs(score=1.0), after=Outputs(score=2.0), reason='r')]); "
    "print(run, flush=True); os._exit(9)"
)


class TestDeadRuns:
    def test_a_run_whose_process_died_is_marked_crashed(
        self, open_store: OpenStore, location: StateLocation
    ) -> None:
        """A process killed mid-run leaves its run open; the next opener marks it crashed and
        its write-ahead intents become pending, to be resolved by reading the item."""
        url = location.url or str(location.path)
        died = subprocess.run(
            [sys.executable, "-c", DIE_MID_RUN, url], capture_output=True, text=True, check=False
        )
        assert died.returncode == 9, died.stderr
        run = int(died.stdout)
        audit = open_store()
        alive = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        assert audit.mark_dead_runs() == [run]
        record = audit.run(run)
        assert record is not None
        assert (record.outcome, record.finished_at is not None) == ("crashed", True)
        assert [(r.id, r.outcome) for r in audit.runs()] == [(alive, None), (run, "crashed")]
        (pending,) = audit.pending()
        resolved = resolve_outcomes(
            [pending], {("web", "WEB-1"): item("WEB-1", Outputs(score=2.0))}, RULES
        )
        assert [status for _, status in resolved] == ["ok"]


class TestOutcomes:
    def test_pending_writes_are_resolved_from_what_the_tracker_holds(
        self, open_store: OpenStore
    ) -> None:
        """Landed → ok, never landed → not-sent, changed since by someone → unknown."""
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        changes = [change(f"WEB-{n}", Outputs(score=1.0), Outputs(score=2.0)) for n in (1, 2, 3)]
        audit.record_intents(run, changes)
        audit.finish_run(run, counts={}, outcome="interrupted")
        held = {"WEB-1": 2.0, "WEB-2": 1.0, "WEB-3": 7.0}
        items = {("web", k): item(k, Outputs(score=v)) for k, v in held.items()}
        for record, status in resolve_outcomes(audit.pending(), items, RULES):
            audit.resolve(record, status)
        statuses = {w.item: w.status for w in open_store().writes(run_id=run)}
        assert statuses == {"WEB-1": "ok", "WEB-2": "not-sent", "WEB-3": "unknown"}


class TestPlanRevert:
    def test_restores_values_the_run_wrote(self, open_store: OpenStore) -> None:
        """Where the tracker still holds what the run wrote, the old value is written back."""
        audit = open_store()
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

    def test_refuses_where_a_person_changed_the_value(self, open_store: OpenStore) -> None:
        """A field changed since the run is reported as a conflict and left alone."""
        audit = open_store()
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

    def test_missing_item_is_a_conflict(self, open_store: OpenStore) -> None:
        """An item no longer in the source is skipped with a conflict."""
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(run, change("WEB-9", Outputs(score=1.0), Outputs(score=2.0)), error=None)
        changes, conflicts = plan_revert(run, audit.writes(run_id=run), {}, RULES)
        assert changes == []
        assert conflicts[0].describe().startswith("WEB-9: no longer in the source")


class TestExactOldValues:
    def test_the_unrounded_score_is_recorded_and_restored(self, open_store: OpenStore) -> None:
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
        audit = open_store()
        run = audit.start_run(command="sync", config_sha256="x", sources=["web"])
        audit.record_write(run, c, error=None)
        now = item("WEB-1", Outputs(score=50.0))
        (restore,), _ = plan_revert(run, audit.writes(run_id=run), {"WEB-1": now}, RULES)
        assert restore.after.score == 12.34

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


class TestRevertRun:
    async def test_a_sync_and_its_revert_round_trip_through_the_store(
        self, open_store: OpenStore
    ) -> None:
        """A sync against the sandbox Jira is recorded, and reverting it restores every value."""
        sandbox = JiraSandbox.seeded(issues=15, seed=4)
        before = {i.key: (i.priority, i.labels) for i in sandbox.issues()}
        loaded = validate_config(dict(DEMO_CONFIG), file=Path("audit-test.toml"), environ={})
        transports = {"web": httpx.ASGITransport(app=create_jira_app(sandbox))}
        environ = {"JIRA_EMAIL": sandbox.email, "JIRA_API_TOKEN": sandbox.token}
        audit = open_store()
        synced = await run_sync(
            loaded, write=True, audit=audit, environ=environ, transports=transports
        )
        assert synced.report is not None
        assert synced.report.written
        assert synced.run_id is not None
        reverted = await revert_run(
            loaded, audit, synced.run_id, environ=environ, transports=transports
        )
        assert reverted.applied is not None
        assert reverted.applied.outcome == "ok"
        assert {i.key: (i.priority, i.labels) for i in sandbox.issues()} == before
        again = await revert_run(
            loaded, open_store(), synced.run_id, environ=environ, transports=transports
        )
        assert again.already_reverted_by is not None
