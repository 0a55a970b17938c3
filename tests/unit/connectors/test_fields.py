"""The one field-resolution rule (connectors.fields), driven through Jira's and GitHub's parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from connectors.fields import (
    FieldRules,
    MappedRef,
    TrackerField,
    field_check,
    resolve_field,
    resolve_field_map,
)
from connectors.github import fields as github
from connectors.jira import fields as jira
from priosync.errors import FieldMappingError

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
#: (name, Jira schema, GitHub dataType) for each field both trackers hold.
SHAPES = [
    ("Reach", {"type": "number", "custom": f"{CF}float"}, "NUMBER"),
    ("Team", {"type": "option", "custom": f"{CF}select"}, "SINGLE_SELECT"),
    ("team", {"type": "string", "custom": f"{CF}textfield"}, "TEXT"),
    ("Stage", {"type": "option", "custom": f"{CF}select"}, "SINGLE_SELECT"),
    ("Stage", {"type": "string", "custom": f"{CF}textfield"}, "TEXT"),
    ("Due", {"type": "date", "custom": f"{CF}datepicker"}, "DATE"),
]
OPTIONS = ("High", "Low")
SCALES = {"impact": {"High": 2.0}}


@dataclass(frozen=True)
class Tracker:
    """One tracker's fields, parsed by its own code, and its rules."""

    name: str
    rules: FieldRules
    where: str
    fields: tuple[TrackerField, ...]

    def id(self, index: int) -> str:
        return self.fields[index].id

    def resolve(self, ref: str) -> TrackerField:
        return resolve_field(ref, self.fields, rules=self.rules, what="x", where=self.where)


def jira_tracker() -> Tracker:
    listed = [
        jira.field_from_json({"id": f"customfield_1005{n}", "name": name, "schema": schema})
        for n, (name, schema, _) in enumerate(SHAPES)
    ]
    selects = {f.id: OPTIONS for f in listed if f.kind == "select"}
    return Tracker("jira", jira.RULES, jira.WHERE, tuple(jira.with_options(listed, selects)))


def github_tracker() -> Tracker:
    nodes: list[Mapping[str, object]] = [
        {
            "id": f"PVTF_{n}",
            "name": name,
            "dataType": data_type,
            "options": [{"id": f"opt{n}{o}", "name": o} for o in OPTIONS],
        }
        for n, (name, _, data_type) in enumerate(SHAPES)
    ]
    parsed = [github.project_field_from_json(node) for node in nodes]
    return Tracker(
        "github", github.RULES, "Project acme/1", tuple(f for f in parsed if f is not None)
    )


TRACKERS = pytest.mark.parametrize(
    "tracker", [jira_tracker(), github_tracker()], ids=["jira", "github"]
)


class TestResolveField:
    @TRACKERS
    def test_exact_id_and_any_case_name_resolve(self, tracker: Tracker) -> None:
        """An id and a name in any case both find the field."""
        assert tracker.resolve(tracker.id(0)).name == "Reach"
        assert tracker.resolve(" reach ").id == tracker.id(0)

    def test_ids_ignore_case_only_where_the_tracker_says(self) -> None:
        """Jira's ids match in any case; a GitHub node id in the wrong case is no id."""
        assert jira_tracker().resolve("CUSTOMFIELD_10050").name == "Reach"
        with pytest.raises(FieldMappingError, match="has no field named 'pvtf_0'"):
            github_tracker().resolve("pvtf_0")

    @TRACKERS
    def test_exact_case_name_wins_over_case_insensitive_duplicates(self, tracker: Tracker) -> None:
        """'Team' and 'team' both exist: each exact spelling finds its own field."""
        assert tracker.resolve("Team").id == tracker.id(1)
        assert tracker.resolve("team").id == tracker.id(2)

    @TRACKERS
    def test_ambiguous_name_lists_every_candidate_id(self, tracker: Tracker) -> None:
        """A name no case settles is refused, listing the ids to use instead."""
        with pytest.raises(FieldMappingError) as caught:
            tracker.resolve("TEAM")
        assert caught.value.candidates == (tracker.id(1), tracker.id(2))
        assert f"{tracker.where} has 2 fields named 'TEAM'" in str(caught.value)
        assert tracker.id(1) in str(caught.value)
        assert "use the id instead" in str(caught.value)

    @TRACKERS
    def test_two_exact_matches_are_ambiguous_between_them(self, tracker: Tracker) -> None:
        """Two fields called exactly 'Stage' are ambiguous; their ids are the candidates."""
        with pytest.raises(FieldMappingError) as caught:
            tracker.resolve("Stage")
        assert caught.value.candidates == (tracker.id(3), tracker.id(4))

    @TRACKERS
    def test_unknown_name_lists_the_closest(self, tracker: Tracker) -> None:
        """A misspelt name names where it looked and the closest names."""
        with pytest.raises(FieldMappingError) as caught:
            tracker.resolve("Reech")
        assert caught.value.candidates == ("Reach",)
        assert f"x: {tracker.where} has no field named 'Reech'; closest: Reach" in str(caught.value)


