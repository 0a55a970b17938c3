"""Incremental reads against the sandbox Jira: the same plan as a full read, fewer requests."""

from __future__ import annotations

import copy
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.demo import DEMO_CONFIG
from config import validate_config
from config.loading import LoadedConfig
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.jira.backlog import generate_backlog
from sync.audit import AuditLog
from sync.pipeline import SyncOutcome, run_sync

from .conftest import OpenStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Site:
    """A sandbox Jira on a clock the test moves, and the config that syncs it."""

    def __init__(self, *, dc: bool, issues: int = 120, config: dict[str, Any] | None = None):
        self.sandbox = JiraSandbox.seeded(issues=issues, seed=5, dc=dc)
        self.at = START
        self.sandbox.now = lambda: self.at
        raw = copy.deepcopy(config or DEMO_CONFIG)
        # pacing would make the first sync's writes take seconds; it is not what is tested
        raw["sources"][0]["pacing"] = {"writes_per_second": 10_000.0, "reads_per_second": 10_000.0}
        if dc:
            raw["sources"][0]["deployment"] = "dc"
        self.loaded = validate_config(raw, file=Path("incremental.toml"), environ={})
        self.environ = (
            {"JIRA_PAT": self.sandbox.pat}
            if dc
            else {"JIRA_EMAIL": self.sandbox.email, "JIRA_API_TOKEN": self.sandbox.token}
        )
        self.transports = {"web": httpx.ASGITransport(app=create_jira_app(self.sandbox))}
        self.next_number = issues + 1

    def clock(self) -> float:
        return self.at.timestamp()

    def advance(self, minutes: float) -> None:
        self.at += timedelta(minutes=minutes)

    async def full_plan(self) -> SyncOutcome:
        """What a full read plans now (no state store: nothing incremental, nothing written)."""
        return await run_sync(self.loaded, environ=self.environ, transports=self.transports)

    async def sync(self, audit: AuditLog, *, loaded: LoadedConfig | None = None) -> SyncOutcome:
        return await run_sync(
            loaded or self.loaded,
            write=True,
            audit=audit,
            environ=self.environ,
            transports=self.transports,
            clock=self.clock,
        )

    def requests(self) -> Counter[str]:
        counted = Counter(f"{e.method} {e.path}" for e in self.sandbox.request_log)
        self.sandbox.request_log.clear()
        return counted

    def mutate(self, rng: random.Random) -> list[str]:
        """A few random things people do: edit inputs and owned fields, close and reopen,
        create and delete issues. Returns what was done (for the failure message)."""
        done: list[str] = []
        keys = [i.key for i in self.sandbox.stored_issues()]
        for _ in range(rng.randrange(1, 7)):
            key = rng.choice(keys)
            what = rng.choice(
                [
                    *("reach", "effort", "impact", "priority", "label", "close", "reopen"),
                    *("create", "delete", "link", "unlink"),
                ]
            )
            if what == "reach":
                self.sandbox.human_edit(key, fields={c.REACH: rng.choice([10, 400, 9000])})
            elif what == "effort":
                self.sandbox.human_edit(key, fields={c.EFFORT: rng.choice([1, 3, 21])})
            elif what == "impact":
                impact = rng.choice(["Massive", "Low"])
                self.sandbox.human_edit(key, fields={c.IMPACT: {"value": impact}})
            elif what == "priority":
                self.sandbox.human_edit(key, fields={"priority": {"name": "Lowest"}})
            elif what == "label":
                self.sandbox.human_edit(key, update={"labels": [{"add": "roadmap:now"}]})
            elif what == "close":
                self.sandbox.set_status(key, "Done")
            elif what == "reopen":
                self.sandbox.set_status(key, "To Do")
            elif what == "create":
                fresh = generate_backlog(issues=1, seed=rng.randrange(10_000), project="WEB")[0]
                fresh.id, fresh.number = 10_000 + self.next_number * 7, self.next_number
                fresh.key = f"WEB-{self.next_number}"
                self.next_number += 1
                self.sandbox.create_issue(fresh)
                key = fresh.key
            elif what == "link":
                other = rng.choice(keys)
                if other != key:
                    self.sandbox.link(key, other)
                    key = f"{key} blocks {other}"
            elif what == "unlink":
                ends = [e.id for i in self.sandbox.stored_issues() for e in i.links]
                if ends:
                    self.sandbox.unlink(rng.choice(ends))
            elif what == "delete":
                self.sandbox.delete_issue(key)
                keys.remove(key)
            done.append(f"{what} {key}")
            self.advance(rng.choice([0, 0.2, 1, 3]))
        return done


