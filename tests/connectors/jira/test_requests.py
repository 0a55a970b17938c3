"""Request shapes the Jira connector sends, checked with a respx router as the transport."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
import respx

from connectors.jira.connector import GATEWAY
from priosync.domain import Change, Outputs, WorkItem
from priosync.errors import AuthFailed, ChangeRejected, TrackerUnavailable

from .conftest import EMAIL, PAT, SITE, TOKEN, make_connector, make_source

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
FIELD_LIST = [
    {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
    {
        "id": "labels",
        "name": "Labels",
        "schema": {"type": "array", "items": "string", "system": "labels"},
    },
    {"id": "priority", "name": "Priority", "schema": {"type": "priority", "system": "priority"}},
    {
        "id": "customfield_10050",
        "name": "Reach",
        "custom": True,
        "schema": {"type": "number", "custom": f"{CF}float"},
    },
    {
        "id": "customfield_10051",
        "name": "Impact",
        "custom": True,
        "schema": {"type": "option", "custom": f"{CF}select"},
    },
    {
        "id": "customfield_10052",
        "name": "Confidence",
        "custom": True,
        "schema": {"type": "option", "custom": f"{CF}select"},
    },
    {
        "id": "customfield_10053",
        "name": "Effort",
        "custom": True,
        "schema": {"type": "number", "custom": f"{CF}float"},
    },
    {
        "id": "customfield_10059",
        "name": "RICE score",
        "custom": True,
        "schema": {"type": "number", "custom": f"{CF}float"},
    },
    {
        "id": "customfield_10060",
        "name": "Score rationale",
        "custom": True,
        "schema": {"type": "string", "custom": f"{CF}textarea"},
    },
    {
        "id": "customfield_10061",
        "name": "Backlog rank",
        "custom": True,
        "schema": {"type": "number", "custom": f"{CF}float"},
    },
]
WANTED = [
    "summary",
    "labels",
    "updated",
    "assignee",
    "customfield_10050",
    "customfield_10051",
    "customfield_10052",
    "customfield_10053",
    "customfield_10059",
    "priority",
    "customfield_10060",
    "customfield_10061",
]


def issue(n: int) -> dict[str, Any]:
    return {
        "id": str(10000 + n),
        "key": f"WEB-{n}",
        "fields": {"summary": f"Issue {n}", "labels": ["human"], "customfield_10050": n},
    }


def router_for(base: str, *, deployment: str = "Cloud") -> respx.MockRouter:
    router = respx.MockRouter(base_url=base, assert_all_called=False)
    router.get("/rest/api/2/serverInfo").respond(
        200, json={"deploymentType": deployment, "baseUrl": SITE, "version": "1001.0.0"}
    )
    router.get(url__regex=r"/rest/api/[23]/field$").respond(200, json=FIELD_LIST)
    return router


def body(call: Any) -> Any:
    return json.loads(call.request.content)


class TestCloudSearch:
    async def test_sequential_search_follows_tokens_with_short_pages(self) -> None:
        """The search strategy POSTs jql, only the needed fields and each page's token."""
        router = router_for(SITE)
        search = router.post("/rest/api/3/search/jql").mock(
            side_effect=[
                httpx.Response(200, json={"issues": [issue(1), issue(2)], "nextPageToken": "p2"}),
                httpx.Response(
                    200, json={"issues": [issue(3)], "nextPageToken": "p3", "isLast": False}
                ),
                httpx.Response(200, json={"issues": [issue(4)], "isLast": True}),
            ]
        )
        connector = make_connector(
            httpx.MockTransport(router.async_handler), read_strategy="search"
        )
        items = await connector.read()
        assert [i.key for i in items] == ["WEB-1", "WEB-2", "WEB-3", "WEB-4"]
        sent = [body(c) for c in search.calls]
        assert sent[0] == {"jql": "project = WEB", "fields": WANTED, "maxResults": 100}
        assert [s.get("nextPageToken") for s in sent] == [None, "p2", "p3"]
        basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        assert search.calls[0].request.headers["authorization"] == f"Basic {basic}"
        assert search.calls[0].request.headers["accept"] == "application/json"

    async def test_ids_first_then_bulkfetch(self) -> None:
        """The default asks the search for ids only, then bulk-fetches 100 ids a call in order."""
        router = router_for(SITE)
        ids = [{"id": str(10000 + n)} for n in range(250, 0, -1)]
        search = router.post("/rest/api/3/search/jql").respond(
            200, json={"issues": ids, "isLast": True}
        )

        def fetch(request: httpx.Request) -> httpx.Response:
            wanted = json.loads(request.content)["issueIdsOrKeys"]
            found = sorted((issue(int(i) - 10000) for i in wanted), key=lambda i: int(i["id"]))
            return httpx.Response(200, json={"issues": found, "issueErrors": []})

        bulk = router.post("/rest/api/3/issue/bulkfetch").mock(side_effect=fetch)
        connector = make_connector(httpx.MockTransport(router.async_handler))
        items = await connector.read()
        assert body(search.calls[0]) == {
            "jql": "project = WEB",
            "fields": ["id"],
            "maxResults": 5000,
        }
        assert bulk.call_count == 3
        chunks = [body(c) for c in bulk.calls]
        assert sorted(len(c["issueIdsOrKeys"]) for c in chunks) == [50, 100, 100]
        assert all(c["fields"] == WANTED for c in chunks)
        assert [i.key for i in items] == [f"WEB-{n}" for n in range(250, 0, -1)]

    def test_auto_strategy_is_refused_naming_bulkfetch(self) -> None:
        """The removed "auto" read strategy fails at construction, naming what it meant."""
        with pytest.raises(ValueError, match="'bulkfetch' \\(the default; 'auto' was another name"):
            make_connector(None, read_strategy="auto")

    async def test_fields_are_discovered_once(self) -> None:
        """Two reads fetch serverInfo and /field once."""
        router = router_for(SITE)
        router.post("/rest/api/3/search/jql").respond(200, json={"issues": [], "isLast": True})
        connector = make_connector(httpx.MockTransport(router.async_handler))
        await connector.read()
        await connector.read()
        fields_route = router.routes[1]
        assert fields_route.call_count == 1
        assert router.routes[0].call_count == 1

    async def test_failed_page_fails_the_read(self) -> None:
        """A bulk fetch that keeps failing fails the whole read; no partial backlog."""
        router = router_for(SITE)
        router.post("/rest/api/3/search/jql").respond(
            200, json={"issues": [{"id": str(i)} for i in range(150)], "isLast": True}
        )
        router.post("/rest/api/3/issue/bulkfetch").mock(
            side_effect=[
                httpx.Response(200, json={"issues": []}),
                httpx.Response(500),
                httpx.Response(500),
            ]
        )
        connector = make_connector(httpx.MockTransport(router.async_handler))
        with pytest.raises(TrackerUnavailable):
            await connector.read()

    async def test_scoped_token_goes_through_gateway(self) -> None:
        """With cloud_id, requests go to api.atlassian.com and browse URLs use serverInfo's site."""
        base = f"{GATEWAY}/abc-123"
        router = router_for(base)
        router.post("/rest/api/3/search/jql").respond(
            200, json={"issues": [{"id": "10001"}], "isLast": True}
        )
        router.post("/rest/api/3/issue/bulkfetch").respond(200, json={"issues": [issue(1)]})
        source = make_source(url=None, cloud_id="abc-123")
        connector = make_connector(httpx.MockTransport(router.async_handler), source=source)
        items = await connector.read()
        assert items[0].url == f"{SITE}/browse/WEB-1"
        assert all(str(c.request.url).startswith(base) for c in router.calls)


