"""`priosync sandbox edit`'s arguments: Field=value pairs and which tracker an item is in."""

from __future__ import annotations

import pytest

from sandbox.person import EditError, parse_assignments, tracker_of


class TestArguments:
    def test_pairs_split_at_the_first_equals_sign_and_may_be_empty(self) -> None:
        """'Score rationale=a=b' keeps the second '='; 'Effort=' clears the field."""
        assert parse_assignments(["Reach=500", "Score rationale=a=b", "Effort="]) == [
            ("Reach", "500"),
            ("Score rationale", "a=b"),
            ("Effort", ""),
        ]

    @pytest.mark.parametrize("pairs", [["Reach"], ["=5"], []])
    def test_a_pair_without_field_or_equals_is_refused(self, pairs: list[str]) -> None:
        """No '=', no field name, or no pair at all is an error saying what is expected."""
        with pytest.raises(EditError, match="Field=value"):
            parse_assignments(pairs)

    @pytest.mark.parametrize(
        ("item", "tracker"), [("WEB-12", "jira"), ("web-3", "jira"), ("acme/app#12", "github")]
    )
    def test_the_item_says_which_tracker(self, item: str, tracker: str) -> None:
        """A key is Jira's, owner/repo#number GitHub's."""
        assert tracker_of(item) == tracker

    def test_anything_else_is_refused(self) -> None:
        """An item that is neither names both forms."""
        with pytest.raises(EditError, match="neither a Jira key"):
            tracker_of("nonsense")