@pytest.mark.parametrize("dc", [False, True], ids=["cloud", "dc"])
class TestIncrementalEqualsFull:
    async def test_random_rounds_plan_what_a_full_read_plans(
        self, open_store: OpenStore, dc: bool
    ) -> None:
        """After random edits, creations, deletions, moves out of and into the JQL, and
        priosync's own writes, an incremental sync reads and plans exactly what a full read
        does, reading in full only the issues that changed."""
        site = Site(dc=dc)
        audit = open_store()
        first = await site.sync(audit)
        assert [m.incremental for m in first.read_modes] == [False]
        assert first.read_modes[0].reason == "no snapshot yet"
        rng = random.Random(18)
        previous, done_before = first, list[str]()
        for round_number in range(8):
            # more than the overlap (10 min) and the rounding up (2 min) apart, so a read
            # never re-reads the writes of the sync before the last one
            site.advance(rng.choice([15, 45, 180]))
            done = site.mutate(rng)
            site.advance(rng.choice([0, 0.5, 2]))
            expected = await site.full_plan()
            site.requests()
            got = await site.sync(audit)
            counted = site.requests()
            context = f"round {round_number}: {done}"
            assert got.read_modes[0].incremental, (context, got.read_modes)
            assert got.reads.items == expected.reads.items, context
            assert got.plan == expected.plan, context
            if round_number:  # round 0 re-reads what the first sync wrote
                # what was done in this round and the last (the overlap re-reads it; a link
                # touches two issues), what the last sync wrote, and the issues linked to one
                # outside the backlog (read in full every time)
                items = got.reads.items["web"]
                keys = {i.key for i in items}
                linked_out = sum(
                    1 for i in items if any(k.key not in keys for k in (*i.blocks, *i.blocked_by))
                )
                bound = 2 * (len(done) + len(done_before)) + len(previous.plan.changes)
                bound += linked_out
                assert got.read_modes[0].fetched <= bound, (context, got.read_modes)
            if not dc:
                assert counted["POST /rest/api/3/issue/bulkfetch"] <= 2, (context, counted)
            previous, done_before = got, done
        again = await site.sync(audit)
        assert again.plan.changes == ()

    async def test_a_quiet_backlog_reads_only_ids(self, open_store: OpenStore, dc: bool) -> None:
        """Once the sync after a first sync has re-read what that sync wrote, a sync with
        nothing updated reads the id list and one narrowed search, and no issue in full."""
        site = Site(dc=dc)
        audit = open_store()
        await site.sync(audit)
        site.advance(60)
        settle = await site.sync(audit)  # reads the issues the first sync wrote
        assert settle.read_modes[0].incremental
        site.advance(60)
        site.requests()
        quiet = await site.sync(audit)
        counted = site.requests()
        assert quiet.read_modes[0].fetched == 0
        assert quiet.run_id is not None
        run = audit.run(quiet.run_id)
        assert run is not None
        assert (run.counts["read_in_full"], run.counts["incremental_sources"]) == (0, 1)
        assert quiet.plan.changes == ()
        searches = sum(n for k, n in counted.items() if "/search" in k)
        assert searches == 2, counted
        assert not any("bulkfetch" in k or "/issue/" in k for k in counted), counted


class TestFullReadsWhenUnsure:
    async def test_full_every_and_a_changed_config_read_in_full(
        self, open_store: OpenStore
    ) -> None:
        """A snapshot older than full_every, or taken under another JQL, is not used."""
        site = Site(dc=False, issues=30)
        audit = open_store()
        await site.sync(audit)
        site.advance(24 * 60 + 1)
        stale = await site.sync(audit)
        assert not stale.read_modes[0].incremental
        assert "full_every" in stale.read_modes[0].reason
        raw = copy.deepcopy(DEMO_CONFIG)
        raw["sources"][0]["jql"] = "project = WEB ORDER BY key"
        other = validate_config(raw, file=Path("other.toml"), environ={})
        changed = await site.sync(audit, loaded=other)
        assert not changed.read_modes[0].incremental
        assert "changed" in changed.read_modes[0].reason

    async def test_the_full_flag_reads_in_full(self, open_store: OpenStore) -> None:
        """``--full`` (``full=True``) reads in full though the snapshot is fresh."""
        site = Site(dc=False, issues=30)
        audit = open_store()
        await site.sync(audit)
        forced = await run_sync(
            site.loaded,
            write=True,
            audit=audit,
            environ=site.environ,
            transports=site.transports,
            clock=site.clock,
            full=True,
        )
        assert forced.read_modes[0].reason == "--full"
        assert not forced.read_modes[0].incremental

    async def test_an_unreadable_snapshot_reads_in_full(self, open_store: OpenStore) -> None:
        """A stored item that does not decode makes the next read a full one, not an error."""
        site = Site(dc=False, issues=30)
        audit = open_store()
        await site.sync(audit)
        audit.save_snapshot(None, "web", items=[("10001", "{not json")])
        site.advance(5)
        got = await site.sync(audit)
        assert not got.read_modes[0].incremental
        assert got.read_modes[0].reason.startswith("snapshot unreadable")
        site.advance(5)
        assert (await site.sync(audit)).read_modes[0].incremental
