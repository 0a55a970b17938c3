"""The JQL parser answers every input with a query or a JqlError, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.jira.jql import JqlError, Query, parse_jql
from sandbox.jira.model import StoredIssue

WORDS = st.sampled_from(
    [
        "project",
        "=",
        "WEB",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        ",",
        "in",
        "is",
        "EMPTY",
        "labels",
        "!=",
        "key",
        "WEB-1",
        "ORDER",
        "BY",
        "DESC",
        '"Reach"',
        ">=",
        "5",
        "~",
        "statusCategory",
        "Done",
        "now()",
        "cf[10050]",
        '"',
        "Team",
        "foo",
        "-1d",
        "updated",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=12).map(" ".join) | st.text(max_size=40))
def test_parser_never_crashes(jql: str) -> None:
    """Arbitrary text parses or raises JqlError; a parsed query is evaluable on an issue."""
    issue = StoredIssue(
        10001, "WEB-1", "t", "To Do", "3", ["a"], {}, datetime.now(UTC), datetime.now(UTC)
    )
    outcome = try_parse(jql)
    if isinstance(outcome, JqlError):
        assert str(outcome)
    else:
        assert isinstance(outcome.matches(issue), bool)


def try_parse(jql: str) -> Query | JqlError:
    try:
        return parse_jql(
            jql, project="WEB", known_keys=lambda k: k in {"WEB-1", "10001"}, now=datetime.now(UTC)
        )
    except JqlError as error:
        return error
