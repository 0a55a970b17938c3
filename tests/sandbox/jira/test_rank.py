"""The sandbox Jira's Rank: ``ORDER BY Rank`` and the agile rank endpoint (docs §4.1)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest
from jira import JIRA, JIRAError

from sandbox.jira import DEFAULT_EMAIL, DEFAULT_TOKEN, JiraSandbox, create_jira_app
from sandbox.jira.testing import asgi_client
from sandbox.loopback import serve_in_thread

RANK = "/rest/agile/1.0/issue/rank"


async def search_keys(client: httpx.AsyncClient, jql: str) -> list[str]:
    response = await client.post(
        "/rest/api/3/search/jql", json={"jql": jql, "fields": ["key"], "maxResults": 5000}
    )
    assert response.status_code == 200, response.text
    return [i["key"] for i in response.json()["issues"]]


class TestOrderByRank:
    """Searches sort by the site's Rank order."""

    async def test_new_site_ranks_by_creation(self, client: httpx.AsyncClient) -> None:
        """Issues are ranked in the order they were created, as Jira ranks new issues last."""
        keys = await search_keys(client, "project = WEB ORDER BY Rank ASC")
        assert keys == [f"WEB-{n}" for n in range(1, 41)]
        assert await search_keys(client, "project = WEB ORDER BY rank DESC") == keys[::-1]

    async def test_follows_a_shuffled_rank(self, sandbox: JiraSandbox) -> None:
        """A shuffled Rank order is what ORDER BY Rank returns."""
        sandbox.ranks.shuffle(random.Random(5))
        async with asgi_client(sandbox) as client:
            keys = await search_keys(client, "project = WEB ORDER BY Rank ASC")
        assert keys == sandbox.rank_order()


