"""Values many items share are one object: label sets, labels, option names, empty maps."""

from __future__ import annotations

import sys

import pytest

from priosync import compact
from priosync.compact import EMPTY_MAPPING, shared_labels, shared_pairs, shared_text
from priosync.domain import Score, WorkItem


class TestSharedLabels:
    """Equal label sets read for different items are the same frozenset of the same strings."""

    def test_equal_sets_are_one_object(self) -> None:
        """Two items' labels built from fresh strings come back as one shared set."""
        first = shared_labels(["roadmap:" + "later", "ux"])
        second = shared_labels(iter(["ux", "".join(["roadmap:", "later"])]))
        assert first == frozenset({"roadmap:later", "ux"})
        assert first is second
        assert {id(label) for label in first} == {id(label) for label in second}

    def test_past_the_bound_sets_are_right_but_not_kept(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A full cache still answers the right set; it only stops growing."""
        monkeypatch.setattr(compact, "_label_sets", {})
        monkeypatch.setattr(compact, "MAX_SHARED_SETS", 2)
        for n in range(5):
            assert shared_labels([f"label-{n}"]) == frozenset({f"label-{n}"})
        assert len(compact._label_sets) == 2

    def test_text_is_interned(self) -> None:
        """An option name read twice is one string."""
        assert shared_text("".join(["Med", "ium"])) is shared_text("Medium")


class TestSharedPairs:
    """Equal label-id maps of different items are one read-only mapping."""

    def test_equal_maps_are_one_read_only_object(self) -> None:
        """Two items with the same labels share the map; it cannot be changed; empty is shared."""
        first = shared_pairs({"bug": "LA_1", "roadmap:now": "LA_2"})
        second = shared_pairs({"roadmap:now": "LA_2", "bug": "LA_1"})
        assert first is second
        assert dict(first) == {"bug": "LA_1", "roadmap:now": "LA_2"}
        assert shared_pairs({}) is EMPTY_MAPPING
        with pytest.raises(TypeError):
            first["bug"] = "LA_3"  # type: ignore[index]

    def test_different_maps_stay_apart(self) -> None:
        """A label with another id is another map."""
        assert shared_pairs({"bug": "LA_1"}) != shared_pairs({"bug": "LA_9"})


class TestEmptyMapping:
    """Items without held values share one empty, unchangeable mapping."""

    def test_default_held_is_shared_and_read_only(self) -> None:
        """Every item's default ``held`` is the same empty mapping, equal to ``{}``."""
        a = WorkItem(key="A-1", title="", url="", source="s", inputs={})
        b = WorkItem(key="A-2", title="", url="", source="s", inputs={})
        assert a.held is b.held is EMPTY_MAPPING
        assert a.held == {}
        with pytest.raises(TypeError):
            a.held["score"] = 1  # type: ignore[index]


class TestRow:
    """An item's inputs and its score's terms are rows: a mapping, half a dict's size."""

    def test_a_row_is_the_mapping_it_was_built_from(self) -> None:
        """Lookups, order, equality both ways, ``in``, ``get`` and ``dict()`` are a dict's."""
        values = {"reach": 500.0, "impact": "High", "effort": 2.0}
        row = compact.Row(values)
        assert row == values
        assert values == row
        assert list(row) == ["reach", "impact", "effort"]
        assert row["impact"] == "High"
        assert "reach" in row
        assert "confidence" not in row
        assert row.get("confidence") is None
        assert dict(row) == values
        assert repr(row) == repr(values)
        with pytest.raises(KeyError, match="confidence"):
            row["confidence"]
        with pytest.raises(TypeError):
            row["reach"] = 1.0  # type: ignore[index]

    def test_rows_with_the_same_names_share_them(self) -> None:
        """Two items' inputs built from fresh strings hold one tuple of names."""
        a = compact.Row({"re" + "ach": 1.0, "effort": 2.0})
        b = compact.Row({"".join(["rea", "ch"]): 3.0, "effort": 4.0})
        assert a._names is b._names

    def test_smaller_than_a_dict(self) -> None:
        """What the row saves per item (measured, not assumed)."""
        values = {"reach": 500.0, "impact": 2.0, "confidence": 0.8, "effort": 2.0}
        row = compact.Row(values)
        assert sys.getsizeof(row) + sys.getsizeof(row._values) < sys.getsizeof(values) * 0.7

    def test_items_and_scores_hold_rows_and_share_assignees(self) -> None:
        """Whatever mapping a connector passes, the item keeps a row; empty is the shared one."""
        a = WorkItem(
            key="A-1", title="", url="", source="s", inputs={"reach": 1.0}, assignee="Ada " + "L"
        )
        b = WorkItem(key="A-2", title="", url="", source="s", inputs={}, assignee="".join("Ada L"))
        assert isinstance(a.inputs, compact.Row)
        assert a.inputs == {"reach": 1.0}
        assert b.inputs is EMPTY_MAPPING
        assert a.assignee is b.assignee
        assert isinstance(Score(1.0, terms={"reach": 1.0}).terms, compact.Row)
