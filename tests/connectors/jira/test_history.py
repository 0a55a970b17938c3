"""Reading when inputs last changed from Jira's changelog: the documented payloads, the request
shapes, and the connector against the sandbox (Cloud's bulk fetch, Data Center's expanded
changelog)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from config.secrets import BasicCredentials, BearerCredentials
from connectors.http import RetryPolicy
from connectors.jira import JiraConnector
from connectors.jira import history as h
from connectors.jira.fields import read_field_ids
from sandbox.jira import JiraSandbox, create_jira_app

from .conftest import EMAIL, INPUTS, PAT, SCALES, TOKEN, fast_sleep, make_outputs, make_source

CONTRACT = Path(__file__).parents[2] / "contracts" / "jira-cloud-v3-subset.json"
REACH, IMPACT = "customfield_10050", "customfield_10051"
WANTED = h.InputFields.of([(REACH, "Reach"), (IMPACT, "Impact")])


def documented_example() -> Any:
    """The 200 example Atlassian's OpenAPI description gives for the changelog bulk fetch."""
    spec = json.loads(CONTRACT.read_text())
    answer = spec["paths"]["/rest/api/3/changelog/bulkfetch"]["post"]["responses"]["200"]
    return json.loads(answer["content"]["application/json"]["example"])


class TestCloudPayloads:
    def test_documented_example_parses(self) -> None:
        """The published example (epoch-second ``created``, a token) gives issue 10100's latest
        change among the histories touching the wanted field."""
        wanted = h.InputFields.of([("fieldId", "fields")])
        page = h.parse_changelog_bulkfetch(documented_example(), wanted)
        assert page.latest == {"10100": datetime.fromtimestamp(1492071429, UTC)}
        assert page.next_page_token == "UxAQBFRF"

    def test_only_input_fields_count_and_the_latest_wins(self) -> None:
        """Histories changing other fields are ignored; of two input changes the later one
        counts, whatever the order on the page; the last page has a null token."""
        body = {
            "issueChangeLogs": [
                {
                    "issueId": "10001",
                    "changeHistories": [
                        {"created": "2025-03-01T10:00:00.000+0000", "items": [{"fieldId": REACH}]},
                        {"created": "2025-01-01T10:00:00.000+0000", "items": [{"fieldId": IMPACT}]},
                        {
                            "created": "2025-05-01T10:00:00.000+0000",
                            "items": [{"fieldId": "summary"}],
                        },
                    ],
                },
                {
                    "issueId": "10002",
                    "changeHistories": [
                        {"created": "2025-06-01T00:00:00Z", "items": [{"fieldId": "labels"}]}
                    ],
                },
            ],
            "nextPageToken": None,
        }
        page = h.parse_changelog_bulkfetch(body, WANTED)
        assert page.latest == {"10001": datetime(2025, 3, 1, 10, tzinfo=UTC)}
        assert page.next_page_token is None

    def test_request_shape_and_limits(self) -> None:
        """One request names at most 1,000 issues and 10 fields, asks the largest page, and
        carries the token of the page it wants."""
        request = h.build_changelog_bulkfetch_request(
            ["10001", "10002"], field_ids=[REACH, IMPACT, REACH], next_page_token="abc"
        )
        assert (request.method, request.path) == ("POST", "/rest/api/3/changelog/bulkfetch")
        assert request.json == {
            "issueIdsOrKeys": ["10001", "10002"],
            "fieldIds": [REACH, IMPACT],
            "maxResults": 10_000,
            "nextPageToken": "abc",
        }
        with pytest.raises(ValueError, match="1 to 1000 issues"):
            h.build_changelog_bulkfetch_request([str(i) for i in range(1001)], field_ids=[REACH])
        with pytest.raises(ValueError, match="1 to 10 fields"):
            h.build_changelog_bulkfetch_request(["1"], field_ids=[f"f{i}" for i in range(11)])


