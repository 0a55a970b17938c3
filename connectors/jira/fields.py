"""Resolve configured field names or ids against Jira's ``/field`` list; no I/O.

Config may name a field (``"Reach"``) or give its id (``"customfield_10050"``). Names are
matched case-insensitively; a name two fields share is ambiguous and must be given as an
id; an unknown name is reported with the closest names Jira has. Field schemas:
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from priosync.errors import FieldMappingError

FieldKind: TypeAlias = Literal[
    "number", "select", "multiselect", "text", "textarea", "priority", "labels", "other"
]
#: What an owned output needs its field to be.
Role: TypeAlias = Literal["score", "rank", "explanation", "priority", "input"]

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
_SELECT = {f"{_CF}select", f"{_CF}radiobuttons"}
_MULTISELECT = {f"{_CF}multiselect", f"{_CF}multicheckboxes"}
_TEXTAREA = {f"{_CF}textarea"}
_FITS: dict[Role, frozenset[FieldKind]] = {
    "score": frozenset({"number"}),
    "rank": frozenset({"number"}),
    "explanation": frozenset({"text", "textarea"}),
    "priority": frozenset({"priority", "select"}),
    "input": frozenset({"number", "select", "multiselect", "text", "textarea", "labels"}),
}
_EXPECTED: dict[Role, str] = {
    "score": "a number field",
    "rank": "a number field",
    "explanation": "a text field",
    "priority": "the system priority or a single-select field",
    "input": "a number, select, multi-select or text field",
}


@dataclass(frozen=True, slots=True)
class JiraField:
    """A Jira field as ``/field`` describes it, reduced to what priosync needs."""

    id: str
    name: str
    kind: FieldKind
    custom: bool = False
    type_name: str = ""
    options: tuple[str, ...] = field(default=())


def field_from_json(data: Mapping[str, Any]) -> JiraField:
    """A ``JiraField`` from one ``/field`` entry (``FieldDetails``)."""
    schema = data.get("schema") or {}
    return JiraField(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        kind=kind_of(schema),
        custom=bool(data.get("custom", str(data["id"]).startswith("customfield_"))),
        type_name=str(schema.get("custom") or schema.get("system") or schema.get("type") or ""),
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


def resolve_field(ref: str, fields: Sequence[JiraField], *, what: str) -> JiraField:
    """The one field ``ref`` names: an exact id, else a unique case-insensitive name.

    Raises ``FieldMappingError`` listing both ids for a shared name, and the closest names
    for an unknown one. ``what`` says which setting named it (``outputs.score_field``).
    """
    needle = ref.strip()
    for candidate in fields:
        if candidate.id.lower() == needle.lower():
            return candidate
    named = [f for f in fields if f.name.lower() == needle.lower()]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(f"{f.id} ({f.type_name or f.kind})" for f in named)
        raise FieldMappingError(
            f"{what}: {len(named)} Jira fields are named '{ref}': {ids}; use the id instead",
            field=ref,
            candidates=[f.id for f in named],
        )
    close = closest_names(needle, (f.name for f in fields))
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise FieldMappingError(
        f"{what}: Jira has no field named '{ref}'{hint} (`priosync fields` lists them all)",
        field=ref,
        candidates=close,
    )


def closest_names(needle: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """Up to ``limit`` names resembling ``needle``, closest first (case-insensitive)."""
    by_lower: dict[str, str] = {}
    for name in names:
        by_lower.setdefault(name.lower(), name)
    matches = difflib.get_close_matches(needle.lower(), list(by_lower), n=limit, cutoff=0.5)
    return [by_lower[m] for m in matches]


def type_problem(jira_field: JiraField, role: Role) -> str | None:
    """Why ``jira_field`` cannot hold the ``role``'s value, or None when it fits."""
    if jira_field.kind in _FITS[role]:
        return None
    return (
        f"'{jira_field.name}' ({jira_field.id}) is {jira_field.type_name or jira_field.kind}; "
        f"expected {_EXPECTED[role]}"
    )


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Every field one source reads or writes, resolved to Jira fields."""

    inputs: Mapping[str, JiraField]
    score: JiraField | None = None
    priority: JiraField | None = None
    explanation: JiraField | None = None
    rank: JiraField | None = None

    def outputs(self) -> dict[str, JiraField]:
        """Owned output role → field, for the configured outputs only."""
        pairs: dict[str, JiraField | None] = {
            "score": self.score,
            "priority": self.priority,
            "explanation": self.explanation,
            "rank": self.rank,
        }
        return {role: f for role, f in pairs.items() if f is not None}

    def read_field_ids(self) -> list[str]:
        """The field ids a read must ask for: these and nothing else (never ``*all``)."""
        ids = ["summary", "labels", "updated", "assignee"]
        ids += [f.id for f in self.inputs.values()]
        ids += [f.id for f in self.outputs().values()]
        return list(dict.fromkeys(ids))


OUTPUT_SETTINGS: dict[Role, str] = {
    "score": "outputs.score_field",
    "priority": "outputs.priority_field",
    "explanation": "outputs.explain_field",
    "rank": "outputs.rank_field",
}


def resolve_field_map(
    *,
    inputs: Mapping[str, str],
    outputs: Mapping[Role, str | None],
    fields: Sequence[JiraField],
) -> FieldMap:
    """Resolve input and output references; raise the first ``FieldMappingError``.

    ``outputs`` maps a role (score, priority, explanation, rank) to its configured name or
    id. A field that exists but cannot hold an output's value is a ``FieldMappingError`` too.
    """
    resolved_inputs = {
        name: resolve_field(ref, fields, what=f"scoring.inputs.{name}")
        for name, ref in inputs.items()
    }
    resolved: dict[str, JiraField] = {}
    for role, ref in outputs.items():
        if ref is None:
            continue
        what = OUTPUT_SETTINGS.get(role, role)
        found = resolve_field(ref, fields, what=what)
        problem = type_problem(found, role)
        if problem:
            raise FieldMappingError(f"{what}: {problem}", field=ref, candidates=[found.id])
        resolved[role] = found
    return FieldMap(
        inputs=resolved_inputs,
        score=resolved.get("score"),
        priority=resolved.get("priority"),
        explanation=resolved.get("explanation"),
        rank=resolved.get("rank"),
    )
