"""`priosync setup` for Jira: the plan against a bare sandbox site, applying it, and its requests."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest
import respx

from config.models import CutConfig, OutputsConfig
from connectors.jira import JiraConnector
from connectors.jira.setup import apply_setup, plan_setup
from sandbox.jira import JiraSandbox, create_jira_app

from .conftest import SITE, make_connector

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
TIERS = [CutConfig(name="Highest", top=2), CutConfig(name="High", top=5), CutConfig(name="Low")]


def outputs(**overrides: Any) -> OutputsConfig:
    values: dict[str, Any] = {
        "score_field": "RICE score",
        "priority_field": "priority",
        "explain_field": "Score rationale",
        "rank_field": "Backlog rank",
        "priority": TIERS,
    }
    values.update(overrides)
    return OutputsConfig(**values)


def connector_for(sandbox: JiraSandbox, **overrides: Any) -> JiraConnector:
    transport = httpx.ASGITransport(app=create_jira_app(sandbox))
    return make_connector(transport, dc=sandbox.dc, outputs=outputs(**overrides))


def counts(sandbox: JiraSandbox, since: int = 0) -> Counter[str]:
    return Counter(f"{e.method} {e.endpoint}" for e in sandbox.request_log[since:])


class TestPlanOnABareSite:
    async def test_plan_names_each_missing_field_and_what_is_there(self) -> None:
        """A bare Cloud site lacks score, explanation and rank; the system priority is there."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        plan = await plan_setup(connector_for(sandbox))
        assert [(s.action, s.target, s.kind) for s in plan.steps] == [
            ("create-field", "RICE score", "number"),
            ("create-field", "Score rationale", "text"),
            ("create-field", "Backlog rank", "number"),
        ]
        assert plan.present == ("Priority (priority field)",)
        assert plan.problems == ()
        assert "outputs.score_field" in plan.steps[0].detail
        assert all(e.kind == "read" for e in sandbox.request_log)

    async def test_apply_then_plan_again_finds_nothing_to_do(self) -> None:
        """Applying creates three fields on the default screen; a second plan is complete."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        connector = connector_for(sandbox)
        report = await apply_setup(connector, await plan_setup(connector))
        assert report.ok, report
        created = [r.field_id for r in report.results]
        assert all(f is not None and sandbox.fields.on_screen(f) for f in created)
        assert [sandbox.fields[str(f)].kind for f in created] == ["number", "textarea", "number"]
        before = len(sandbox.request_log)
        again = await plan_setup(connector_for(sandbox))
        assert again.complete
        assert all(e.kind == "read" for e in sandbox.request_log[before:])

    async def test_the_setup_costs_few_requests(self) -> None:
        """Plan: 5 reads; apply: a create and a screen entry per field, then 4 reads to check."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        connector = connector_for(sandbox)
        plan = await plan_setup(connector)
        planned = len(sandbox.request_log)
        await apply_setup(connector, plan)
        applied = counts(sandbox, planned)
        assert planned == 5
        assert applied["POST /field"] == 3
        assert applied["POST /screens/addToDefault/customfield_10100"] == 1
        assert sum(applied.values()) == 3 + 3 + 3

    async def test_a_sync_after_setup_reads_and_writes_the_new_fields(self) -> None:
        """After setup the connector resolves the outputs, and a write to them lands."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        connector = connector_for(sandbox)
        await apply_setup(connector, await plan_setup(connector))
        fresh = connector_for(sandbox)
        items = await fresh.read()
        site = await fresh.discover()
        assert site.fields.score is not None
        assert site.fields.score.name == "RICE score"
        assert len(items) == 20


class TestCustomPriority:
    async def test_a_custom_priority_select_is_created_with_the_tier_names(self) -> None:
        """priority_field naming a missing select: created, options = tiers, editable by value."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        connector = connector_for(sandbox, priority_field="Priority tier")
        plan = await plan_setup(connector)
        step = next(s for s in plan.steps if s.target == "Priority tier")
        assert (step.kind, step.options) == ("select", ("Highest", "High", "Low"))
        report = await apply_setup(connector, plan)
        assert report.ok, report
        field_id = next(r.field_id for r in report.results if r.step is step)
        assert [o.value for o in sandbox.fields[str(field_id)].options] == [
            "Highest",
            "High",
            "Low",
        ]
        assert (await plan_setup(connector_for(sandbox, priority_field="Priority tier"))).complete

    async def test_missing_tier_options_are_added_to_an_existing_select(self) -> None:
        """An existing select lacking some tiers gets exactly the missing options."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7)
        tier = sandbox.fields.create(name="Tier", type_key=f"{CF}select")
        sandbox.fields.add_options(tier.id, ["High"])
        sandbox.fields.add_to_screen(tier.id)
        connector = connector_for(sandbox, priority_field="Tier")
        plan = await plan_setup(connector)
        assert [(s.action, s.options) for s in plan.steps] == [("add-options", ("Highest", "Low"))]
        assert (await apply_setup(connector, plan)).ok
        assert [o.value for o in sandbox.fields[tier.id].options] == ["High", "Highest", "Low"]

    async def test_the_system_priority_lacking_a_tier_is_a_problem(self) -> None:
        """Jira's priorities are a site setting: a tier it lacks is a problem, not a step."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7)
        tiers = [CutConfig(name="Urgent", top=1), CutConfig(name="Low")]
        plan = await plan_setup(connector_for(sandbox, priority=tiers))
        assert [p.what for p in plan.problems] == ["outputs.priority_field"]
        assert "Urgent" in plan.problems[0].detail


