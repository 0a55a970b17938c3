"""GitHub's part of field resolution (``connectors.fields``): type rules and field JSON.

A Project's fields and an organization's issue fields both become ``TrackerField``s: an id
(a Project field's node id, or an issue field's numeric id as text), a name, a kind and the
single-select options (name → option id for Projects, name → name for issue fields, which
are written by name). Ids compare exactly; messages name fields without their node ids.
Projects: https://docs.github.com/en/graphql/reference/objects#projectv2field — issue
fields: https://docs.github.com/en/rest/orgs/issue-fields (docs/tracker-apis.md §3.4, §3.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.fields import FieldKind, FieldMap, FieldRules, TrackerField

RULES = FieldRules(
    fits={
        "score": frozenset({"number"}),
        "rank": frozenset({"number"}),
        "explanation": frozenset({"text"}),
        "priority": frozenset({"select"}),
        "input": frozenset({"number", "text", "select"}),
    },
    expected={
        "score": "a number field",
        "rank": "a number field",
        "explanation": "a text field",
        "priority": "a single-select field",
        "input": "a number, single-select or text field",
    },
    ids_ignore_case=False,
    cite_ids=False,
)

_KINDS: dict[str, FieldKind] = {
    "number": "number",
    "text": "text",
    "single_select": "select",
    "date": "date",
}


def _field(field_id: str, name: str, data_type: str, options: Mapping[str, str]) -> TrackerField:
    # custom=True as GitHub fields were always listed (`priosync fields` puts custom first).
    kind = _KINDS.get(data_type.lower(), "other")
    return TrackerField(field_id, name, kind, type_name=data_type, custom=True, options=options)


def project_field_from_json(node: Mapping[str, Any]) -> TrackerField | None:
    """A ``TrackerField`` from one ``ProjectV2`` ``fields`` node (None for an empty node)."""
    if not node.get("id") or not node.get("name"):
        return None
    data_type = str(node.get("dataType") or "")
    options = {
        str(o["name"]): str(o["id"]) for o in node.get("options") or () if isinstance(o, Mapping)
    }
    return _field(str(node["id"]), str(node["name"]), data_type, options)


def issue_field_from_json(entry: Mapping[str, Any]) -> TrackerField:
    """A ``TrackerField`` from one ``/orgs/{org}/issue-fields`` entry."""
    data_type = str(entry.get("data_type") or "")
    options = {
        str(o["name"]): str(o["name"]) for o in entry.get("options") or () if isinstance(o, Mapping)
    }
    return _field(str(entry["id"]), str(entry["name"]), data_type, options)


def read_names(fields: FieldMap) -> list[str]:
    """The field names a Project item read asks values for: inputs and outputs, once each."""
    return list(dict.fromkeys(f.name for f in fields.mapped()))
