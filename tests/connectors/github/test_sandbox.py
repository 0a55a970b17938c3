"""The GitHub connector against the sandbox GitHub: in-process (ASGITransport) and loopback.

A sync is driven the way ``run_sync`` drives it: ``read`` → ``plan_reads`` → ``apply_plan``.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from config.models import GitHubSource, OutputsConfig, PriosyncConfig
from connectors.github import GitHubConnector, ProjectConnector
from priosync.domain import Plan
from priosync.errors import FieldMappingError
from sandbox.github import GitHubSandbox, RateLimitPolicy, create_github_app
from sandbox.loopback import serve_in_thread
from sync.pipeline import Reads, plan_reads
from sync.writer import WriteReport, apply_plan

from .conftest import INPUTS, SCALES, make_connector, make_outputs, make_source

SANDBOX = "http://sandbox"


def config_for(source: GitHubSource, outputs: OutputsConfig) -> PriosyncConfig:
    return PriosyncConfig.model_validate(
        {
            "scoring": {"model": "rice", "inputs": INPUTS, "scales": SCALES},
            "outputs": outputs.model_dump(),
            "sources": [source.model_dump()],
        }
    )


async def sync_once(connector: GitHubConnector, config: PriosyncConfig) -> tuple[Plan, WriteReport]:
    """One sync as the engine runs it; the plan and what the writer reported."""
    reads = Reads(items={connector.name: await connector.read()})
    plan = plan_reads(config, reads)
    report = await apply_plan(plan, {connector.name: connector}, audit=None, run_id=None)
    return plan, report


def project_source(**overrides: object) -> GitHubSource:
    source: GitHubSource = make_source(api_url=SANDBOX, **overrides)
    return source


def repo_source(**overrides: object) -> GitHubSource:
    source: GitHubSource = make_source(api_url=SANDBOX, project=None, repo="acme/web", **overrides)
    return source


def connector_for(
    sandbox: GitHubSandbox, source: GitHubSource, outputs: OutputsConfig | None = None
) -> GitHubConnector:
    connector: GitHubConnector = make_connector(
        httpx.ASGITransport(app=create_github_app(sandbox)), source=source, outputs=outputs
    )
    return connector


def kinds(sandbox: GitHubSandbox, since: int = 0) -> Counter[str]:
    return Counter(e.kind for e in sandbox.request_log[since:])


class TestProject:
    async def test_reads_1000_items_in_eleven_requests(self) -> None:
        """A 1,000-item Project is read completely: fields once, then ten pages of 100."""
        sandbox = GitHubSandbox.seeded(issues=1000, seed=3)
        connector = connector_for(sandbox, project_source(state="all"))
        items = await connector.read()
        expected = [s for s in sandbox.items() if s.kind != "PULL_REQUEST"]
        assert len(items) == len(expected)
        assert len({i.key for i in items}) == len(items)
        assert kinds(sandbox) == Counter({"graphql": 11})
        # Labels and assignees of 100 issues, labels of 100 pull requests: 3 points a page.
        assert all((e.cost or 0) <= 3 for e in sandbox.request_log)
        await connector.aclose()

    async def test_values_and_labels_match_the_sandbox(self) -> None:
        """Inputs, owned values and every label are read as the sandbox holds them."""
        sandbox = GitHubSandbox.seeded(issues=120, seed=4)
        connector = connector_for(sandbox, project_source(state="all"))
        for item in await connector.read():
            ref = item.handle.item_id
            snap = sandbox.item(ref)
            assert item.inputs.get("reach") == snap.fields.get("Reach")
            assert item.inputs.get("impact") == snap.fields.get("Impact")
            assert item.current.score == snap.fields.get("RICE score")
            assert item.current.priority == snap.fields.get("Priority")
            if item.key.startswith("draft:"):
                assert item.current.labels == frozenset()
            else:
                repo, number = snap.content_ref.split("#")
                assert item.current.labels == frozenset(sandbox.issue(repo, int(number)).labels)
        await connector.aclose()

    async def test_items_named_by_ref_are_looked_up_in_one_document(self) -> None:
        """read_items of three ``ref:`` keys is one ``nodes`` query returning those items, the
        same as a whole read; an unknown ref is left out."""
        sandbox = GitHubSandbox.seeded(issues=300, seed=4)
        connector = connector_for(sandbox, project_source(state="all"))
        whole = {i.key: i for i in await connector.read()}
        chosen = sorted(whole)[:3]
        since = len(sandbox.request_log)
        refs = [f"ref:{whole[k].ref}" for k in chosen] + ["ref:PVTI_gone"]
        found = await connector.read_items(refs)
        assert sorted(i.key for i in found) == chosen
        assert all(i == whole[i.key] for i in found)
        assert kinds(sandbox, since) == Counter({"graphql": 1})

    async def test_reads_the_assignees_of_issues(self) -> None:
        """An issue's assignees are read as logins joined by ", "; drafts have none."""
        sandbox = GitHubSandbox.seeded(issues=120, seed=4)
        connector = connector_for(sandbox, project_source(state="all"))
        items = await connector.read()
        for item in items:
            if item.key.startswith("draft:"):
                assert item.assignee is None
                continue
            repo, number = item.key.split("/", 1)[1].split("#")
            held = sandbox.state.repos[repo].issues[int(number)].assignees
            assert item.assignee == (", ".join(held) or None)
        assert any(i.assignee and ", " in i.assignee for i in items)
        await connector.aclose()

    async def test_first_sync_writes_exactly_and_second_sends_no_mutation(self) -> None:
        """Written values land, human labels stay, labels are created once, a re-sync is a no-op."""
        sandbox = GitHubSandbox.seeded(issues=1000, seed=3)
        source, outputs = project_source(), make_outputs()
        config = config_for(source, outputs)
        connector = connector_for(sandbox, source, outputs)
        before = {i.key: i for i in await connector.read()}
        plan, report = await sync_once(connector, config)
        assert plan.changes
        assert not report.failed
        assert not report.stopped
        assert len(report.written) == len(plan.changes)
        mutation_docs = [e for e in sandbox.request_log if e.mutations]
        assert all(e.mutations <= 50 for e in mutation_docs)
        assert sorted(connector.created_labels) == [
            "acme/web:roadmap:later",
            "acme/web:roadmap:next",
            "acme/web:roadmap:now",
        ]
        for ranked in plan.ranking:
            item = ranked.item
            if item.key.startswith("draft:"):
                continue
            repo, number = item.key.split("/")[1].split("#")
            labels = set(sandbox.issue(repo, int(number)).labels)
            human = {n for n in before[item.key].current.labels if not n.startswith("roadmap:")}
            assert human <= labels
            managed = {n for n in labels if n.startswith("roadmap:")}
            assert managed == ({f"roadmap:{ranked.bucket}"} if ranked.bucket else set())
            snap = sandbox.item(item.handle.item_id)
            if ranked.score.value is not None:
                assert snap.fields["RICE score"] == round(ranked.score.value, 1)
                assert snap.fields["Priority"] == ranked.tier
        since = len(sandbox.request_log)
        again, _ = await sync_once(connector, config)
        # Drafts cannot carry labels; they are marked unlabelable, so nothing stays planned.
        assert again.changes == ()
        assert any(not r.item.labelable for r in again.ranking)
        assert sum(e.mutations for e in sandbox.request_log[since:]) == 0
        await connector.aclose()

    async def test_unknown_field_lists_closest_names(self) -> None:
        """A misspelt input names the Project's closest fields."""
        sandbox = GitHubSandbox.seeded(issues=10, seed=1)
        connector = make_connector(
            httpx.ASGITransport(app=create_github_app(sandbox)),
            source=project_source(),
            inputs={**INPUTS, "reach": "Reech"},
        )
        with pytest.raises(FieldMappingError, match="closest: Reach"):
            await connector.read()
        await connector.aclose()

    async def test_secondary_limits_are_waited_out_with_few_refusals(self) -> None:
        """Under tight secondary limits a full sync lands with only a handful of refusals."""
        clock = VirtualClock()
        policy = RateLimitPolicy(graphql_points_per_minute=60, rest_points_per_minute=60)
        sandbox = GitHubSandbox.seeded(issues=300, seed=6, limits=policy, clock=clock.now)
        source = project_source(
            pacing={"concurrency": 2, "reads_per_second": 1, "writes_per_second": 1}
        )
        outputs = make_outputs()
        connector = connector_for_clock(sandbox, source, outputs, clock)
        plan, report = await sync_once(connector, config_for(source, outputs))
        refused = [e for e in sandbox.request_log if e.outcome == "secondary-limit"]
        assert not report.failed
        assert len(report.written) == len(plan.changes)
        assert 1 <= len(refused) <= 5  # the limits did bite, and the run waited them out
        await connector.aclose()