class TestWhatSetupCannotDo:
    async def test_without_administer_jira_the_plan_is_blocked_in_one_line(self) -> None:
        """No Administer Jira: one problem naming the permission and who grants it; no writes."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, jira_admin=False)
        connector = connector_for(sandbox)
        plan = await plan_setup(connector)
        assert plan.steps == ()
        assert len(plan.blocked) == 3
        assert len(plan.problems) == 1
        assert "'Administer Jira'" in plan.problems[0].detail
        assert "Jira administrator" in plan.problems[0].fix
        report = await apply_setup(connector, plan)
        assert report.results == []
        assert not any(e.kind == "write" for e in sandbox.request_log)

    async def test_a_field_of_the_wrong_type_is_a_problem(self) -> None:
        """score_field naming a text field is reported; setup neither renames nor creates."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7)
        plan = await plan_setup(connector_for(sandbox, score_field="T-shirt size"))
        assert [p.what for p in plan.problems] == ["outputs.score_field"]
        assert "expected a number field" in plan.problems[0].detail
        assert not [s for s in plan.steps if s.target == "T-shirt size"]

    async def test_an_existing_field_off_every_screen_is_put_on_the_default_screen(
        self,
    ) -> None:
        """A field edits cannot reach becomes an add-to-screen step, and then is reachable."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7)
        sandbox.fields._screen.remove("customfield_10059")  # an admin took it off the screen
        connector = connector_for(sandbox)
        plan = await plan_setup(connector)
        assert [(s.action, s.field_id) for s in plan.steps] == [
            ("add-to-screen", "customfield_10059")
        ]
        assert (await apply_setup(connector, plan)).ok
        assert sandbox.fields.on_screen("customfield_10059")

    async def test_data_center_leaves_a_select_to_an_administrator(self) -> None:
        """On DC number and text fields are created; the tier select is a problem with steps."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, dc=True)
        connector = connector_for(sandbox, priority_field="Priority tier")
        plan = await plan_setup(connector)
        assert "Priority tier" not in [s.target for s in plan.steps]
        problem = next(p for p in plan.problems if p.what == "outputs.priority_field")
        assert "Data Center cannot add options" in problem.detail
        assert "Select List (single choice)" in problem.fix
        assert "Highest, High, Low" in problem.fix
        report = await apply_setup(connector, plan)
        assert report.ok or report.problems == []
        assert [r.ok for r in report.results] == [True, True, True]
        assert "Priority tier" not in {f.name for f in sandbox.fields.all()}


