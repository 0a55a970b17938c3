"""A bare sandbox site and what an administrator does to it: fields, contexts, options, screens."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.jira import JiraSandbox
from sandbox.jira import catalog as c
from sandbox.jira.site_admin import CONTEXTS_ADMIN_ONLY, OPTIONS_ADMIN_ONLY
from sandbox.jira.state import HUMAN_TOKEN
from sandbox.jira.testing import asgi_client

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


def number_field(name: str) -> dict[str, str]:
    return {"name": name, "type": CF + "float", "searcherKey": CF + "exactnumber"}


class TestBareSite:
    async def test_bare_site_lacks_the_output_fields_and_their_values(self) -> None:
        """--bare leaves out RICE score, Score rationale and Backlog rank, keeps the inputs."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            names = {f["name"] for f in (await client.get("/rest/api/3/field")).json()}
        assert {"Reach", "Impact", "Confidence", "Effort"} <= names
        assert not names & {"RICE score", "Score rationale", "Backlog rank"}
        assert all(c.RICE_SCORE not in i.values for i in sandbox.stored_issues())

    async def test_an_edit_to_a_missing_field_is_refused_as_jira_does(self) -> None:
        """Writing the catalog's score field on a bare site is Jira's 'cannot be set' 400."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            response = await client.put(
                "/rest/api/3/issue/WEB-1", json={"fields": {c.RICE_SCORE: 3.0}}
            )
        assert response.status_code == 400
        assert response.json()["errors"] == {c.RICE_SCORE: CANNOT_SET.format(c.RICE_SCORE)}


class TestCreatingFields:
    async def test_a_created_field_is_listed_but_not_editable_until_on_a_screen(self) -> None:
        """POST /field answers 201; the field is in /field, not in editmeta, and edits fail."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            created = await client.post("/rest/api/3/field", json=number_field("RICE score"))
            assert created.status_code == 201
            field_id = created.json()["id"]
            assert created.json()["schema"]["custom"] == CF + "float"
            listed = {f["id"] for f in (await client.get("/rest/api/3/field")).json()}
            meta = (await client.get("/rest/api/3/issue/WEB-1/editmeta")).json()["fields"]
            refused = await client.put("/rest/api/3/issue/WEB-1", json={"fields": {field_id: 7.0}})
            added = await client.post(f"/rest/api/3/screens/addToDefault/{field_id}")
            again = await client.post(f"/rest/api/3/screens/addToDefault/{field_id}")
            meta_after = (await client.get("/rest/api/3/issue/WEB-1/editmeta")).json()["fields"]
            accepted = await client.put("/rest/api/3/issue/WEB-1", json={"fields": {field_id: 7.0}})
        assert field_id in listed
        assert field_id not in meta
        assert refused.status_code == 400
        assert refused.json()["errors"][field_id] == CANNOT_SET.format(field_id)
        assert (added.status_code, again.status_code) == (200, 404)
        assert field_id in meta_after
        assert accepted.status_code == 204
        assert sandbox.issue("WEB-1").fields_by_name["RICE score"] == 7.0

    async def test_a_select_gets_options_in_its_context(self) -> None:
        """A new select has one global context; options added there are what edits accept."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            body = {
                "name": "Tier",
                "type": CF + "select",
                "searcherKey": CF + "multiselectsearcher",
            }
            field_id = (await client.post("/rest/api/3/field", json=body)).json()["id"]
            contexts = (await client.get(f"/rest/api/3/field/{field_id}/context")).json()
            context = contexts["values"][0]
            options = await client.post(
                f"/rest/api/3/field/{field_id}/context/{context['id']}/option",
                json={"options": [{"value": "Highest", "disabled": False}, {"value": "Low"}]},
            )
            duplicate = await client.post(
                f"/rest/api/3/field/{field_id}/context/{context['id']}/option",
                json={"options": [{"value": "low"}]},
            )
            listed = await client.get(
                f"/rest/api/3/field/{field_id}/context/{context['id']}/option"
            )
            await client.post(f"/rest/api/3/screens/addToDefault/{field_id}")
            edit = await client.put(
                "/rest/api/3/issue/WEB-2", json={"fields": {field_id: {"value": "Highest"}}}
            )
        assert contexts["total"] == 1
        assert context["isGlobalContext"]
        assert context["isAnyIssueType"]
        assert options.status_code == 200
        assert [o["value"] for o in options.json()["options"]] == ["Highest", "Low"]
        assert duplicate.status_code == 400
        assert [o["value"] for o in listed.json()["values"]] == ["Highest", "Low"]
        assert edit.status_code == 204
        assert sandbox.issue("WEB-2").fields_by_name["Tier"] == "Highest"

    async def test_created_fields_survive_a_save_and_load(self, tmp_path: Path) -> None:
        """The state file keeps created fields, their screen and their options."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            field_id = (
                await client.post("/rest/api/3/field", json=number_field("RICE score"))
            ).json()["id"]
            await client.post(f"/rest/api/3/screens/addToDefault/{field_id}")
        sandbox.save(tmp_path / "site.json")
        loaded = JiraSandbox.load(tmp_path / "site.json")
        assert loaded.fields.on_screen(field_id)
        assert loaded.fields[field_id].name == "RICE score"
        assert c.RICE_SCORE not in loaded.fields


