"""Search: the JQL subset, its 400s, enhanced-search paging and DC startAt paging."""

from __future__ import annotations

import httpx
import pytest

from sandbox.jira import JiraSandbox
from sandbox.jira import catalog as c
from sandbox.jira.testing import asgi_client


async def search(client: httpx.AsyncClient, jql: str, **params: str | int) -> httpx.Response:
    return await client.get("/rest/api/3/search/jql", params={"jql": jql, **params})


async def all_keys(client: httpx.AsyncClient, jql: str, **params: str | int) -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        extra: dict[str, str] = {"nextPageToken": token} if token else {}
        body = (await search(client, jql, fields="key", **params, **extra)).json()
        keys += [i["key"] for i in body["issues"]]
        if body["isLast"]:
            assert "nextPageToken" not in body
            return keys
        token = body["nextPageToken"]


class TestJql:
    async def test_status_category_and_order(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """statusCategory != Done drops done issues; ORDER BY key ASC sorts naturally."""
        keys = await all_keys(client, "project = WEB AND statusCategory != Done ORDER BY key ASC")
        expected = [i.key for i in sandbox.issues() if i.status_category != "Done"]
        assert keys == expected
        assert len(keys) < 40

    async def test_key_in_labels_priority_and_custom_fields(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """key in, labels, priority, a select by name and a number by cf[] select the right issues."""
        sandbox.human_edit(
            "WEB-3", fields={"labels": ["roadmap:now"], "priority": {"name": "Highest"}}
        )
        assert await all_keys(client, "key in (WEB-1, web-2, 10003) ORDER BY key") == [
            "WEB-1",
            "WEB-2",
            "WEB-3",
        ]
        assert "WEB-3" in await all_keys(client, "project = WEB AND labels = roadmap:now")
        assert "WEB-3" in await all_keys(client, "priority = Highest AND project = WEB")
        high = await all_keys(client, 'project = WEB AND Impact = "High"')
        assert high
        assert all(sandbox.issue(k).fields_by_name["Impact"] == "High" for k in high)
        big = await all_keys(client, "cf[10050] >= 2500")
        assert big
        assert all((sandbox.issue(k).fields[c.REACH] or 0) >= 2500 for k in big)

    async def test_labels_not_equal_skips_unlabelled_issues(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """As in Jira, labels != x never matches issues without labels."""
        keys = await all_keys(client, "project = WEB AND labels != roadmap:now")
        assert all(sandbox.issue(k).labels for k in keys)

    @pytest.mark.parametrize(
        ("jql", "message"),
        [
            (
                "order by key desc",
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
            ),
            (
                "",
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
            ),
            ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
            ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
            (
                "key in (WEB-1, WEB-9999)",
                "An issue with key 'WEB-9999' does not exist for field 'key'.",
            ),
            (
                "project = WEB AND (labels = a",
                "Error in the JQL Query: Expecting ')' before the end of the query.",
            ),
            (
                "project WEB",
                "Error in the JQL Query: Expecting operator but got 'WEB'. The valid operators are "
                "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)",
            ),
            (
                'summary ~ "open',
                'Error in the JQL Query: The quoted string "open has not been completed. '
                "(line 1, character 11)",
            ),
            (
                "assignee = currentUser()",
                "Field 'assignee' does not exist or you do not have permission to view it.",
            ),
            (
                "project = WEB AND updated > startOfDay()",
                "Unable to find JQL function 'startOfDay()'. The sandbox implements only now().",
            ),
            ("project ~ WEB", "The operator '~' is not supported by the 'project' field."),
        ],
    )
    async def test_not_understood_is_400(
        self, client: httpx.AsyncClient, jql: str, message: str
    ) -> None:
        """Anything outside the subset is a 400 with Jira's error body, never a match-all."""
        response = await search(client, jql)
        assert response.status_code == 400
        assert response.json() == {"errorMessages": [message], "errors": {}}


class TestEnhancedSearchPaging:
    async def test_default_fields_is_id_only(self, client: httpx.AsyncClient) -> None:
        """Without fields each issue carries only its id, and maxResults defaults to 50."""
        body = (await search(client, "project = WEB")).json()
        assert body["issues"][0] == {"id": body["issues"][0]["id"]}
        assert len(body["issues"]) == 40
        assert body["isLast"] is True

    async def test_paging_1000_issues(self) -> None:
        """A 1,000-issue walk: ids-only pages fill to maxResults, field pages cap at 100 and shrink with many fields."""
        sandbox = JiraSandbox.seeded(issues=1000)
        async with asgi_client(sandbox) as client:
            ids_page = (await search(client, "project = WEB", maxResults=5000)).json()
            field_page = (
                await search(client, "project = WEB", maxResults=5000, fields="summary,labels")
            ).json()
            all_page = (
                await search(client, "project = WEB", maxResults=5000, fields="*all")
            ).json()
            keys = await all_keys(client, "project = WEB", maxResults=300)
        assert len(ids_page["issues"]) == 1000
        assert ids_page["isLast"] is True
        assert len(field_page["issues"]) == 100
        assert field_page["isLast"] is False
        assert len(all_page["issues"]) == 1000 // len(c.FIELDS)
        assert len(keys) == len(set(keys)) == 1000

    async def test_post_pages_with_token(self, client: httpx.AsyncClient) -> None:
        """POST search/jql pages with nextPageToken in the body, like GET."""
        first = (
            await client.post(
                "/rest/api/3/search/jql", json={"jql": "project = WEB", "maxResults": 30}
            )
        ).json()
        second = (
            await client.post(
                "/rest/api/3/search/jql",
                json={
                    "jql": "project = WEB",
                    "maxResults": 30,
                    "nextPageToken": first["nextPageToken"],
                },
            )
        ).json()
        assert len(first["issues"]) == 30
        assert len(second["issues"]) == 10
        assert second["isLast"]

    async def test_token_from_another_query_is_400(self, client: httpx.AsyncClient) -> None:
        """A nextPageToken is bound to its query; a forged or foreign one is refused."""
        token = (await search(client, "project = WEB", maxResults=5)).json()["nextPageToken"]
        foreign = await search(client, "project = WEB AND labels = q3", nextPageToken=token)
        forged = await search(client, "project = WEB", nextPageToken="garbage")
        assert (foreign.status_code, forged.status_code) == (400, 400)

    async def test_v2_enhanced_search_renders_wiki_text(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """/rest/api/2/search/jql serves the same search with v2 text shapes."""
        sandbox.human_edit("WEB-1", fields={c.SCORE_RATIONALE: "why"})
        body = (
            await client.get(
                "/rest/api/2/search/jql", params={"jql": "key = WEB-1", "fields": c.SCORE_RATIONALE}
            )
        ).json()
        assert body["issues"][0]["fields"][c.SCORE_RATIONALE] == "why"

    async def test_old_search_is_gone_on_cloud(self, client: httpx.AsyncClient) -> None:
        """Cloud answers the removed /search with 410 Gone."""
        response = await client.get("/rest/api/3/search", params={"jql": "project = WEB"})
        assert response.status_code == 410


class TestDataCenterSearch:
    async def test_startat_paging_with_silent_cap(self) -> None:
        """DC search pages by startAt, reports total, and caps maxResults silently."""
        sandbox = JiraSandbox.seeded(issues=120, dc=True)
        sandbox.dc_max_results = 50
        async with asgi_client(
            sandbox, auth=None, headers={"Authorization": "Bearer sandbox-pat"}
        ) as client:
            first = (
                await client.get(
                    "/rest/api/2/search", params={"jql": "project = WEB", "maxResults": 500}
                )
            ).json()
            last = (
                await client.post(
                    "/rest/api/2/search",
                    json={"jql": "project = WEB", "startAt": 100, "maxResults": 500},
                )
            ).json()
            enhanced = await client.get("/rest/api/2/search/jql", params={"jql": "project = WEB"})
        assert (first["maxResults"], first["total"], len(first["issues"])) == (50, 120, 50)
        assert "summary" in first["issues"][0]["fields"]
        assert (last["startAt"], len(last["issues"])) == (100, 20)
        assert enhanced.status_code == 404
