"""The read snapshot's JSON form: every field planning uses survives the store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.jira.protocol import updated_since_jql
from priosync.domain import Link, Outputs, WorkItem
from sync.snapshot import SnapshotUnreadable, item_from_json, item_to_json, snapshot_id


class TestItemJson:
    def test_every_field_round_trips(self) -> None:
        """An item with inputs, outputs, held values, links and a handle comes back equal."""
        item = WorkItem(
            key="WEB-7",
            title="Ship it",
            url="https://jira.example/browse/WEB-7",
            source="web",
            inputs={"reach": 300, "impact": "High", "effort": 1.5, "tags": ["a", 2]},
            current=Outputs(
                score=12.34, priority="High", labels=frozenset({"x", "roadmap:now"}), rank=3
            ),
            updated_at=datetime(2026, 3, 2, 9, 0, 1, 500, tzinfo=UTC),
            labelable=False,
            handle="10007",
            ref="node-1",
            held={"score": "n/a"},
            blocks=(Link("WEB-8"),),
            blocked_by=(Link("WEB-2", done=True),),
            done=True,
        )
        assert item_from_json(item_to_json(item)) == item
        assert snapshot_id(item) == "10007"

    @pytest.mark.parametrize("text", ["{not json", "[]", '{"key": 1}', "null"])
    def test_anything_else_is_unreadable(self, text: str) -> None:
        """What ``item_to_json`` did not write raises ``SnapshotUnreadable``, not a KeyError."""
        with pytest.raises(SnapshotUnreadable):
            item_from_json(text)


class TestUpdatedSinceJql:
    def test_narrows_the_query_and_keeps_its_order(self) -> None:
        """The user's JQL goes in parentheses, a relative date after it, ORDER BY last."""
        jql = "project = WEB OR labels = x order by rank"
        assert updated_since_jql(jql, 15) == (
            '(project = WEB OR labels = x) AND updated >= "-15m" order by rank'
        )
        assert updated_since_jql("project = WEB", 0) == '(project = WEB) AND updated >= "-1m"'
