"""Pure parts: GraphQL documents against GitHub's published schema, protocol, fields, mapping."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import httpx
import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.fields import TrackerField, resolve_field
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.fields import RULES
from connectors.github.mapping import (
    FieldWrite,
    UnknownOption,
    dropped_fields,
    keep_issue,
    keep_project_item,
    merge_issue_fields,
    project_value_input,
)
from connectors.github.project import pack_batches
from priosync.domain import Change, Outputs
from priosync.errors import AuthFailed, FieldMappingError, RateLimited

#: GitHub's published GraphQL schema, vendored: tests/contracts/README.md.
CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "github-schema.graphql"


@cache
def schema() -> GraphQLSchema:
    return build_schema(CONTRACT.read_text(encoding="utf-8"), assume_valid=True)


class TestDocuments:
    @pytest.mark.parametrize(
        "document",
        [
            g.ORG_PROJECT_QUERY,
            g.USER_PROJECT_QUERY,
            g.VIEWER_QUERY,
            g.REPO_LABELS_QUERY,
            g.PROJECT_SIZE_QUERY,
            g.build_items_query(1),
            g.build_items_query(8),
            g.build_nodes_query(3),
            g.build_nodes_query(2, dependencies=True),
            g.build_items_query(3, dependencies=True),
            g.BLOCKERS_QUERY,
            g.build_items_query(4, dates=True),
        ],
        ids=[
            "org-project",
            "user-project",
            "viewer",
            "labels",
            "size",
            "items-1",
            "items-8",
            "nodes-3",
            "nodes-with-blockers",
            "items-with-blockers",
            "blockers",
            "items-dated",
        ],
    )
    def test_queries_validate_against_githubs_schema(self, document: str) -> None:
        """Every query is valid against the official public schema."""
        assert validate(schema(), parse(document)) == []

    def test_mutation_batch_validates_and_uses_variables(self) -> None:
        """A batch of all four mutation kinds is valid and carries no value in its text."""
        document, variables = g.build_mutation_batch(
            [
                g.update_field("P", "I", "F", {"text": 'say "hi"'}),
                g.clear_field("P", "I", "F"),
                g.add_labels("C", ["L1"]),
                g.remove_labels("C", ["L2"]),
            ]
        )
        assert validate(schema(), parse(document)) == []
        assert "hi" not in document
        assert variables["i0"]["value"] == {"text": 'say "hi"'}
        assert variables["i3"] == {"labelableId": "C", "labelIds": ["L2"]}

    @settings(max_examples=30)
    @given(
        st.lists(st.integers(min_value=1, max_value=7), max_size=40),
        st.integers(min_value=7, max_value=60),
    )
    def test_batches_never_split_a_change_or_exceed_the_limit(
        self, sizes: list[int], limit: int
    ) -> None:
        """Packing keeps order, keeps each change whole and stays within the limit."""
        planned = [(i, [g.clear_field("P", str(i), "F")] * n) for i, n in enumerate(sizes)]
        batches = pack_batches(planned, limit)  # type: ignore[arg-type]
        assert [c for b in batches for c, _ in b] == list(range(len(sizes)))  # type: ignore[comparison-overlap]
        assert all(sum(len(ms) for _, ms in b) <= limit for b in batches)


class TestProtocol:
    @pytest.mark.parametrize(
        ("api", "expected"),
        [
            ("https://api.github.com", "https://api.github.com/graphql"),
            ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
            ("https://api.acme.ghe.com", "https://api.acme.ghe.com/graphql"),
            ("http://127.0.0.1:8123", "http://127.0.0.1:8123/graphql"),
        ],
    )
    def test_graphql_url_follows_the_host_kind(self, api: str, expected: str) -> None:
        """GHES maps /api/v3 to /api/graphql; every other host appends /graphql."""
        assert p.graphql_url(api) == expected

    def test_secondary_limit_without_retry_after_gets_60_seconds(self) -> None:
        """A 403 naming a secondary limit with budget left is given GitHub's 60 s fallback."""
        body = b'{"message": "You have exceeded a secondary rate limit."}'
        assert p.describe_error(403, body).rate_limit_wait_s == 60
        assert (
            p.describe_error(403, b'{"message": "Resource not accessible"}').rate_limit_wait_s
            is None
        )

    def test_secondary_wait_order(self) -> None:
        """retry-after first, then the reset when the budget is spent, else 60 s."""
        spent = httpx.Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"})
        assert p.secondary_wait_s(httpx.Headers({"retry-after": "5"}), now_epoch_s=1000) == 5
        assert p.secondary_wait_s(spent, now_epoch_s=1000) == 100
        assert p.secondary_wait_s(httpx.Headers(), now_epoch_s=1000) == 60

    def test_graphql_errors_map_to_the_tree(self) -> None:
        """RATE_LIMITED is a rate limit, FORBIDDEN refused credentials, tolerated aliases come back."""
        headers = httpx.Headers({"x-ratelimit-reset": "1060"})
        with pytest.raises(RateLimited) as limited:
            p.parse_graphql(
                {"errors": [{"type": "RATE_LIMITED", "message": "x"}]},
                headers=headers,
                now_epoch_s=1000,
            )
        assert limited.value.retry_after_s == 60
        with pytest.raises(AuthFailed):
            p.parse_graphql(
                {"errors": [{"type": "FORBIDDEN", "message": "no"}]}, headers=headers, now_epoch_s=0
            )
        result = p.parse_graphql(
            {"data": {"m0": None}, "errors": [{"type": "X", "path": ["m0"], "message": "bad"}]},
            headers=headers,
            now_epoch_s=0,
            tolerate=["m0"],
        )
        assert [e.message for e in result.errors_at("m0")] == ["bad"]

    def test_inspect_answer_names_graphql_rate_limits_only(self) -> None:
        """A RATE_LIMITED error in a 200 GraphQL answer is a spent quota; REST bodies are left alone."""
        graphql = httpx.Request("POST", "https://api.github.com/graphql")
        rest = httpx.Request("GET", "https://api.github.com/repos/acme/web/issues")
        body = {"errors": [{"type": "RATE_LIMITED", "message": "x"}]}
        headers = {"x-ratelimit-reset": "1060"}
        error = p.inspect_answer(
            httpx.Response(200, json=body, headers=headers, request=graphql), 1000
        )
        assert isinstance(error, RateLimited)
        assert (error.retry_after_s, error.reason) == (60, "primary-quota")
        fine = httpx.Response(200, json={"data": {}}, request=graphql)
        assert p.inspect_answer(fine, 1000) is None
        assert p.inspect_answer(httpx.Response(200, json=body, request=rest), 1000) is None

    def test_describe_error_keeps_field_errors(self) -> None:
        """GitHub's message and its errors[] entries make one line."""
        text = p.describe_error(
            422,
            b'{"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]}',
        )
        assert text.message == "Validation Failed (name: already_exists)"
        assert text.errors == {"name": "already_exists"}

    def test_next_link_and_encoded_label_paths(self) -> None:
        """The next URL comes from Link; label names are percent-encoded in paths."""
        headers = httpx.Headers({"link": '<https://x/2>; rel="next", <https://x/9>; rel="last"'})
        assert p.next_link(headers) == "https://x/2"
        assert p.next_link(httpx.Headers({"link": '<https://x/1>; rel="prev"'})) is None
        request = p.build_remove_label_request("acme/web", 4, "roadmap:now later/x")
        assert request.path == "/repos/acme/web/issues/4/labels/roadmap%3Anow%20later%2Fx"


