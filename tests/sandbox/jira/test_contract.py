"""Sandbox responses validated against Atlassian's official OpenAPI description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30ReadValidator

from sandbox.jira import JiraSandbox

#: The vendors' API descriptions, vendored with their sources: tests/contracts/README.md.
CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
SPEC_HOST = "https://your-domain.atlassian.net"


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(json.loads((CONTRACTS / "jira-cloud-v3-subset.json").read_text()))


def check(openapi: OpenAPI, response: httpx.Response, *, path_pattern: str | None = None) -> None:
    """Validate one sandbox response against the contract's operation for its request."""
    request = response.request
    args: dict[str, Any] = dict(request.url.params)
    mock_request = MockRequest(
        SPEC_HOST,
        request.method.lower(),
        request.url.path,
        path_pattern=path_pattern,
        args=args,
        data=request.content or None,
    )
    content_type = response.headers.get("content-type", "application/json").split(";")[0]
    mock_response = MockResponse(
        response.content, status_code=response.status_code, content_type=content_type
    )
    openapi.validate_response(mock_request, mock_response)


def one_side_link() -> OAS30ReadValidator:
    """The contract's ``IssueLink`` as an issue's own ``issuelinks`` entry has it: the
    issue-linking model names only the other issue, so one of the two sides is required."""
    spec = json.loads((CONTRACTS / "jira-cloud-v3-subset.json").read_text())
    schemas = spec["components"]["schemas"]

    def inline(node: Any, seen: frozenset[str] = frozenset()) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                return {} if name in seen else inline(schemas[name], seen | {name})
            return {k: inline(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        return node

    schema = inline(schemas["IssueLink"])
    schema["required"] = ["type"]
    schema["oneOf"] = [{"required": ["inwardIssue"]}, {"required": ["outwardIssue"]}]
    return OAS30ReadValidator(schema)


class TestContract:
    async def test_search_jql_get_and_post(
        self, openapi: OpenAPI, client: httpx.AsyncClient
    ) -> None:
        """Enhanced search pages (GET and POST, ids only and with fields) match SearchAndReconcileResults."""
        get = await client.get(
            "/rest/api/3/search/jql",
            params={
                "jql": "project = WEB",
                "maxResults": 5,
                "fields": "summary,labels,customfield_10051",
                "expand": "names,schema",
            },
        )
        post = await client.post(
            "/rest/api/3/search/jql", json={"jql": "project = WEB", "maxResults": 100}
        )
        assert get.status_code == post.status_code == 200
        assert get.json()["nextPageToken"]
        check(openapi, get)
        check(openapi, post)

    async def test_fields(self, openapi: OpenAPI, client: httpx.AsyncClient) -> None:
        """GET /field matches FieldDetails[] and includes two custom fields named Team."""
        response = await client.get("/rest/api/3/field")
        check(openapi, response)
        assert [f["name"] for f in response.json()].count("Team") == 2

    async def test_issue_get_and_edit(self, openapi: OpenAPI, client: httpx.AsyncClient) -> None:
        """GET issue (all fields) and PUT issue (204, and 200 with returnIssue) match the contract."""
        pattern = "/rest/api/3/issue/{issueIdOrKey}"
        got = await client.get("/rest/api/3/issue/WEB-3", params={"expand": "names,schema"})
        check(openapi, got, path_pattern=pattern)
        edit = await client.put(
            "/rest/api/3/issue/WEB-3", json={"fields": {"customfield_10059": 12.5}}
        )
        assert edit.status_code == 204
        returned = await client.put(
            "/rest/api/3/issue/WEB-3",
            params={"returnIssue": "true"},
            json={"fields": {"customfield_10059": 13}},
        )
        assert returned.status_code == 200
        check(openapi, returned, path_pattern=pattern)

    async def test_priorities(self, openapi: OpenAPI, client: httpx.AsyncClient) -> None:
        """Both priority endpoints match Priority[] and PageBeanPriority."""
        listed = await client.get("/rest/api/3/priority")
        page = await client.get("/rest/api/3/priority/search", params={"maxResults": "2"})
        check(openapi, listed)
        check(openapi, page)
        assert [p["id"] for p in listed.json()] == ["1", "2", "3", "4", "5"]
        assert page.json()["isLast"] is False

    async def test_site_endpoints(self, openapi: OpenAPI, client: httpx.AsyncClient) -> None:
        """myself, serverInfo and mypermissions match User, ServerInformation and Permissions."""
        for response in (
            await client.get("/rest/api/3/myself"),
            await client.get("/rest/api/3/serverInfo"),
            await client.get(
                "/rest/api/3/mypermissions",
                params={"permissions": "EDIT_ISSUES,ADMINISTER_PROJECTS"},
            ),
        ):
            assert response.status_code == 200
            check(openapi, response)

    async def test_bulkfetch_count_and_editmeta(
        self, openapi: OpenAPI, client: httpx.AsyncClient
    ) -> None:
        """bulkfetch (with an unknown key), approximate-count and editmeta match the contract."""
        fetched = await client.post(
            "/rest/api/3/issue/bulkfetch",
            json={"issueIdsOrKeys": ["WEB-2", "10001", "WEB-999"], "fields": ["summary", "labels"]},
        )
        check(openapi, fetched)
        assert [i["key"] for i in fetched.json()["issues"]] == ["WEB-1", "WEB-2"]
        assert fetched.json()["issueErrors"][0]["id"] == "WEB-999"
        counted = await client.post(
            "/rest/api/3/search/approximate-count", json={"jql": "project = WEB"}
        )
        check(openapi, counted)
        assert counted.json() == {"count": 40}
        meta = await client.get("/rest/api/3/issue/WEB-1/editmeta")
        check(openapi, meta, path_pattern="/rest/api/3/issue/{issueIdOrKey}/editmeta")

    async def test_issue_links(self, openapi: OpenAPI, sandbox: JiraSandbox) -> None:
        """An issue's issuelinks entries are IssueLinks holding the other issue only (blocks:
        outwardIssue, is blocked by: inwardIssue); GET issueLink matches the contract."""
        from sandbox.jira.testing import asgi_client

        link_id = sandbox.link("WEB-3", "WEB-12")
        async with asgi_client(sandbox) as client:
            blocker = await client.get("/rest/api/3/issue/WEB-3", params={"fields": "issuelinks"})
            blocked = await client.get("/rest/api/3/issue/WEB-12", params={"fields": "issuelinks"})
            link = await client.get(f"/rest/api/3/issueLink/{link_id}")
        check(openapi, blocker, path_pattern="/rest/api/3/issue/{issueIdOrKey}")
        check(openapi, link, path_pattern="/rest/api/3/issueLink/{linkId}")
        (out,) = blocker.json()["fields"]["issuelinks"]
        (into,) = blocked.json()["fields"]["issuelinks"]
        for entry in (out, into):
            one_side_link().validate(entry)
        assert out["outwardIssue"]["key"] == "WEB-12"
        assert "inwardIssue" not in out
        assert into["inwardIssue"]["key"] == "WEB-3"
        assert into["inwardIssue"]["fields"]["status"]["statusCategory"]["key"] in {
            "new",
            "indeterminate",
            "done",
        }
        assert (link.json()["inwardIssue"]["key"], link.json()["outwardIssue"]["key"]) == (
            "WEB-3",
            "WEB-12",
        )

    async def test_error_bodies(self, openapi: OpenAPI, sandbox: JiraSandbox) -> None:
        """A 404 issue, a 400 edit and a 403 edit carry the ErrorCollection shape the contract names."""
        from sandbox.jira.testing import asgi_client

        sandbox.account.project_admin = False
        async with asgi_client(sandbox) as client:
            missing = await client.get("/rest/api/3/issue/WEB-999")
            rejected = await client.put("/rest/api/3/issue/WEB-1", json={"fields": {"nope": 1}})
            forbidden = await client.put(
                "/rest/api/3/issue/WEB-1", params={"notifyUsers": "false"}, json={"fields": {}}
            )
        schema = json.loads((CONTRACTS / "jira-cloud-v3-subset.json").read_text())["components"][
            "schemas"
        ]
        allowed = set(schema["ErrorCollection"]["properties"])
        for response, status in ((missing, 404), (rejected, 400), (forbidden, 403)):
            assert response.status_code == status
            assert set(response.json()) <= allowed
            assert set(response.json()) == {"errorMessages", "errors"}


class TestAdministrationContract:
    async def test_field_context_option_and_screen_answers_match(self, openapi: OpenAPI) -> None:
        """POST /field, contexts, options and addToDefault answer as Atlassian documents."""
        from sandbox.jira.testing import asgi_client

        cf = "com.atlassian.jira.plugin.system.customfieldtypes:"
        sandbox = JiraSandbox.seeded(issues=10, seed=7, bare=True)
        async with asgi_client(sandbox) as client:
            created = await client.post(
                "/rest/api/3/field",
                json={
                    "name": "Tier",
                    "type": cf + "select",
                    "searcherKey": cf + "multiselectsearcher",
                },
            )
            field = created.json()["id"]
            contexts = await client.get(f"/rest/api/3/field/{field}/context")
            context = contexts.json()["values"][0]["id"]
            made = await client.post(
                f"/rest/api/3/field/{field}/context",
                json={"name": "Second", "projectIds": [], "issueTypeIds": []},
            )
            base = f"/rest/api/3/field/{field}/context/{context}/option"
            options = await client.post(base, json={"options": [{"value": "High"}]})
            listed = await client.get(base)
            screen = await client.post(f"/rest/api/3/screens/addToDefault/{field}")
        assert [r.status_code for r in (created, contexts, made, options, listed, screen)] == [
            201,
            200,
            201,
            200,
            200,
            200,
        ]
        check(openapi, created, path_pattern="/rest/api/3/field")
        check(openapi, contexts, path_pattern="/rest/api/3/field/{fieldId}/context")
        check(openapi, made, path_pattern="/rest/api/3/field/{fieldId}/context")
        option_path = "/rest/api/3/field/{fieldId}/context/{contextId}/option"
        check(openapi, options, path_pattern=option_path)
        check(openapi, listed, path_pattern=option_path)
        check(openapi, screen, path_pattern="/rest/api/3/screens/addToDefault/{fieldId}")


class TestChangelogContract:
    async def test_changelog_bulkfetch_pages_match_the_contract(
        self, openapi: OpenAPI, sandbox: JiraSandbox, client: httpx.AsyncClient
    ) -> None:
        """Changelog bulk fetch pages (filtered to a field, one changelog a page) match
        BulkChangelogResponseBean, and the last page has no nextPageToken."""
        sandbox.human_edit("WEB-1", fields={"customfield_10050": 1234})
        sandbox.human_edit("WEB-2", fields={"customfield_10050": 4321, "summary": "Renamed"})
        body = {"issueIdsOrKeys": ["WEB-1", "10002"], "fieldIds": ["customfield_10050"]}
        first = await client.post("/rest/api/3/changelog/bulkfetch", json={**body, "maxResults": 1})
        check(openapi, first)
        token = first.json()["nextPageToken"]
        second = await client.post(
            "/rest/api/3/changelog/bulkfetch",
            json={**body, "maxResults": 1, "nextPageToken": token},
        )
        check(openapi, second)
        assert "nextPageToken" not in second.json()
        logs = first.json()["issueChangeLogs"] + second.json()["issueChangeLogs"]
        assert [log["issueId"] for log in logs] == ["10001", "10002"]
        items = [i for log in logs for h in log["changeHistories"] for i in h["items"]]
        assert {i["fieldId"] for i in items} == {"customfield_10050"}
