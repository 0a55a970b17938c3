"""`priosync setup` for GitHub: Project fields and managed labels against a bare sandbox."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import parse, validate

from connectors.github import ProjectConnector
from connectors.github.setup import (
    CREATE_FIELD_MUTATION,
    FIELD_OPTIONS_QUERY,
    ITEM_REPOSITORIES_QUERY,
    UPDATE_FIELD_MUTATION,
    apply_setup,
    create_field_input,
    plan_setup,
)
from connectors.setup import SetupStep
from sandbox.github import GitHubSandbox, create_github_app

from .conftest import make_connector, make_outputs, make_source
from .test_units import schema

LABELS = {"roadmap:now", "roadmap:next", "roadmap:later", "needs-scoring"}


def connector_for(sandbox: GitHubSandbox, **outputs: Any) -> ProjectConnector:
    transport = httpx.ASGITransport(app=create_github_app(sandbox))
    made = make_connector(
        transport, outputs=make_outputs(needs_input_label="needs-scoring", **outputs)
    )
    assert isinstance(made, ProjectConnector)
    return made


def bare() -> GitHubSandbox:
    return GitHubSandbox.seeded(issues=30, seed=7, bare=True)


class TestDocuments:
    def test_setup_documents_validate_against_githubs_schema(self) -> None:
        """Every document setup sends is valid in the official schema."""
        for document in (
            ITEM_REPOSITORIES_QUERY,
            CREATE_FIELD_MUTATION,
            FIELD_OPTIONS_QUERY,
            UPDATE_FIELD_MUTATION,
        ):
            assert validate(schema(), parse(document)) == []

    def test_a_select_carries_the_tiers_in_order_with_colours(self) -> None:
        """SINGLE_SELECT input: one option per tier, top tier red, descriptions present."""
        step = SetupStep(
            "create-field", "Priority", "", kind="select", options=("Highest", "High", "Low")
        )
        assert create_field_input("P", step) == {
            "projectId": "P",
            "name": "Priority",
            "dataType": "SINGLE_SELECT",
            "singleSelectOptions": [
                {"name": "Highest", "color": "RED", "description": ""},
                {"name": "High", "color": "ORANGE", "description": ""},
                {"name": "Low", "color": "YELLOW", "description": ""},
            ],
        }


class TestProjectSetup:
    async def test_plan_on_a_bare_project_lists_fields_then_labels(self) -> None:
        """Score, priority (with tiers) and explanation fields, then four labels per repository."""
        sandbox = bare()
        plan = await plan_setup(connector_for(sandbox))
        fields = [(s.target, s.kind) for s in plan.steps if s.action == "create-field"]
        assert fields == [
            ("RICE score", "number"),
            ("Priority", "select"),
            ("Score rationale", "text"),
        ]
        labels = {(s.where, s.target) for s in plan.steps if s.action == "create-label"}
        assert labels == {(f"acme/{r}", n) for r in ("app", "web") for n in LABELS}
        assert plan.problems == ()
        assert sandbox.count_requests("rest-write") == 0

    async def test_apply_creates_everything_and_a_second_plan_is_complete(self) -> None:
        """Fields with their types and options and labels with colours; then nothing to do."""
        sandbox = bare()
        connector = connector_for(sandbox)
        report = await apply_setup(connector, await plan_setup(connector))
        assert report.ok, report
        project = sandbox.state.projects[1]
        by_name = {f.name: f for f in project.fields}
        assert by_name["RICE score"].data_type == "NUMBER"
        assert by_name["Score rationale"].data_type == "TEXT"
        assert [o.name for o in by_name["Priority"].options] == ["Highest", "High", "Medium", "Low"]
        assert set(sandbox.repo_labels("web")) >= LABELS
        colours = {lb.name: lb.color for lb in sandbox.state.repos["web"].labels}
        assert colours["needs-scoring"] == "fbca04"
        assert colours["roadmap:now"] == "1d76db"
        assert (await plan_setup(connector_for(sandbox))).complete

    async def test_a_sync_after_setup_writes_the_new_fields(self) -> None:
        """After setup a connector resolves the created fields and its writes land."""
        sandbox = bare()
        connector = connector_for(sandbox)
        await apply_setup(connector, await plan_setup(connector))
        items = await connector_for(sandbox).read()
        assert len(items) > 0
        fields = await connector_for(sandbox).field_map()
        assert fields.priority is not None
        assert set(fields.priority.options) == {
            "Highest",
            "High",
            "Medium",
            "Low",
        }

    async def test_the_setup_costs_few_requests(self) -> None:
        """Plan: project, item repositories, labels per repository; apply: one write each."""
        sandbox = bare()
        connector = connector_for(sandbox)
        plan = await plan_setup(connector)
        planned = sandbox.count_requests()
        await apply_setup(connector, plan)
        assert planned == 1 + 1 + 2
        assert sandbox.count_requests("rest-write") == 8
        assert sandbox.count_requests() - planned == 3 + 8 + 1


class TestWhatSetupCannotDo:
    async def test_an_account_that_may_not_change_the_project_gets_one_line(self) -> None:
        """A refused field creation stops setup, names the permission and who grants it."""
        sandbox = bare()
        sandbox.state.viewer_can_admin_projects = False
        connector = connector_for(sandbox)
        report = await apply_setup(connector, await plan_setup(connector))
        assert [r.ok for r in report.results] == [False]
        assert report.stopped is not None
        assert "Manage access" in report.stopped
        assert len(report.not_done) == len(report.plan.steps) - 1
        assert not any(f.name == "RICE score" for f in sandbox.state.projects[1].fields)

    async def test_missing_tiers_are_added_and_existing_options_keep_their_ids(self) -> None:
        """An existing Priority lacking a tier gets it; old options and the items' values stay."""
        sandbox = GitHubSandbox.seeded(issues=30, seed=7)
        project = sandbox.state.projects[1]
        priority = next(f for f in project.fields if f.name == "Priority")
        before = {o.name: o.id for o in priority.options}
        held = {it.id: it.values[priority.id] for it in project.items if priority.id in it.values}
        tiers = [*make_outputs().priority[:-1], {"name": "Someday"}]
        connector = connector_for(sandbox, priority=tiers)
        plan = await plan_setup(connector)
        assert [(s.action, s.options) for s in plan.steps if s.action != "create-label"] == [
            ("add-options", ("Someday",))
        ]
        report = await apply_setup(connector, plan)
        assert report.ok, report
        after = {o.name: o.id for o in priority.options}
        assert {k: after[k] for k in before} == before
        assert "Someday" in after
        assert {it.id: it.values.get(priority.id) for it in project.items if it.id in held} == held
        assert (await plan_setup(connector_for(sandbox, priority=tiers))).complete

    async def test_a_repository_source_reports_missing_issue_fields(self) -> None:
        """Issue fields are the organization's: a missing one is a problem naming its owner."""
        sandbox = GitHubSandbox.seeded(issues=30, seed=7)
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        connector = make_connector(
            transport,
            source=make_source(project=None, repo="acme/web"),
            outputs=make_outputs(score_field="Score v2"),
        )
        plan = await plan_setup(connector)
        problem = next(p for p in plan.problems if p.what == "outputs.score_field")
        assert "an owner of acme adds a Number issue field 'Score v2'" in problem.fix
        assert {s.where for s in plan.steps} == {"acme/web"}