class TestResolveFieldMap:
    @TRACKERS
    def test_input_of_a_type_scoring_cannot_read_is_refused(self, tracker: Tracker) -> None:
        """A date field as an input fails at resolution for both trackers."""
        with pytest.raises(
            FieldMappingError, match=r"scoring\.inputs\.reach: 'Due'.* expected a number"
        ):
            resolve_field_map(
                inputs={"reach": "Due"},
                outputs={},
                fields=tracker.fields,
                rules=tracker.rules,
                where=tracker.where,
            )

    @TRACKERS
    def test_output_of_the_wrong_type_is_refused(self, tracker: Tracker) -> None:
        """A text field cannot hold the score."""
        with pytest.raises(
            FieldMappingError, match=r"outputs\.score_field: .*expected a number field"
        ):
            resolve_field_map(
                inputs={},
                outputs={"score": "team"},
                fields=tracker.fields,
                rules=tracker.rules,
                where=tracker.where,
            )

    @TRACKERS
    def test_map_holds_inputs_and_outputs_once_each(self, tracker: Tracker) -> None:
        """Inputs by name, outputs by role; a field mapped twice is listed once."""
        fields = resolve_field_map(
            inputs={"reach": "Reach", "impact": "Team"},
            outputs={"score": "Reach", "priority": "Team", "explanation": None},
            fields=tracker.fields,
            rules=tracker.rules,
            where=tracker.where,
        )
        assert fields.inputs["impact"].id == tracker.id(1)
        assert set(fields.outputs()) == {"score", "priority"}
        assert [f.name for f in fields.mapped()] == ["Reach", "Team"]


class TestFieldCheck:
    @TRACKERS
    def test_select_input_with_options_the_scale_lacks_fails(self, tracker: Tracker) -> None:
        """The line names the options without a number and the scale to add them to."""
        line = field_check(
            "src",
            MappedRef("scoring.inputs.impact", "Team", "input", "impact"),
            tracker.fields,
            rules=tracker.rules,
            where=tracker.where,
            scales=SCALES,
        )
        assert not line.ok
        assert line.what == "src: scoring.inputs.impact = 'Team'"
        assert line.detail.endswith("options without a number in scales.impact: Low")
        assert line.fix == "add them to [scoring] scales.impact"

    @TRACKERS
    def test_passing_line_cites_ids_where_the_tracker_does(self, tracker: Tracker) -> None:
        """Jira's line shows the id people configure; GitHub's hides its node id."""
        line = field_check(
            "src",
            MappedRef("outputs.score_field", "Reach", "score"),
            tracker.fields,
            rules=tracker.rules,
            where=tracker.where,
            scales={},
        )
        assert line.ok
        expected = {
            "jira": f"Reach (customfield_10050, {CF}float)",
            "github": "Reach (NUMBER)",
        }
        assert line.detail == expected[tracker.name]

    @TRACKERS
    def test_unresolved_and_misfit_fields_fail_with_a_fix(self, tracker: Tracker) -> None:
        """An unknown name and a field of the wrong type each fail with what to do."""
        unknown, misfit = (
            field_check(
                "src",
                MappedRef("outputs.score_field", ref, "score"),
                tracker.fields,
                rules=tracker.rules,
                where=tracker.where,
                scales={},
            )
            for ref in ("Zzz", "Due")
        )
        assert (unknown.ok, unknown.fix) == (
            False,
            "`priosync setup` creates it, or use a name or id `priosync fields` lists",
        )
        assert (misfit.ok, misfit.fix) == (False, "map a field of the right type")
        assert "expected a number field" in misfit.detail


class TestOptions:
    def test_writes_send_option_ids_on_github_and_names_on_jira(self) -> None:
        """A Project option is written by its id; a Jira option by its name."""
        assert github_tracker().resolve("Team").option_id("high") == "opt1High"
        assert jira_tracker().resolve("Team").option_id("high") == "High"
        assert jira_tracker().resolve("Team").option_id("Urgent") is None