class TestRankEndpoint:
    """PUT /rest/agile/1.0/issue/rank as the reference describes it."""

    async def test_places_issues_in_the_order_given_after_the_anchor(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """204; the issues land right after rankAfterIssue, in the order given."""
        response = await client.put(
            RANK, json={"issues": ["WEB-9", "WEB-3", "WEB-30"], "rankAfterIssue": "WEB-1"}
        )
        assert response.status_code == 204
        assert sandbox.rank_order()[:5] == ["WEB-1", "WEB-9", "WEB-3", "WEB-30", "WEB-2"]

    async def test_places_issues_before_the_anchor_by_id(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Ids work as keys do; rankBeforeIssue puts the issues right before the anchor."""
        first = sandbox.issue("WEB-1").id
        moving = [sandbox.issue("WEB-40").id, "WEB-20"]
        response = await client.put(RANK, json={"issues": moving, "rankBeforeIssue": first})
        assert response.status_code == 204
        assert sandbox.rank_order()[:3] == ["WEB-40", "WEB-20", "WEB-1"]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"issues": [f"WEB-{n}" for n in range(2, 41)] * 2, "rankAfterIssue": "WEB-1"}, "50"),
            ({"issues": ["WEB-2"]}, "exactly one"),
            ({"issues": ["WEB-2"], "rankAfterIssue": "WEB-1", "rankBeforeIssue": "WEB-3"}, "one"),
            ({"issues": [], "rankAfterIssue": "WEB-1"}, "non-empty"),
            ({"issues": ["WEB-2"], "rankAfterIssue": "WEB-999"}, "WEB-999"),
            ({"issues": ["WEB-2"], "rankAfterIssue": "WEB-1", "rankCustomFieldId": 10061}, "rank"),
        ],
    )
    async def test_refuses_a_malformed_request_whole(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox, body: object, message: str
    ) -> None:
        """Over 50 issues, no or two anchors, an unknown anchor: 400, nothing moves."""
        before = sandbox.rank_order()
        response = await client.put(RANK, json=body)
        assert response.status_code == 400
        assert message in response.json()["errorMessages"][0]
        assert sandbox.rank_order() == before

    async def test_partial_failure_is_207_with_an_entry_per_issue(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """Issues that cannot move get an error entry; the others move (207)."""
        sandbox.rank_refused = {"WEB-5"}
        response = await client.put(
            RANK, json={"issues": ["WEB-5", "WEB-6", "WEB-404"], "rankAfterIssue": "WEB-10"}
        )
        assert response.status_code == 207
        entries = {e["issueKey"]: e for e in response.json()["entries"]}
        assert entries["WEB-6"]["status"] == 200
        assert entries["WEB-5"]["status"] >= 400
        assert entries["WEB-5"]["errors"]
        assert entries["WEB-404"]["status"] == 404
        order = sandbox.rank_order()
        assert order.index("WEB-6") == order.index("WEB-10") + 1
        assert order.index("WEB-5") == 4

    async def test_without_schedule_issues_is_403(
        self, client: httpx.AsyncClient, sandbox: JiraSandbox
    ) -> None:
        """An account without Schedule Issues cannot rank; mypermissions says so too."""
        sandbox.can_schedule = False
        response = await client.put(RANK, json={"issues": ["WEB-2"], "rankAfterIssue": "WEB-3"})
        assert response.status_code == 403
        held = await client.get(
            "/rest/api/3/mypermissions",
            params={"projectKey": "WEB", "permissions": "SCHEDULE_ISSUES"},
        )
        assert held.json()["permissions"]["SCHEDULE_ISSUES"]["havePermission"] is False

    async def test_served_on_data_center_too(self) -> None:
        """Data Center serves the same endpoint at the same path."""
        sandbox = JiraSandbox.seeded(issues=5, dc=True)
        async with asgi_client(sandbox) as client:
            response = await client.put(
                RANK, json={"issues": ["WEB-5"], "rankBeforeIssue": "WEB-1"}
            )
        assert response.status_code == 204
        assert sandbox.rank_order()[0] == "WEB-5"

    async def test_moved_issues_send_rank_webhooks(self) -> None:
        """Each issue that moved gets a jira:issue_updated whose changelog is the Rank field."""
        received: list[dict[str, object]] = []

        def hook(request: httpx.Request) -> httpx.Response:
            received.append(json.loads(request.content))
            return httpx.Response(200)

        sandbox = JiraSandbox.seeded(issues=10, webhook_url="http://hooks.test/jira")
        sandbox.webhook_transport = httpx.MockTransport(hook)
        async with asgi_client(sandbox) as client:
            response = await client.put(
                RANK, json={"issues": ["WEB-8", "WEB-2"], "rankAfterIssue": "WEB-1"}
            )
        assert response.status_code == 204
        # WEB-2 already followed WEB-1 … but now follows WEB-8, lower than before.
        items = {e["issue"]["key"]: e["changelog"]["items"] for e in received}  # type: ignore[index]
        assert set(items) == {"WEB-8", "WEB-2"}
        assert items["WEB-8"][0]["field"] == "Rank"
        assert items["WEB-8"][0]["toString"] == "Ranked higher"
        assert items["WEB-2"][0]["toString"] == "Ranked lower"

    def test_rank_survives_save_and_load(self, sandbox: JiraSandbox, tmp_path: Path) -> None:
        """The state file keeps the Rank order."""
        sandbox.ranks.shuffle(random.Random(2))
        path = tmp_path / "jira.json"
        sandbox.save(path)
        assert JiraSandbox.load(path).rank_order() == sandbox.rank_order()


class TestJiraLibraryRank:
    """The independent `jira` client ranks through the sandbox as through Jira."""

    def test_rank_before_and_after(self) -> None:
        """JIRA.rank(issue, next_issue=…) and (prev_issue=…) move the issue; a bad anchor
        raises JIRAError."""
        sandbox = JiraSandbox.seeded(issues=6)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            client = JIRA(url, basic_auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), max_retries=0)
            client.rank("WEB-6", next_issue="WEB-1")
            client.rank("WEB-2", prev_issue="WEB-4")
            with pytest.raises(JIRAError):
                client.rank("WEB-3", prev_issue="WEB-99")
            client.close()  # type: ignore[no-untyped-call]
        assert sandbox.rank_order() == ["WEB-6", "WEB-1", "WEB-3", "WEB-4", "WEB-2", "WEB-5"]
