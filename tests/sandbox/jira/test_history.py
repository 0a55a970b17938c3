"""The sandbox keeps Jira's changelog: edits that changed something, served in the vendors' shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from sandbox.jira import JiraSandbox
from sandbox.jira.testing import asgi_client

REACH = "customfield_10050"
JAN = datetime(2025, 1, 6, 9, tzinfo=UTC)
MAR = datetime(2025, 3, 6, 9, tzinfo=UTC)


def site(*, dc: bool = False) -> JiraSandbox:
    sandbox = JiraSandbox.seeded(issues=5, seed=3, dc=dc)
    sandbox.now = lambda: JAN
    sandbox.human_edit("WEB-1", fields={REACH: 1234})
    sandbox.human_edit("WEB-1", fields={REACH: 1234})  # changes nothing: no history entry
    sandbox.now = lambda: MAR
    sandbox.human_edit("WEB-1", fields={"summary": "Renamed"})
    return sandbox


class TestRecording:
    def test_only_edits_that_change_something_are_history(self) -> None:
        """Two of the three edits changed a value; they are the issue's changelog, oldest first."""
        histories = site().histories("WEB-1")
        assert [h.at for h in histories] == [JAN, MAR]
        assert [[c.field_id for c in h.changes] for h in histories] == [[REACH], ["summary"]]
        assert len({h.history_id for h in histories}) == 2

    def test_history_survives_save_and_load(self, tmp_path: Path) -> None:
        """A saved site keeps its changelog (the `priosync sandbox jira` state file)."""
        path = tmp_path / "jira.json"
        site().save(path)
        loaded = JiraSandbox.load(path)
        assert [h.at for h in loaded.histories("WEB-1")] == [JAN, MAR]
        loaded.human_edit("WEB-2", fields={REACH: 7})
        ids = [h.history_id for k in ("WEB-1", "WEB-2") for h in loaded.histories(k)]
        assert len(set(ids)) == 3


class TestServing:
    async def test_cloud_bulk_fetch_filters_by_field(self) -> None:
        """Filtered to Reach, WEB-1 has one changelog; with no filter, both; WEB-2 none."""
        async with asgi_client(site()) as client:
            url = "/rest/api/3/changelog/bulkfetch"
            filtered = await client.post(
                url, json={"issueIdsOrKeys": ["WEB-1", "WEB-2"], "fieldIds": [REACH]}
            )
            everything = await client.post(url, json={"issueIdsOrKeys": ["WEB-1"]})
        logs = filtered.json()["issueChangeLogs"]
        assert [(log["issueId"], len(log["changeHistories"])) for log in logs] == [("10001", 1)]
        change = logs[0]["changeHistories"][0]
        assert change["created"] == "2025-01-06T09:00:00.000+00:00"
        assert change["author"]["displayName"] == "Pat Manager"
        assert len(everything.json()["issueChangeLogs"][0]["changeHistories"]) == 2

    async def test_cloud_bulk_fetch_refuses_what_the_spec_refuses(self) -> None:
        """No issues, 1,001 issues, 11 field ids or an unknown key answer 400."""
        async with asgi_client(site()) as client:
            url = "/rest/api/3/changelog/bulkfetch"
            bodies = [
                {"issueIdsOrKeys": []},
                {"issueIdsOrKeys": [str(i) for i in range(1001)]},
                {"issueIdsOrKeys": ["WEB-1"], "fieldIds": [f"f{i}" for i in range(11)]},
                {"issueIdsOrKeys": ["WEB-1"], "expand": "changelog"},
            ]
            answers = [await client.post(url, json=b) for b in bodies]
        assert [a.status_code for a in answers] == [400, 400, 400, 400]

    async def test_dc_search_and_issue_expand_the_changelog(self) -> None:
        """Data Center's search and issue GET carry ``changelog`` with every history, whose
        items name the field but carry no fieldId."""
        async with asgi_client(site(dc=True)) as client:
            searched = await client.post(
                "/rest/api/2/search",
                json={"jql": "key in (WEB-1)", "fields": ["created"], "expand": ["changelog"]},
            )
            got = await client.get(
                "/rest/api/2/issue/WEB-1", params={"fields": "created", "expand": "changelog"}
            )
            plain = await client.get("/rest/api/2/issue/WEB-1", params={"fields": "created"})
        changelog = searched.json()["issues"][0]["changelog"]
        assert (changelog["startAt"], changelog["total"], len(changelog["histories"])) == (0, 2, 2)
        assert got.json()["changelog"] == changelog
        item = changelog["histories"][0]["items"][0]
        assert item["field"] == "Reach"
        assert "fieldId" not in item
        assert changelog["histories"][0]["author"]["name"] == "pm"
        assert "changelog" not in plain.json()

    async def test_bulk_fetch_is_cloud_only(self) -> None:
        """Data Center has no changelog bulk fetch."""
        async with asgi_client(site(dc=True)) as client:
            answer = await client.post(
                "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["WEB-1"]}
            )
        assert answer.status_code == 404
        assert isinstance(answer, httpx.Response)