class TestDataCenterPayloads:
    def test_items_match_by_field_name_and_a_cut_history_is_flagged(self) -> None:
        """Data Center items name the field (no fieldId); a changelog whose total exceeds the
        histories returned is not complete."""
        changelog: dict[str, Any] = {
            "startAt": 0,
            "maxResults": 2,
            "total": 3,
            "histories": [
                {"created": "2025-01-06T09:00:00.000+0000", "items": [{"field": "Reach"}]},
                {"created": "2025-02-06T09:00:00.000+0000", "items": [{"field": "status"}]},
            ],
        }
        found = h.parse_issue_history({"key": "WEB-1", "changelog": changelog}, WANTED)
        assert found == h.IssueHistory("WEB-1", datetime(2025, 1, 6, 9, tzinfo=UTC), False)
        whole = {"key": "WEB-1", "changelog": {**changelog, "total": 2}}
        assert h.parse_issue_history(whole, WANTED).complete is True

    def test_history_search_request(self) -> None:
        """Named issues, only ``created``, the changelog expanded, as many a page as named;
        unvalidated, so a key deleted since the read cannot fail the whole search."""
        request = h.build_dc_history_request(["WEB-1", "WEB-2"], start_at=100)
        assert (request.method, request.path) == ("POST", "/rest/api/2/search")
        assert request.json == {
            "jql": 'key in ("WEB-1", "WEB-2")',
            "startAt": 100,
            "maxResults": 2,
            "fields": ["created"],
            "expand": ["changelog"],
            "validateQuery": False,
        }

    def test_change_times_in_every_shape(self) -> None:
        """Jira text, ISO 8601, epoch seconds and milliseconds; junk is no time."""
        jan = datetime(2025, 1, 6, 9, tzinfo=UTC)
        assert h.change_time("2025-01-06T09:00:00.000+0000") == jan
        assert h.change_time("2025-01-06T09:00:00Z") == jan
        assert h.change_time(jan.timestamp()) == jan
        assert h.change_time(jan.timestamp() * 1000) == jan
        assert [h.change_time(v) for v in (None, True, "soon", float("nan"))] == [None] * 4


def connector(sandbox: JiraSandbox) -> JiraConnector:
    credentials = (
        BearerCredentials(token=SecretStr(PAT))
        if sandbox.dc
        else BasicCredentials(email=EMAIL, token=SecretStr(TOKEN))
    )
    return JiraConnector.from_config(
        make_source(deployment="dc" if sandbox.dc else "cloud"),
        inputs={**INPUTS, "key_metric": "Key metric"},
        outputs=make_outputs(),
        credentials=credentials,
        transport=httpx.ASGITransport(app=create_jira_app(sandbox)),
        scales=SCALES,
        retry=RetryPolicy(sleep=fast_sleep),
        history=True,
    )


def requests(sandbox: JiraSandbox, since: int) -> Counter[str]:
    return Counter(e.endpoint for e in sandbox.request_log[since:])


@pytest.mark.parametrize("dc", [False, True], ids=["cloud", "dc"])
class TestAgainstTheSandbox:
    async def test_last_input_change_or_creation(self, dc: bool) -> None:
        """An issue whose Reach a person changed dates from that edit; one whose summary and
        key metric changed (not inputs) dates from its creation; one read request."""
        sandbox = JiraSandbox.seeded(issues=20, seed=3, dc=dc)
        edited = datetime(2025, 1, 6, 9, tzinfo=UTC)
        sandbox.now = lambda: edited
        sandbox.human_edit("WEB-1", fields={REACH: 4321})
        sandbox.now = lambda: edited + timedelta(days=30)
        sandbox.human_edit(
            "WEB-2", fields={"summary": "Renamed", "customfield_10066": {"value": "Revenue"}}
        )
        jira = connector(sandbox)
        items = {i.key: i for i in await jira.read()}
        before = len(sandbox.request_log)
        dated = await jira.inputs_changed([items["WEB-1"], items["WEB-2"]])
        await jira.aclose()
        assert dated["WEB-1"] == edited
        assert dated["WEB-2"] == sandbox.find("WEB-2").created  # type: ignore[union-attr]
        history = "/changelog/bulkfetch" if not dc else "/search"
        assert requests(sandbox, before) == Counter({history: 1})

    async def test_created_is_read_only_with_history(self, dc: bool) -> None:
        """With ``history`` a read asks for ``created`` too, and items carry it."""
        sandbox = JiraSandbox.seeded(issues=3, seed=3, dc=dc)
        jira = connector(sandbox)
        items = await jira.read()
        site = await jira.discover()
        await jira.aclose()
        assert "created" in read_field_ids(site.fields, history=True)
        assert "created" not in read_field_ids(site.fields)
        assert all(i.created_at is not None for i in items)


async def test_cloud_history_of_1500_issues_takes_two_requests() -> None:
    """The bulk fetch names 1,000 issues a request: 1,500 issues are two requests."""
    sandbox = JiraSandbox.seeded(issues=1500, seed=3)
    jira = connector(sandbox)
    items = await jira.read()
    before = len(sandbox.request_log)
    dated = await jira.inputs_changed(items)
    await jira.aclose()
    assert len(dated) == len(items) == 1500
    assert requests(sandbox, before) == Counter({"/changelog/bulkfetch": 2})