class TestDataCenterSearch:
    async def test_pages_by_start_at_with_capped_max_results(self) -> None:
        """DC reads the page size back (capped to 2) and fetches the other offsets."""
        router = router_for(SITE, deployment="Server")

        def page(request: httpx.Request) -> httpx.Response:
            start = json.loads(request.content)["startAt"]
            found = [issue(n) for n in range(start + 1, min(start + 2, 5) + 1)]
            return httpx.Response(
                200, json={"startAt": start, "maxResults": 2, "total": 5, "issues": found}
            )

        search = router.post("/rest/api/2/search").mock(side_effect=page)
        connector = make_connector(httpx.MockTransport(router.async_handler), dc=True)
        items = await connector.read()
        assert [i.key for i in items] == [f"WEB-{n}" for n in range(1, 6)]
        sent = [body(c) for c in search.calls]
        assert sent[0] == {
            "jql": "project = WEB",
            "startAt": 0,
            "maxResults": 1000,
            "fields": WANTED,
        }
        assert sorted(s["startAt"] for s in sent) == [0, 2, 4]
        assert search.calls[0].request.headers["authorization"] == f"Bearer {PAT}"


def change(key: str, handle: str, **after: Any) -> Change:
    item = WorkItem(key=key, title="t", url="u", source="web", inputs={}, handle=handle)
    before = Outputs(score=1.0, priority="Low", labels=frozenset({"roadmap:later"}))
    return Change(
        key=key,
        source="web",
        url="u",
        before=before,
        after=Outputs(**{"labels": frozenset({"roadmap:now"}), **after}),
        reason="RICE 1 = 1",
        item=item,
    )


