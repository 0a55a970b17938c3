"""When a Project item's inputs last changed: its field values' ``updatedAt``, read in the same
pages as the items (no extra request), as documented on ``ProjectV2ItemFieldValueCommon``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from config import load_config
from config.secrets import BearerCredentials
from connectors.fields import FieldMap, TrackerField
from connectors.github import ProjectConnector
from connectors.github.mapping import project_inputs_changed, work_item_from_project_item
from connectors.http import RetryPolicy
from priosync.domain import Change, InputsChanged, Outputs, Plan
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.github.graphql_mutations import create_label
from scoring.freshness import freshness_text
from sync.audit import SqliteAuditLog
from sync.pipeline import SyncOutcome, run_sync
from sync.writer import apply_plan

from .conftest import INPUTS, SCALES, TOKEN, fast_sleep, make_outputs, make_source

REACH = TrackerField("PVTF_1", "Reach", "number")
IMPACT = TrackerField("PVTF_2", "Impact", "select")
METRIC = TrackerField("PVTF_3", "Key metric", "select")
SCORE = TrackerField("PVTF_4", "RICE score", "number")
FIELDS = FieldMap(inputs={"reach": REACH, "impact": IMPACT, "key_metric": METRIC}, score=SCORE)


def node(**values: dict[str, object]) -> dict[str, object]:
    """A Project item as ``build_items_query(…, dates=True)`` returns it (aliases f0…)."""
    return {
        "id": "PVTI_1",
        "type": "ISSUE",
        "updatedAt": "2025-05-01T00:00:00Z",
        "content": {
            "__typename": "Issue",
            "id": "I_1",
            "number": 7,
            "title": "Checkout",
            "url": "https://github.com/acme/app/issues/7",
            "closed": False,
            "updatedAt": "2025-05-01T00:00:00Z",
            "repository": {"nameWithOwner": "acme/app"},
            "labels": {"nodes": []},
        },
        **values,
    }


class TestPayloads:
    def test_latest_input_value_wins_and_the_metric_and_outputs_do_not_count(self) -> None:
        """Reach changed in March, Impact in January; the key metric (April) and the score
        (May) are not inputs."""
        item = node(
            f0={
                "__typename": "ProjectV2ItemFieldNumberValue",
                "number": 500,
                "updatedAt": "2025-03-02T10:00:00Z",
            },
            f1={
                "__typename": "ProjectV2ItemFieldSingleSelectValue",
                "name": "High",
                "optionId": "o1",
                "updatedAt": "2025-01-02T10:00:00Z",
            },
            f2={
                "__typename": "ProjectV2ItemFieldSingleSelectValue",
                "name": "Revenue",
                "optionId": "o9",
                "updatedAt": "2025-04-02T10:00:00Z",
            },
            f3={
                "__typename": "ProjectV2ItemFieldNumberValue",
                "number": 12,
                "updatedAt": "2025-05-02T10:00:00Z",
            },
        )
        march = datetime(2025, 3, 2, 10, tzinfo=UTC)
        assert project_inputs_changed(item, FIELDS) == march
        read = work_item_from_project_item(item, fields=FIELDS, source="app")
        assert read.inputs_changed == InputsChanged(march)
        assert read.inputs["key_metric"] == "Revenue"

    def test_values_read_without_dates_give_none(self) -> None:
        """A page read without ``dates`` carries no ``updatedAt``: the item is undated."""
        item = node(f0={"__typename": "ProjectV2ItemFieldNumberValue", "number": 500})
        assert work_item_from_project_item(item, fields=FIELDS, source="app").inputs_changed is None


def connector(sandbox: GitHubSandbox) -> ProjectConnector:
    return ProjectConnector.from_config(
        make_source(),
        inputs=INPUTS,
        outputs=make_outputs(),
        credentials=BearerCredentials(token=SecretStr(TOKEN)),
        transport=httpx.ASGITransport(app=create_github_app(sandbox)),
        scales=SCALES,
        retry=RetryPolicy(sleep=fast_sleep),
        history=True,
    )


class TestAgainstTheSandbox:
    async def test_a_persons_edit_dates_the_item_and_a_score_write_does_not(self) -> None:
        """Reach set by a person on 6 January dates the item then; the others date from when
        they were added; priosync writing the score changes no input date; no extra request."""
        sandbox = GitHubSandbox.seeded(issues=8, seed=3)
        ref = sandbox.state.projects[1].items[0].content_ref
        sandbox.human_set_value(ref, "Reach", 4321.0, at="2025-01-06T09:00:00Z")
        project = connector(sandbox)
        plain = Counter(e.kind for e in sandbox.request_log)
        items = {i.key: i for i in await project.read()}
        read_requests = Counter(e.kind for e in sandbox.request_log) - plain
        edited = items[f"acme/{ref}"]
        assert edited.inputs_changed == InputsChanged(datetime(2025, 1, 6, 9, tzinfo=UTC))
        others = [i for k, i in items.items() if k != f"acme/{ref}"]
        assert all(i.inputs_changed is not None for i in others)
        change = Change(
            edited.key,
            edited.source,
            edited.url,
            before=Outputs(),
            after=Outputs(score=99.0),
            reason="test",
            item=edited,
        )
        await apply_plan(Plan(changes=(change,)), {"app": project}, audit=None, run_id=None)
        again = {i.key: i for i in await project.read()}
        await project.aclose()
        assert again[edited.key].current.score == 99.0
        assert again[edited.key].inputs_changed == edited.inputs_changed
        assert read_requests == Counter({"graphql": read_requests["graphql"]})


class TestSyncStaleThenFresh:
    async def test_label_added_then_removed_as_a_person_updates_the_input(
        self, tmp_path: Path
    ) -> None:
        """Through ``run_sync``: items whose inputs date from 2024 get needs-review (metric
        labels kept); after a person sets Reach today, that item loses it; nothing else moves."""
        sandbox = GitHubSandbox.seeded(issues=6, seed=3)
        config = tmp_path / "priosync.toml"
        config.write_text(
            """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }
