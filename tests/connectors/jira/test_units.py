"""Pure Jira pieces: request builders, response parsers, error mapping, fields, mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.fields import FieldMap, TrackerField, resolve_field, resolve_field_map
from connectors.jira import protocol as p
from connectors.jira.fields import RULES, WHERE, field_from_json, read_field_ids
from connectors.jira.mapping import (
    adf_to_text,
    edit_payload,
    text_to_adf,
    work_item_from_issue,
)
from priosync.domain import Change, Outputs
from priosync.errors import AuthFailed, ChangeRejected, FieldMappingError, RateLimited

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
FIELD_LIST = [
    {
        "id": "summary",
        "name": "Summary",
        "custom": False,
        "schema": {"type": "string", "system": "summary"},
    },
    {
        "id": "labels",
        "name": "Labels",
        "custom": False,
        "schema": {"type": "array", "items": "string", "system": "labels"},
    },
    {
        "id": "priority",
        "name": "Priority",
        "custom": False,
        "schema": {"type": "priority", "system": "priority"},
    },
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
    {
        "id": "customfield_10062",
        "name": "Team",
        "custom": True,
        "schema": {"type": "option", "custom": f"{CF}select"},
    },
    {
        "id": "customfield_10063",
        "name": "Team",
        "custom": True,
        "schema": {"type": "string", "custom": f"{CF}textfield"},
    },
    {
        "id": "customfield_10064",
        "name": "Platforms",
        "custom": True,
        "schema": {"type": "array", "items": "option", "custom": f"{CF}multiselect"},
    },
]
FIELDS = [field_from_json(f) for f in FIELD_LIST]


def field_map() -> FieldMap:
    return resolve_field_map(
        inputs={"reach": "Reach", "impact": "customfield_10051", "platforms": "Platforms"},
        outputs={
            "score": "RICE score",
            "priority": "priority",
            "explanation": "Score rationale",
            "rank": "Backlog rank",
        },
        fields=FIELDS,
        rules=RULES,
        where=WHERE,
    )


def resolve(ref: str, what: str = "x") -> TrackerField:
    return resolve_field(ref, FIELDS, rules=RULES, what=what, where=WHERE)


class TestRequests:
    def test_cloud_search_body(self) -> None:
        """Enhanced search is a POST with jql, explicit fields, maxResults and the token."""
        request = p.build_cloud_search_request(
            "project = WEB", fields=["summary", "labels"], max_results=100, next_page_token="T1"
        )
        assert (request.method, request.path) == ("POST", "/rest/api/3/search/jql")
        assert request.json == {
            "jql": "project = WEB",
            "fields": ["summary", "labels"],
            "maxResults": 100,
            "nextPageToken": "T1",
        }

    def test_dc_offsets_step_by_returned_max_results(self) -> None:
        """Data Center pages step by the maxResults Jira answered, not the one asked for."""
        first = p.DcPage(issues=[{}] * 50, start_at=0, max_results=50, total=175)
        assert p.dc_remaining_offsets(first) == [50, 100, 150]

    def test_bulkfetch_refuses_more_than_100(self) -> None:
        """Bulk fetch takes at most 100 issues a call."""
        with pytest.raises(ValueError, match="100"):
            p.build_bulkfetch_request([str(i) for i in range(101)], fields=["summary"])

    def test_edit_request_sets_notify_flag(self) -> None:
        """notifyUsers=false is sent unless notifications are wanted; DC uses REST v2."""
        quiet = p.build_edit_request("cloud", "10001", {}, notify=False)
        loud = p.build_edit_request("dc", "10001", {}, notify=True)
        assert (quiet.path, dict(quiet.params), quiet.kind) == (
            "/rest/api/3/issue/10001",
            {"notifyUsers": "false"},
            "write",
        )
        assert (loud.path, dict(loud.params)) == ("/rest/api/2/issue/10001", {})

    def test_restrict_jql_keeps_order_by_last(self) -> None:
        """Narrowing a JQL to keys keeps its ORDER BY at the end."""
        jql = p.restrict_jql("project = WEB ORDER BY rank", ["WEB-1", "WEB-2"])
        assert jql == '(project = WEB) AND key in ("WEB-1", "WEB-2") ORDER BY rank'


class TestParsers:
    def test_cloud_last_page_has_no_token(self) -> None:
        """isLast ends the walk even if a token is present."""
        page = p.parse_cloud_search_page(
            {"issues": [{"id": "1"}], "isLast": True, "nextPageToken": "x"}
        )
        assert page.next_page_token is None
        assert page.issues == [{"id": "1"}]

    def test_server_info_detects_cloud_and_dc(self) -> None:
        """deploymentType Cloud means Cloud; Server or DataCenter means Data Center."""
        assert (
            p.parse_server_info({"deploymentType": "Cloud", "baseUrl": "https://a/"}).deployment
            == "cloud"
        )
        assert p.parse_server_info({"deploymentType": "Server"}).deployment == "dc"

    def test_editmeta_options(self) -> None:
        """editmeta allowedValues give option values and priority names."""
        body = {
            "fields": {
                "customfield_10051": {"allowedValues": [{"value": "High"}, {"value": "Low"}]},
                "priority": {"allowedValues": [{"name": "High", "id": "2"}]},
            }
        }
        assert p.parse_editmeta_options(body) == {
            "customfield_10051": ("High", "Low"),
            "priority": ("High",),
        }


class TestErrorFor:
    def test_400_on_write_keeps_jiras_message(self) -> None:
        """A refused edit carries Jira's field message."""
        body = json.dumps(
            {
                "errorMessages": [],
                "errors": {"customfield_10059": "Operation value must be a number."},
            }
        )
        error = p.error_for(400, httpx.Headers(), body.encode(), kind="write", now_epoch_s=0)
        assert isinstance(error, ChangeRejected)
        assert "must be a number" in str(error)
        assert error.errors == {"customfield_10059": "Operation value must be a number."}

    def test_notify_refusal_names_both_fixes(self) -> None:
        """The 403 notifyUsers refusal becomes AuthFailed naming project admin and notify = true."""
        body = json.dumps(
            {
                "errorMessages": [
                    "To discard the user notification either admin or project admin permissions are required."
                ],
                "errors": {},
            }
        )
        error = p.error_for(403, httpx.Headers(), body.encode(), kind="write", now_epoch_s=0)
        assert isinstance(error, AuthFailed)
        assert "Administer Projects" in str(error)
        assert "notify = true" in str(error)

    def test_429_reads_reason_and_reset(self) -> None:
        """A 429 is a rate limit with Jira's reason and the ISO reset as a wait."""
        headers = httpx.Headers(
            {"X-RateLimit-Reset": "2026-01-01T00:00:10Z", "RateLimit-Reason": "jira-burst-based"}
        )
        now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
        error = p.error_for(429, headers, b"", now_epoch_s=now)
        assert isinstance(error, RateLimited)
        assert (error.retry_after_s, error.reason) == (10.0, "jira-burst-based")