class TestRepository:
    async def test_reads_every_issue_with_its_fields(self) -> None:
        """All open issues (no pull requests) are read over Link pages with issue field values."""
        sandbox = GitHubSandbox.seeded(issues=1000, seed=3)
        connector = connector_for(sandbox, repo_source())
        items = await connector.read()
        repo = sandbox.state.repos["web"]
        expected = [i for i in repo.issues.values() if i.state == "open" and not i.is_pull_request]
        assert sorted(i.handle.number for i in items) == sorted(i.number for i in expected)
        for item in items[:50]:
            snap = sandbox.issue("web", item.handle.number)
            assert item.inputs.get("reach") == snap.fields.get("Reach")
            assert item.current.labels == frozenset(snap.labels)
        pages = -(-sum(1 for i in repo.issues.values() if i.state == "open") // 100)
        assert kinds(sandbox) == Counter({"rest-read": 1 + pages})
        await connector.aclose()

    async def test_reads_the_assignees_over_rest(self) -> None:
        """A repository issue's REST ``assignees`` become its assignee."""
        sandbox = GitHubSandbox.seeded(issues=200, seed=3)
        connector = connector_for(sandbox, repo_source())
        items = await connector.read()
        issues = sandbox.state.repos["web"].issues
        assert items
        for item in items:
            held = issues[item.handle.number].assignees
            assert item.assignee == (", ".join(held) or None)
        await connector.aclose()

    async def test_sync_writes_fields_and_labels_then_is_a_no_op(self) -> None:
        """Fields merge into the set (others kept), labels are added one way, a re-sync writes nothing."""
        sandbox = GitHubSandbox.seeded(issues=200, seed=8)
        source, outputs = repo_source(), make_outputs()
        config = config_for(source, outputs)
        connector = connector_for(sandbox, source, outputs)
        before = {i.key: i for i in await connector.read()}
        plan, report = await sync_once(connector, config)
        assert not report.failed
        assert len(report.written) == len(plan.changes)
        assert "acme/web:roadmap:now" in connector.created_labels
        assert "roadmap:now" in sandbox.repo_labels("web")
        assert not any(e.method == "PUT" for e in sandbox.request_log)
        for ranked in plan.ranking:
            snap = sandbox.issue("web", ranked.item.handle.number)
            assert snap.fields.get("Reach") == before[ranked.item.key].inputs.get("reach")
            human = {
                n for n in before[ranked.item.key].current.labels if not n.startswith("roadmap:")
            }
            assert human <= set(snap.labels)
            if ranked.score.value is not None:
                assert snap.fields["RICE score"] == round(ranked.score.value, 1)
                assert snap.fields["Priority"] == ranked.tier
        since = len(sandbox.request_log)
        again, _ = await sync_once(connector, config)
        assert again.changes == ()
        assert kinds(sandbox, since) == Counter({"rest-read": kinds(sandbox, since)["rest-read"]})
        await connector.aclose()


async def test_loopback_project_sync() -> None:
    """The same sync over a real socket: reads, writes and an empty second plan."""
    sandbox = GitHubSandbox.seeded(issues=150, seed=2)
    with serve_in_thread(create_github_app(sandbox)) as url:
        source, outputs = make_source(api_url=url), make_outputs()
        config = config_for(source, outputs)
        connector = make_connector(None, source=source, outputs=outputs)
        plan, report = await sync_once(connector, config)
        assert plan.changes
        assert len(report.written) == len(plan.changes)
        again, _ = await sync_once(connector, config)
        assert again.changes == ()
        assert sum(e.mutations for e in sandbox.request_log if e.kind == "graphql") > 0
        await connector.aclose()


# ── a shared virtual clock for the secondary-limit run ────────────────────────────────────


class VirtualClock:
    """Time that moves only when someone sleeps: the sandbox's limits and our pacing agree."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def connector_for_clock(
    sandbox: GitHubSandbox, source: GitHubSource, outputs: OutputsConfig, clock: VirtualClock
) -> ProjectConnector:
    """A connector whose pacing, retries and budgets run on ``clock``."""
    from connectors.github.client import GitHubClient, PointBudget
    from connectors.github.protocol import describe_error, inspect_answer
    from connectors.http import BearerAuth, Pacer, RetryPolicy, TrackerHttp, build_client

    retry = RetryPolicy(sleep=clock.sleep, max_wait_s=3600)
    client = build_client(
        base_url=source.api_url,
        auth=BearerAuth("sandbox-token"),
        user_agent="t",
        timeout_s=30,
        max_connections=2,
        transport=httpx.ASGITransport(app=create_github_app(sandbox)),
    )
    pacer = Pacer(
        concurrency=2, rates_per_s={"read": 1.0, "write": 1.0}, clock=clock.now, sleep=clock.sleep
    )
    http = TrackerHttp(
        client,
        tracker="GitHub",
        pacer=pacer,
        retry=retry,
        describe=describe_error,
        inspect=inspect_answer,
        wall_clock=clock.now,
    )
    gh = GitHubClient(
        http,
        api_url=source.api_url,
        wall_clock=clock.now,
        graphql_points=PointBudget(1000, clock=clock.now, sleep=clock.sleep),
        rest_points=PointBudget(450, clock=clock.now, sleep=clock.sleep),
    )
    return ProjectConnector(source=source, client=gh, inputs=INPUTS, outputs=outputs, scales=SCALES)


class TestCheck:
    async def test_all_lines_pass_on_the_seeded_project(self) -> None:
        """A well-mapped Project passes every line, including the budget for a full sync."""
        sandbox = GitHubSandbox.seeded(issues=50, seed=1)
        connector = connector_for(sandbox, project_source())
        results = await connector.check()
        assert [r.what for r in results if not r.ok] == []
        budget = next(r for r in results if r.what == "app: rate-limit budget")
        assert "a full sync of 50 items costs about" in budget.detail
        await connector.aclose()

    async def test_wrong_priority_names_and_bad_token_are_reported(self) -> None:
        """Tier names missing from the Priority field fail their line; a bad token fails credentials."""
        sandbox = GitHubSandbox.seeded(issues=5, seed=1)
        connector = connector_for(sandbox, project_source())
        connector.priority_names = ("Urgent", "High")
        lines = {r.what: r for r in await connector.check()}
        assert not lines["app: priority names"].ok
        assert "Urgent" in lines["app: priority names"].detail
        await connector.aclose()
        sandbox.token = "other"
        refused = connector_for(sandbox, project_source())
        first = (await refused.check())[0]
        assert (first.what, first.ok) == ("app: credentials", False)
        assert "sandbox-token" not in first.detail
        await refused.aclose()
