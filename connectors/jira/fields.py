"""Jira's part of field resolution (``connectors.fields``): its kinds, type rules and ``/field``.

Jira ids (``customfield_10050``, ``priority``) compare ignoring case; messages cite them,
since they are what a config gives when two fields share a name. Field schemas:
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from connectors.fields import FieldKind, FieldMap, FieldRules, TrackerField

#: Where messages say fields were looked up.
WHERE = "Jira"

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
_SELECT = {f"{_CF}select", f"{_CF}radiobuttons"}
_MULTISELECT = {f"{_CF}multiselect", f"{_CF}multicheckboxes"}
_TEXTAREA = {f"{_CF}textarea"}

RULES = FieldRules(
    fits={
        "score": frozenset({"number"}),
        "rank": frozenset({"number"}),
        "explanation": frozenset({"text", "textarea"}),
        "priority": frozenset({"priority", "select"}),
        "input": frozenset({"number", "select", "multiselect", "text", "textarea", "labels"}),
    },
    expected={
        "score": "a number field",
        "rank": "a number field",
        "explanation": "a text field",
        "priority": "the system priority or a single-select field",
        "input": "a number, select, multi-select or text field",
    },
    ids_ignore_case=True,
    cite_ids=True,
)


def field_from_json(data: Mapping[str, Any]) -> TrackerField:
    """A ``TrackerField`` from one ``/field`` entry (``FieldDetails``); options come later."""
    schema = data.get("schema") or {}
    return TrackerField(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        kind=kind_of(schema),
        type_name=str(schema.get("custom") or schema.get("system") or schema.get("type") or ""),
        custom=bool(data.get("custom", str(data["id"]).startswith("customfield_"))),
    )


def kind_of(schema: Mapping[str, Any]) -> FieldKind:
    """Classify a field schema into the kinds priosync decodes and writes."""
    custom = schema.get("custom")
    kind = schema.get("type")
    if custom in _SELECT or (kind == "option" and not custom):
        return "select"
    if custom in _MULTISELECT or (kind == "array" and schema.get("items") == "option"):
        return "multiselect"
    if custom in _TEXTAREA:
        return "textarea"
    if schema.get("system") == "labels":
        return "labels"
    by_type: dict[Any, FieldKind] = {"number": "number", "string": "text", "priority": "priority"}
    return by_type.get(kind, "other")


def with_options(
    fields: Sequence[TrackerField], options: Mapping[str, Sequence[str]]
) -> list[TrackerField]:
    """The fields with the option names ``editmeta`` allows (``/field`` lists none).

    Jira writes an option by its name (``{"value": …}``, ``{"name": …}``), so each option
    maps to itself.
    """
    return [
        replace(f, options={o: o for o in options[f.id]}) if f.id in options else f for f in fields
    ]


def read_field_ids(fields: FieldMap, *, history: bool = False) -> list[str]:
    """The field ids a read must ask for: these and nothing else (never ``*all``).

    With ``history`` (``[scoring.freshness]``) also ``created``: inputs never changed since
    have no changelog entry, so they last changed when the issue was created.
    """
    ids = ["summary", "labels", "updated", "assignee", *(["created"] if history else [])]
    ids += [f.id for f in fields.mapped()]
    return list(dict.fromkeys(ids))