class TestFields:
    def test_name_or_id_resolves(self) -> None:
        """A name (any case) and an id (any case) both resolve to the same field."""
        assert resolve("reach").id == "customfield_10050"
        assert resolve("customfield_10050").name == "Reach"
        assert resolve("CustomField_10050").name == "Reach"

    def test_shared_name_lists_both_ids(self) -> None:
        """A name two fields share is an error listing both ids."""
        with pytest.raises(FieldMappingError) as caught:
            resolve("Team", "scoring.inputs.team")
        assert "customfield_10062" in str(caught.value)
        assert "customfield_10063" in str(caught.value)
        assert caught.value.candidates == ("customfield_10062", "customfield_10063")

    def test_unknown_name_suggests_closest(self) -> None:
        """A typo is reported with the closest names Jira has."""
        with pytest.raises(FieldMappingError) as caught:
            resolve("Reech", "scoring.inputs.reach")
        assert caught.value.candidates[0] == "Reach"
        assert "scoring.inputs.reach" in str(caught.value)

    def test_text_field_cannot_hold_the_score(self) -> None:
        """Mapping the score to a text field is a FieldMappingError naming the type."""
        with pytest.raises(FieldMappingError, match="expected a number field"):
            resolve_field_map(
                inputs={},
                outputs={"score": "Score rationale"},
                fields=FIELDS,
                rules=RULES,
                where=WHERE,
            )

    def test_read_asks_only_needed_fields(self) -> None:
        """A read asks for summary, labels, updated and the mapped fields, never *all."""
        assert read_field_ids(field_map()) == [
            "summary",
            "labels",
            "updated",
            "assignee",
            "customfield_10050",
            "customfield_10051",
            "customfield_10064",
            "customfield_10059",
            "priority",
            "customfield_10060",
            "customfield_10061",
        ]


