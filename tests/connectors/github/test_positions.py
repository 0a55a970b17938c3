"""``reorder`` on a GitHub Project: position order read, ``updateProjectV2ItemPosition``
mutations written (docs §4.2), against the sandbox GitHub, which validates every document
against GitHub's schema."""

from __future__ import annotations

import random

import httpx

from config.models import OutputsConfig
from connectors.github import ProjectConnector
from priosync.domain import Plan
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.github.state import ProjectItem
from sync.pipeline import Reads, plan_reads
from sync.writer import WriteReport, apply_plan

from .conftest import make_connector
from .test_sandbox import config_for, project_source

REORDER = OutputsConfig(reorder=True)


def project(sandbox: GitHubSandbox) -> list[ProjectItem]:
    return sandbox.state.projects[1].items


def connector_for(sandbox: GitHubSandbox) -> ProjectConnector:
    connector = make_connector(
        httpx.ASGITransport(app=create_github_app(sandbox)),
        source=project_source(),
        outputs=REORDER,
    )
    assert isinstance(connector, ProjectConnector)
    return connector


async def reorder_once(
    connector: ProjectConnector, sandbox: GitHubSandbox
) -> tuple[Plan, WriteReport, int]:
    """Read, plan and apply as the pipeline does; the plan, the report, documents sent."""
    config = config_for(project_source(), REORDER)
    plan = plan_reads(config, Reads(items={connector.name: await connector.read()}))
    documents = connector.client.documents
    report = await apply_plan(plan, {connector.name: connector}, audit=None, run_id=None)
    return plan, report, connector.client.documents - documents


def ranked_keys(plan: Plan) -> list[str]:
    return [r.item.key for r in sorted(plan.ranking, key=lambda r: r.rank or 0) if r.rank]


def order_of(connector_items: list[str], wanted: list[str]) -> list[str]:
    keep = set(wanted)
    return [k for k in connector_items if k in keep]


class TestProjectPositions:
    """The Project's item order follows the ranking in the fewest moves."""

    async def test_shuffled_project_ends_in_ranking_order(self) -> None:
        """N − LIS items move, 50 mutations a document; a second pass sends no mutation."""
        sandbox = GitHubSandbox.seeded(issues=300, seed=5)
        random.Random(9).shuffle(project(sandbox))
        connector = connector_for(sandbox)
        plan, report, documents = await reorder_once(connector, sandbox)
        assert report.move_failed == []
        assert len(report.moved) == len(plan.moves)
        assert 0 < len(plan.moves) < len(ranked_keys(plan))
        # Documents of up to 50 mutations; the writer hands over 100 moves at a time, in
        # whole requests, so at most one document more than the minimum.
        assert -(-len(plan.moves) // 50) <= documents <= -(-len(plan.moves) // 50) + 1
        assert all(e.mutations <= 50 for e in sandbox.request_log)
        after = [i.key for i in await connector.read()]
        assert order_of(after, ranked_keys(plan)) == ranked_keys(plan)
        again, _, documents = await reorder_once(connector, sandbox)
        assert again.moves == ()
        assert documents == 0
        await connector.aclose()

    async def test_items_the_source_leaves_out_keep_their_places(self) -> None:
        """A closed item at the top of the Project stays on top: the new first ranked item
        goes right after it, not to the very top."""
        sandbox = GitHubSandbox.seeded(issues=60, seed=5)
        random.Random(3).shuffle(project(sandbox))
        top = next(it for it in project(sandbox) if it.kind == "ISSUE")
        project(sandbox).remove(top)
        project(sandbox).insert(0, top)
        repo, number = top.content_ref.split("#")
        sandbox.issue_object(repo, int(number)).state = "closed"
        skipped = [it.node_id for it in project(sandbox) if it.kind == "PULL_REQUEST"]
        connector = connector_for(sandbox)
        plan, report, _ = await reorder_once(connector, sandbox)
        assert plan.moves
        assert not report.move_failed
        assert project(sandbox)[0] is top
        # Items the source does not read (pull requests) kept their relative order.
        assert [it.node_id for it in project(sandbox) if it.kind == "PULL_REQUEST"] == skipped
        await connector.aclose()

    async def test_an_item_gone_since_the_read_fails_alone(self) -> None:
        """A position mutation GitHub refuses fails its move; the rest land."""
        sandbox = GitHubSandbox.seeded(issues=40, seed=5)
        random.Random(4).shuffle(project(sandbox))
        connector = connector_for(sandbox)
        config = config_for(project_source(), REORDER)
        plan = plan_reads(config, Reads(items={connector.name: await connector.read()}))
        gone = plan.moves[-1]
        assert gone.item is not None
        item_id = gone.item.handle.item_id
        items = project(sandbox)
        items.remove(next(it for it in items if it.node_id == item_id))
        sandbox.state.reindex()
        report = await apply_plan(plan, {connector.name: connector}, audit=None, run_id=None)
        assert [f.move.key for f in report.move_failed] == [gone.key]
        assert "Could not resolve" in str(report.move_failed[0].error)
        assert len(report.moved) == len(plan.moves) - 1
        await connector.aclose()