[scoring.metrics]
label_prefix = "metric:"
weights = { Revenue = 2.0 }
[scoring.freshness]
review_after_days = 90
stale_label = "needs-review"
[outputs]
score_field = "RICE score"
[[sources]]
name = "app"
kind = "github"
project = "acme/1"
pacing = { concurrency = 4, reads_per_second = 1000, writes_per_second = 1000 }
""",
            encoding="utf-8",
        )
        loaded = load_config(config, environ={"GITHUB_TOKEN": TOKEN})
        transports = {"app": httpx.ASGITransport(app=create_github_app(sandbox))}
        env = {"GITHUB_TOKEN": TOKEN}
        item = next(i for i in sandbox.state.projects[1].items if i.kind == "ISSUE")
        repo, number = item.content_ref.split("#")
        create_label(
            sandbox.state,
            sandbox.state.repos[repo],
            name="metric:revenue",
            color="0e8a16",
            description=None,
        )
        sandbox.issue_object(repo, int(number)).labels.append("metric:revenue")
        persons = set(sandbox.issue(repo, int(number)).labels)

        async def sync() -> SyncOutcome:
            audit = SqliteAuditLog(tmp_path / "audit.sqlite3")
            try:
                return await run_sync(
                    loaded, write=True, audit=audit, environ=env, transports=transports
                )
            finally:
                audit.close()

        first = await sync()
        key = f"acme/{item.content_ref}"
        ranked = {r.item.key: r for r in first.plan.ranking}
        assert ranked[key].score.metric == "Revenue"
        assert set(sandbox.issue(repo, int(number)).labels) == persons | {"needs-review"}
        assert (await sync()).plan.changes == ()

        today = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sandbox.human_set_value(item.content_ref, "Reach", 4321.0, at=today)
        third = await sync()
        assert [c.key for c in third.plan.changes] == [key]
        assert third.plan.changes[0].labels_to_remove == {"needs-review"}
        assert third.plan.changes[0].labels_to_add == frozenset()
        assert set(sandbox.issue(repo, int(number)).labels) == persons


class TestRepositoryFirstSeen:
    async def test_dated_by_first_sighting_stale_later_and_fresh_once_a_value_changes(
        self, tmp_path: Path
    ) -> None:
        """Organization issue fields carry no date: the first sync dates inputs by priosync's
        sighting (nothing stale); 100 days on every ranked issue gets needs-review, said to
        be first seen; a person changing one issue's Reach makes that one fresh again."""
        sandbox = GitHubSandbox.seeded(issues=6, seed=8)
        config = tmp_path / "priosync.toml"
        config.write_text(
            """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }
[scoring.freshness]
review_after_days = 90
stale_label = "needs-review"
[outputs]
score_field = "RICE score"
[[sources]]
name = "web"
kind = "github"
repo = "acme/web"
pacing = { concurrency = 4, reads_per_second = 1000, writes_per_second = 1000 }
""",
            encoding="utf-8",
        )
        env = {"GITHUB_TOKEN": TOKEN}
        loaded = load_config(config, environ=env)
        transports = {"web": httpx.ASGITransport(app=create_github_app(sandbox))}
        start = datetime(2025, 3, 1, tzinfo=UTC)

        async def sync(days: int) -> SyncOutcome:
            audit = SqliteAuditLog(tmp_path / "audit.sqlite3")
            try:
                return await run_sync(
                    loaded,
                    write=True,
                    audit=audit,
                    environ=env,
                    transports=transports,
                    now=start + timedelta(days=days),
                )
            finally:
                audit.close()

        first = await sync(0)
        scored = [r for r in first.plan.ranking if r.rank is not None]
        assert scored
        for r in first.plan.ranking:
            assert r.score.freshness is not None
            assert r.score.freshness.changed == InputsChanged(start, "first-seen")
            assert not r.score.freshness.stale
        assert not any("needs-review" in c.labels_to_add for c in first.plan.changes)

        later = await sync(100)
        stale = {c.key for c in later.plan.changes if c.labels_to_add == {"needs-review"}}
        assert stale == {r.item.key for r in later.plan.ranking if r.rank is not None}
        ranked = next(r for r in later.plan.ranking if r.rank is not None)
        assert ranked.score.freshness is not None
        assert ranked.score.freshness.days == 100
        assert "first seen by priosync" in freshness_text(ranked.score.freshness)
        assert (await sync(100)).plan.changes == ()

        key = scored[0].item.key
        number = int(key.rsplit("#", 1)[1])
        reach = next(f for f in sandbox.state.issue_fields if f.name == "Reach")
        issue = sandbox.issue_object("web", number)
        issue.issue_field_values[reach.id] = 4321.0
        again = await sync(101)
        mine = [c for c in again.plan.changes if c.key == key]
        assert len(mine) == 1
        assert mine[0].labels_to_remove == {"needs-review"}
        others = [c for c in again.plan.changes if c.key != key]
        assert all("needs-review" not in c.labels_to_remove for c in others)
        assert "needs-review" not in sandbox.issue("web", number).labels