class TestFieldsAndMapping:
    FIELDS = (
        TrackerField("F1", "Reach", "number"),
        TrackerField("F2", "Priority", "select", options={"High": "o1"}),
    )

    def test_unknown_field_names_closest(self) -> None:
        """A misspelt field lists the names it resembles."""
        with pytest.raises(FieldMappingError, match="closest: Reach") as caught:
            resolve_field(
                "Reahc",
                self.FIELDS,
                rules=RULES,
                what="scoring.inputs.reach",
                where="Project acme/1",
            )
        assert caught.value.candidates == ("Reach",)
        with pytest.raises(FieldMappingError, match=r"has no field named .Zzz."):
            resolve_field("Zzz", self.FIELDS, rules=RULES, what="x", where="y")

    def test_issue_field_merge_keeps_other_fields_and_tracks_clears(self) -> None:
        """Writes merge into the current set; clears leave it and are listed."""
        score = TrackerField("7", "RICE score", "number")
        prio = TrackerField("8", "Priority", "select", options={"High": "High"})
        why = TrackerField("9", "Why", "text")
        merged, cleared = merge_issue_fields(
            {"1": 500.0, "9": "old"},
            [
                FieldWrite("score", score, 12),
                FieldWrite("priority", prio, "high"),
                FieldWrite("explanation", why, None),
            ],
        )
        assert merged == {"1": 500.0, "7": 12.0, "8": "High"}
        assert cleared == ["9"]
        assert dropped_fields({"7": 12.0}, {"7": 12}, cleared) == []
        assert dropped_fields({"7": 12.0}, {}, ["9"]) == ["7"]
        with pytest.raises(UnknownOption, match="options: High"):
            merge_issue_fields({}, [FieldWrite("priority", prio, "Urgent")])

    @pytest.mark.parametrize("state", ["open", "closed", "all"])
    @pytest.mark.parametrize("include_pull_requests", [False, True])
    @pytest.mark.parametrize(
        ("pull_request", "closed"), [(False, False), (False, True), (True, False)]
    )
    def test_project_items_and_rest_issues_are_kept_by_one_rule(
        self, state: str, include_pull_requests: bool, pull_request: bool, closed: bool
    ) -> None:
        """The same issue or pull request is kept or left out alike, read from a Project or REST."""
        node = {
            "type": "PULL_REQUEST" if pull_request else "ISSUE",
            "content": {"__typename": "PullRequest" if pull_request else "Issue", "closed": closed},
        }
        issue: dict[str, object] = {"state": "closed" if closed else "open"}
        if pull_request:
            issue["pull_request"] = {"url": "x"}
        settings = {"include_pull_requests": include_pull_requests, "state": state}
        kept = keep_project_item(node, **settings)  # type: ignore[arg-type]
        assert keep_issue(issue, **settings) == kept  # type: ignore[arg-type]
        assert kept == (
            (include_pull_requests or not pull_request)
            and state in ("all", "closed" if closed else "open")
        )

    def test_one_option_lookup_serves_projects_and_issue_fields(self) -> None:
        """A Project select sends its option id, an issue field its name; both refuse strangers."""
        project = TrackerField("F", "Priority", "select", options={"High": "o1"})
        issue = TrackerField("8", "Priority", "select", options={"High": "High"})
        assert project_value_input(FieldWrite("priority", project, "high")) == {
            "singleSelectOptionId": "o1"
        }
        assert merge_issue_fields({}, [FieldWrite("priority", issue, "high")])[0] == {"8": "High"}
        with pytest.raises(UnknownOption, match="'Urgent' is not an option of Priority"):
            project_value_input(FieldWrite("priority", project, "Urgent"))

    def test_change_labels_are_a_diff(self) -> None:
        """Only labels that differ are added or removed."""
        change = Change(
            "k",
            "s",
            "u",
            Outputs(labels=frozenset({"a", "b"})),
            Outputs(labels=frozenset({"b", "c"})),
            "r",
        )
        assert (change.labels_to_add, change.labels_to_remove) == (
            frozenset({"c"}),
            frozenset({"a"}),
        )