class TestRequestShapes:
    async def test_a_select_is_created_then_given_options_then_a_screen(self) -> None:
        """POST /field with type and searcher, its global context's options, then the screen."""
        router = respx.MockRouter(base_url=SITE, assert_all_called=True)
        router.get("/rest/api/2/serverInfo").respond(
            200, json={"deploymentType": "Cloud", "baseUrl": SITE}
        )
        router.get("/rest/api/3/field").respond(200, json=[])
        router.post("/rest/api/3/search/jql").respond(200, json={"issues": [], "isLast": True})
        router.get("/rest/api/3/mypermissions").respond(
            200, json={"permissions": {"ADMINISTER": {"havePermission": True}}}
        )
        create = router.post("/rest/api/3/field").respond(201, json={"id": "customfield_10200"})
        contexts = router.get("/rest/api/3/field/customfield_10200/context").respond(
            200, json={"values": [{"id": "10400", "isGlobalContext": True}]}
        )
        options = router.post("/rest/api/3/field/customfield_10200/context/10400/option").respond(
            200, json={"options": []}
        )
        screen = router.post("/rest/api/3/screens/addToDefault/customfield_10200").respond(
            200, json={}
        )
        transport = httpx.MockTransport(router.async_handler)
        connector = make_connector(
            transport,
            outputs=OutputsConfig(priority_field="Priority tier", priority=TIERS),
        )
        plan = await plan_setup(connector)
        report = await apply_setup(connector, plan)
        assert report.results[0].ok
        assert json.loads(create.calls[0].request.content) == {
            "name": "Priority tier",
            "description": "Written by priosync (outputs.priority_field); people edit the "
            "inputs, not this field.",
            "type": f"{CF}select",
            "searcherKey": f"{CF}multiselectsearcher",
        }
        assert contexts.called
        assert screen.called
        assert json.loads(options.calls[0].request.content) == {
            "options": [
                {"value": "Highest", "disabled": False},
                {"value": "High", "disabled": False},
                {"value": "Low", "disabled": False},
            ]
        }

    @pytest.mark.parametrize("status", [200, 404])
    async def test_already_on_the_default_screen_counts_as_done(self, status: int) -> None:
        """addToDefault's 404 ("already present") is success, as 200 is."""
        router = respx.MockRouter(base_url=SITE, assert_all_called=False)
        router.get("/rest/api/2/serverInfo").respond(200, json={"deploymentType": "Cloud"})
        router.get("/rest/api/3/field").respond(200, json=[])
        router.post("/rest/api/3/search/jql").respond(200, json={"issues": [], "isLast": True})
        router.get("/rest/api/3/mypermissions").respond(
            200, json={"permissions": {"ADMINISTER": {"havePermission": True}}}
        )
        router.post("/rest/api/3/field").respond(201, json={"id": "customfield_10200"})
        router.post("/rest/api/3/screens/addToDefault/customfield_10200").respond(
            status, json={"errorMessages": []}
        )
        connector = make_connector(
            httpx.MockTransport(router.async_handler),
            outputs=OutputsConfig(score_field="RICE score"),
        )
        report = await apply_setup(connector, await plan_setup(connector))
        assert [r.ok for r in report.results] == [True]


class TestProjectScreens:
    async def test_fields_reach_a_project_that_edits_through_its_own_screen(self) -> None:
        """The default screen is not enough: setup walks the project's schemes to its screen."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, own_screens=True)
        connector = connector_for(sandbox)
        report = await apply_setup(connector, await plan_setup(connector))
        assert report.ok, report
        assert report.notes == [
            "put RICE score, Score rationale, Backlog rank on the project's screen(s) 10001"
        ]
        assert all(sandbox.fields.on_screen(str(r.field_id)) for r in report.results)
        assert (await plan_setup(connector_for(sandbox))).complete

    async def test_an_existing_field_off_the_projects_screen_is_put_there(self) -> None:
        """A field on the default screen only is planned as a screen step and then reachable."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, own_screens=True)
        made = sandbox.fields.create(name="RICE score", type_key=f"{CF}float")
        sandbox.fields.add_to_screen(made.id)
        connector = connector_for(sandbox, explain_field=None, rank_field=None)
        plan = await plan_setup(connector)
        assert [(s.action, s.field_id) for s in plan.steps] == [("add-to-screen", made.id)]
        assert (await apply_setup(connector, plan)).ok
        assert sandbox.fields.on_screen(made.id)

    async def test_data_center_reports_the_projects_screen_as_an_administrators_step(
        self,
    ) -> None:
        """DC has no REST way to find a project's screens: the field is reported, not lost."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, dc=True, own_screens=True)
        connector = connector_for(sandbox)
        report = await apply_setup(connector, await plan_setup(connector))
        assert [r.ok for r in report.results] == [True, True, True]
        assert [p.what for p in report.problems] == [
            "RICE score",
            "Score rationale",
            "Backlog rank",
        ]
        assert "Project settings → Issues → Screens" in report.problems[0].fix