class TestPermissions:
    async def test_only_an_administrator_creates_fields(self) -> None:
        """Without Administer Jira: POST /field is 400, contexts and options 403, screens 403."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, jira_admin=False)
        async with asgi_client(sandbox) as client:
            created = await client.post("/rest/api/3/field", json=number_field("RICE score"))
            contexts = await client.get(f"/rest/api/3/field/{c.IMPACT}/context")
            options = await client.get(f"/rest/api/3/field/{c.IMPACT}/context/1/option")
            screen = await client.post(f"/rest/api/3/screens/addToDefault/{c.REACH}")
            held = await client.get(
                "/rest/api/3/mypermissions", params={"permissions": "ADMINISTER"}
            )
        assert created.status_code == 400
        assert contexts.status_code == 403
        assert contexts.json()["errorMessages"] == [CONTEXTS_ADMIN_ONLY]
        assert options.status_code == 403
        assert options.json()["errorMessages"] == [OPTIONS_ADMIN_ONLY]
        assert screen.status_code == 403
        assert held.json()["permissions"]["ADMINISTER"]["havePermission"] is False


class TestDataCenter:
    @pytest.mark.parametrize("path", ["context", "context/10300/option"])
    async def test_data_center_serves_no_contexts_or_options(self, path: str) -> None:
        """Data Center REST creates fields and fills screens, but has no context or option API."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7, bare=True, dc=True)
        async with asgi_client(sandbox) as client:
            created = await client.post("/rest/api/2/field", json=number_field("RICE score"))
            field_id = created.json()["id"]
            screen = await client.post(f"/rest/api/2/screens/addToDefault/{field_id}")
            missing = await client.get(f"/rest/api/2/field/{field_id}/{path}")
        assert (created.status_code, screen.status_code, missing.status_code) == (201, 200, 404)


class TestPersonsEdit:
    async def test_the_person_signs_in_and_edits_as_themselves(self) -> None:
        """The person's credentials sign in as Pat Manager, and their edit is recorded as theirs."""
        sandbox = JiraSandbox.seeded(issues=20, seed=7)
        async with asgi_client(sandbox, auth=(c.HUMAN_EMAIL, HUMAN_TOKEN)) as client:
            me = (await client.get("/rest/api/2/myself")).json()
            edit = await client.put("/rest/api/2/issue/WEB-3", json={"fields": {c.REACH: 4242}})
        assert me["displayName"] == c.HUMAN_NAME
        assert edit.status_code == 204
        assert sandbox.issue("WEB-3").edits[-1].actor_account_id == sandbox.human.account_id

    async def test_unknown_credentials_are_still_refused(self) -> None:
        """Adding the person's credentials lets no one else in."""
        sandbox = JiraSandbox.seeded(issues=10, seed=7)
        async with asgi_client(sandbox, auth=(c.HUMAN_EMAIL, "wrong")) as client:
            assert (await client.get("/rest/api/2/myself")).status_code == 401