class TestMapping:
    def test_issue_becomes_work_item(self) -> None:
        """Numbers, options, multi-select, ADF text, priority and all labels are decoded."""
        issue = {
            "id": "10007",
            "key": "WEB-7",
            "fields": {
                "summary": "Faster login",
                "labels": ["roadmap:now", "customer"],
                "updated": "2025-01-06T09:00:00.000+0000",
                "customfield_10050": 500,
                "customfield_10051": {"value": "High", "id": "1"},
                "customfield_10064": [{"value": "Web"}, {"value": "iOS"}],
                "customfield_10059": 266.7,
                "priority": {"name": "High", "id": "2"},
                "customfield_10060": text_to_adf("RICE 500×2 = 1000"),
                "customfield_10061": 3.0,
            },
        }
        item = work_item_from_issue(
            issue, fields=field_map(), site_url="https://a.net/", source="web"
        )
        assert item.url == "https://a.net/browse/WEB-7"
        assert item.inputs == {"reach": 500, "impact": "High", "platforms": ["Web", "iOS"]}
        assert item.current == Outputs(
            score=266.7,
            priority="High",
            labels=frozenset({"roadmap:now", "customer"}),
            explanation="RICE 500×2 = 1000",
            rank=3,
        )
        assert item.updated_at == datetime(2025, 1, 6, 9, tzinfo=UTC)
        assert item.handle == "10007"

    def test_a_score_field_holding_text_is_kept_as_held(self) -> None:
        """A number field answered with text reads as no score, and its raw value is kept."""
        issue = {"id": "1", "key": "WEB-1", "fields": {"customfield_10059": "n/a"}}
        item = work_item_from_issue(issue, fields=field_map(), site_url="https://a", source="web")
        assert item.current.score is None
        assert item.held == {"score": "n/a"}

    def test_absent_input_is_left_out(self) -> None:
        """An input field missing from the issue is absent from inputs, not None."""
        issue = {"id": "1", "key": "WEB-1", "fields": {"summary": "x", "customfield_10050": None}}
        item = work_item_from_issue(issue, fields=field_map(), site_url="https://a", source="web")
        assert item.inputs == {"reach": None}

    def test_edit_payload_uses_label_verbs(self) -> None:
        """Changed fields go in fields, labels as add/remove verbs, with historyMetadata."""
        change = Change(
            key="WEB-7",
            source="web",
            url="u",
            reason="RICE 1 = 1",
            before=Outputs(score=1.0, priority="Low", labels=frozenset({"roadmap:later"}), rank=9),
            after=Outputs(
                score=2.5,
                priority="High",
                labels=frozenset({"roadmap:now"}),
                explanation="why",
                rank=9,
            ),
        )
        body = edit_payload(change, fields=field_map(), deployment="cloud")
        assert body["fields"] == {
            "customfield_10059": 2.5,
            "priority": {"name": "High"},
            "customfield_10060": text_to_adf("why"),
        }
        assert body["update"] == {"labels": [{"add": "roadmap:now"}, {"remove": "roadmap:later"}]}
        assert body["historyMetadata"]["generator"] == {"id": "priosync", "type": "application"}
        assert "labels" not in body["fields"]

    def test_dc_text_is_plain(self) -> None:
        """Data Center takes multi-line text as a plain string."""
        change = Change(
            key="K-1",
            source="s",
            url="u",
            reason="r",
            before=Outputs(),
            after=Outputs(explanation="why"),
        )
        body = edit_payload(change, fields=field_map(), deployment="dc")
        assert body["fields"] == {"customfield_10060": "why"}

    @settings(max_examples=50)
    @given(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"),
                max_size=20,
            ),
            min_size=1,
            max_size=4,
        )
    )
    def test_adf_round_trip(self, lines: list[str]) -> None:
        """Text written as ADF reads back unchanged."""
        text = "\n".join(lines)
        assert adf_to_text(text_to_adf(text)) == text

    def test_select_field_priority_uses_value(self) -> None:
        """A select used as priority is written as {"value": name}."""
        team = TrackerField(id="customfield_10062", name="Team", kind="select")
        fields = FieldMap(inputs={}, priority=team)
        change = Change(
            key="K-1",
            source="s",
            url="u",
            reason="r",
            before=Outputs(),
            after=Outputs(priority="Growth"),
        )
        assert edit_payload(change, fields=fields, deployment="cloud")["fields"] == {
            "customfield_10062": {"value": "Growth"}
        }