class TestWrites:
    async def test_edit_payload_and_query(self) -> None:
        """One PUT by issue id with notifyUsers=false, fields, label verbs and historyMetadata."""
        router = router_for(SITE)
        put = router.put("/rest/api/3/issue/10007").respond(204)
        connector = make_connector(httpx.MockTransport(router.async_handler))
        results = [
            r async for r in connector.apply([change("WEB-7", "10007", score=2.5, priority="High")])
        ]
        assert [r.ok for r in results] == [True]
        request = put.calls.last.request
        assert request.url.params["notifyUsers"] == "false"
        assert json.loads(request.content) == {
            "fields": {"customfield_10059": 2.5, "priority": {"name": "High"}},
            "update": {"labels": [{"add": "roadmap:now"}, {"remove": "roadmap:later"}]},
            "historyMetadata": {
                "type": "priosync:score-sync",
                "description": "RICE 1 = 1",
                "generator": {"id": "priosync", "type": "application"},
            },
        }

    async def test_notify_true_sends_no_flag(self) -> None:
        """With notify = true, the edit leaves notifyUsers at Jira's default."""
        router = router_for(SITE)
        put = router.put("/rest/api/3/issue/10007").respond(204)
        connector = make_connector(
            httpx.MockTransport(router.async_handler), source=make_source(notify=True)
        )
        [r async for r in connector.apply([change("WEB-7", "10007", score=2.0)])]
        assert "notifyUsers" not in put.calls.last.request.url.params

    async def test_400_fails_one_item_and_the_rest_go_on(self) -> None:
        """A refused edit yields Jira's message for that item; the others land."""
        router = router_for(SITE)
        router.put("/rest/api/3/issue/10001").respond(
            400,
            json={
                "errorMessages": [],
                "errors": {"customfield_10059": "Operation value must be a number."},
            },
        )
        router.put("/rest/api/3/issue/10002").respond(204)
        connector = make_connector(httpx.MockTransport(router.async_handler))
        results = [
            r
            async for r in connector.apply(
                [change("WEB-1", "10001", score=1.5), change("WEB-2", "10002", score=3.0)]
            )
        ]
        by_key = {r.change.key: r for r in results}
        assert by_key["WEB-2"].ok
        error = by_key["WEB-1"].error
        assert isinstance(error, ChangeRejected)
        assert "must be a number" in str(error)

    async def test_notify_refusal_stops_with_both_fixes(self) -> None:
        """The 403 notifyUsers refusal raises AuthFailed naming both fixes after one PUT."""
        router = router_for(SITE)
        put = router.put(url__regex=r"/rest/api/3/issue/\d+").respond(
            403,
            json={
                "errorMessages": [
                    "To discard the user notification either admin or project admin permissions are required."
                ],
                "errors": {},
            },
        )
        connector = make_connector(httpx.MockTransport(router.async_handler))
        with pytest.raises(AuthFailed) as caught:
            [
                r
                async for r in connector.apply(
                    [change(f"WEB-{n}", str(10000 + n), score=2.0) for n in range(5)]
                )
            ]
        assert "Administer Projects" in str(caught.value)
        assert "notify = true" in str(caught.value)
        assert put.call_count == 1  # the first edit goes alone; the others were never sent

    async def test_the_first_edit_goes_alone_only_until_one_lands(self) -> None:
        """A fresh connector sends one edit and waits for it; once an edit landed, the next
        chunk's edits start together (a service's connector lives across many chunks)."""
        router = router_for(SITE)
        started_before_first_done: list[int] = []
        state = {"started": 0}

        async def edit(request: httpx.Request) -> httpx.Response:
            state["started"] += 1
            if state["started"] == 1:  # the chunk's first edit: see who else starts meanwhile
                await asyncio.sleep(0.02)
                started_before_first_done.append(state["started"])
            return httpx.Response(204)

        router.put(url__regex=r"/rest/api/3/issue/\d+").mock(side_effect=edit)
        connector = make_connector(httpx.MockTransport(router.async_handler))
        for _ in range(2):
            state["started"] = 0
            changes = [change(f"WEB-{n}", str(10000 + n), score=2.0) for n in range(6)]
            results = [r async for r in connector.apply(changes)]
            assert all(r.ok for r in results)
        # the first chunk: its first edit alone; the second: all six in flight at once
        assert started_before_first_done == [1, 6]

    async def test_401_is_not_retried(self) -> None:
        """Refused credentials are sent once and stop the writes."""
        router = router_for(SITE)
        put = router.put("/rest/api/3/issue/10001").respond(
            401, json={"errorMessages": ["Unauthorized"]}
        )
        connector = make_connector(httpx.MockTransport(router.async_handler))
        with pytest.raises(AuthFailed):
            [r async for r in connector.apply([change("WEB-1", "10001", score=2.0)])]
        assert put.call_count == 1
