"""Edit semantics of PUT /issue/{key}: success cases, every pinned error, notifications."""

from __future__ import annotations

import httpx
import pytest

from sandbox.jira import NOTIFY_FORBIDDEN, JiraSandbox
from sandbox.jira import catalog as c
from sandbox.jira.testing import asgi_client

CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


async def put(
    client: httpx.AsyncClient, body: object, *, key: str = "WEB-5", api: str = "3", **params: str
) -> httpx.Response:
    return await client.put(f"/rest/api/{api}/issue/{key}", json=body, params=params)


class TestSuccessfulEdits:
    async def test_fields_and_label_verbs_in_one_edit(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Number, select by value, priority by name and label add/remove land together with 204."""
        sandbox.human_edit("WEB-5", fields={"labels": ["keep-me", "roadmap:later"]})
        response = await put(
            client,
            {
                "fields": {
                    c.RICE_SCORE: 266.7,
                    c.IMPACT: {"value": "High"},
                    "priority": {"name": "Highest"},
                },
                "update": {"labels": [{"add": "roadmap:now"}, {"remove": "roadmap:later"}]},
            },
        )
        assert response.status_code == 204
        view = sandbox.issue("WEB-5")
        assert view.fields[c.RICE_SCORE] == 266.7
        assert view.fields_by_name["Impact"] == "High"
        assert view.priority == "Highest"
        assert view.labels == ("keep-me", "roadmap:now")

    async def test_option_and_priority_by_id(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Select options and priorities are also accepted by id."""
        response = await put(
            client, {"fields": {c.CONFIDENCE: {"id": "10112"}, "priority": {"id": "5"}}}
        )
        assert response.status_code == 204
        assert sandbox.issue("WEB-5").fields_by_name["Confidence"] == "Low"
        assert sandbox.issue("WEB-5").priority == "Lowest"

    async def test_labels_set_verb_and_clear_number(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """update.labels set replaces the set; a number field is cleared with null."""
        response = await put(
            client, {"fields": {c.REACH: None}, "update": {"labels": [{"set": ["a", "b"]}]}}
        )
        assert response.status_code == 204
        assert sandbox.issue("WEB-5").labels == ("a", "b")
        assert sandbox.issue("WEB-5").fields["customfield_10050"] is None

    async def test_text_fields_v3_adf_and_v2_wiki(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """A textarea takes ADF in v3 and a plain string in v2, and reads back in the same shapes."""
        adf = {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "RICE 10"}]}],
        }
        assert (await put(client, {"fields": {c.SCORE_RATIONALE: adf}})).status_code == 204
        v3 = (
            await client.get("/rest/api/3/issue/WEB-5", params={"fields": c.SCORE_RATIONALE})
        ).json()
        assert v3["fields"][c.SCORE_RATIONALE]["type"] == "doc"
        assert (
            await put(client, {"fields": {c.SCORE_RATIONALE: "RICE 11"}}, api="2")
        ).status_code == 204
        v2 = (
            await client.get("/rest/api/2/issue/WEB-5", params={"fields": c.SCORE_RATIONALE})
        ).json()
        assert v2["fields"][c.SCORE_RATIONALE] == "RICE 11"

    async def test_notification_is_recorded(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Edits notify by default, not with notifyUsers=false, and not when nothing changes."""
        await put(client, {"fields": {c.RICE_SCORE: 1}})
        await put(client, {"fields": {c.RICE_SCORE: 2}}, notifyUsers="false")
        await put(client, {"fields": {c.RICE_SCORE: 2}})
        assert [e.notified for e in sandbox.issue("WEB-5").edits] == [True, False, False]
        assert sandbox.issue("WEB-5").notified_edits == 1


class TestRejectedEdits:
    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            (
                {"fields": {"customfield_99999": 1}},
                {"customfield_99999": CANNOT_SET.format("customfield_99999")},
            ),
            ({"fields": {"status": {"name": "Done"}}}, {"status": CANNOT_SET.format("status")}),
            (
                {"fields": {c.IMPACT: {"value": "Huge"}}},
                {c.IMPACT: "Option value 'Huge' is not valid"},
            ),
            ({"fields": {c.IMPACT: {"id": "1"}}}, {c.IMPACT: "Option id '1' is not valid"}),
            ({"fields": {c.REACH: "500"}}, {c.REACH: "Operation value must be a number"}),
            ({"fields": {c.TEAM_TEXT: 5}}, {c.TEAM_TEXT: "Operation value must be a string"}),
            (
                {"fields": {"priority": {"name": "Urgent"}}},
                {"priority": "Priority name 'Urgent' is not valid"},
            ),
            (
                {"fields": {"priority": {"id": "9"}}},
                {"priority": "The priority selected is invalid."},
            ),
            (
                {"update": {"labels": [{"add": "roadmap now"}]}},
                {"labels": "The label 'roadmap now' contains spaces which is invalid."},
            ),
            ({"fields": {"labels": "one"}}, {"labels": "data was not an array"}),
            (
                {"fields": {c.SCORE_RATIONALE: "plain"}},
                {
                    c.SCORE_RATIONALE: "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                },
            ),
            (
                {"update": {c.REACH: [{"add": 1}]}},
                {c.REACH: f"Field '{c.REACH}' does not support operation 'add'"},
            ),
        ],
    )
    async def test_400_with_field_errors(
        self,
        client: httpx.AsyncClient,
        sandbox: JiraSandbox,
        body: dict[str, object],
        errors: dict[str, str],
    ) -> None:
        """Each invalid edit is a 400 naming the field, and nothing changes."""
        before = sandbox.issue("WEB-5")
        response = await put(client, body)
        assert response.status_code == 400
        assert response.json() == {"errorMessages": [], "errors": errors}
        assert sandbox.issue("WEB-5").fields == before.fields

    async def test_field_in_fields_and_update(self, client: httpx.AsyncClient) -> None:
        """A field in both fields and update is refused with Jira's message."""
        response = await put(
            client, {"fields": {"labels": ["a"]}, "update": {"labels": [{"add": "b"}]}}
        )
        assert response.status_code == 400
        assert response.json()["errorMessages"] == [
            "Field 'labels' cannot appear in both 'fields' and 'update'"
        ]

    async def test_one_bad_field_rejects_the_whole_edit(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """A valid field next to an invalid one is not written either."""
        before = sandbox.issue("WEB-5").fields[c.RICE_SCORE]
        response = await put(client, {"fields": {c.RICE_SCORE: 999, c.EFFORT: "big"}})
        assert response.status_code == 400
        assert sandbox.issue("WEB-5").fields[c.RICE_SCORE] == before

    async def test_unknown_issue_is_404(self, client: httpx.AsyncClient) -> None:
        """Editing or reading an issue that does not exist is a 404 with Jira's message."""
        edit = await put(client, {"fields": {c.RICE_SCORE: 1}}, key="WEB-4040")
        read = await client.get("/rest/api/3/issue/WEB-4040")
        message = ["Issue does not exist or you do not have permission to see it."]
        assert (edit.status_code, read.status_code) == (404, 404)
        assert edit.json()["errorMessages"] == read.json()["errorMessages"] == message

    async def test_missing_body_is_400(self, client: httpx.AsyncClient) -> None:
        """A PUT without a body is a 400."""
        response = await client.put("/rest/api/3/issue/WEB-5")
        assert response.status_code == 400
        assert response.json()["errorMessages"]

    async def test_notify_false_without_project_admin_is_403(self) -> None:
        """notifyUsers=false from a non-admin rejects the whole edit with Jira's 403 message."""
        sandbox = JiraSandbox.seeded(issues=10, project_admin=False)
        async with asgi_client(sandbox) as client:
            refused = await put(client, {"fields": {c.RICE_SCORE: 5}}, notifyUsers="false")
            allowed = await put(client, {"fields": {c.RICE_SCORE: 5}})
        assert refused.status_code == 403
        assert refused.json() == {"errorMessages": [NOTIFY_FORBIDDEN], "errors": {}}
        assert allowed.status_code == 204
        assert [e.notified for e in sandbox.issue("WEB-5").edits] == [True]


class TestAuth:
    @pytest.mark.parametrize(
        "auth", [("demo@example.com", "wrong"), ("other@example.com", "sandbox-token"), None]
    )
    async def test_bad_or_missing_credentials_are_401(
        self, sandbox: JiraSandbox, auth: tuple[str, str] | None
    ) -> None:
        """Wrong email, wrong token or no credentials get 401 on API calls."""
        async with asgi_client(sandbox, auth=auth, signed_in=auth is not None) as client:
            response = await client.get("/rest/api/3/myself")
        assert response.status_code == 401
        assert response.json()["errorMessages"]

    async def test_dc_takes_a_bearer_pat_and_refuses_basic(self) -> None:
        """In DC mode the PAT works as a bearer token; basic auth does not."""
        sandbox = JiraSandbox.seeded(issues=10, dc=True, pat="my-pat")
        async with asgi_client(
            sandbox, auth=None, headers={"Authorization": "Bearer my-pat"}
        ) as client:
            ok = await client.get("/rest/api/2/myself")
            v3 = await client.get("/rest/api/3/myself")
            info = await client.get("/rest/api/2/serverInfo")
        async with asgi_client(sandbox, auth=("demo@example.com", "sandbox-token")) as client:
            basic = await client.get("/rest/api/2/myself")
        assert (ok.status_code, v3.status_code, basic.status_code) == (200, 404, 401)
        assert info.json()["deploymentType"] == "Server"
