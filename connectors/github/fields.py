"""Resolve configured field names against a Project's fields or the org's issue fields; no I/O.

Both kinds become one ``GitHubField``: an id (a Project field's node id, or an issue field's
numeric id as text), a name, a kind and the single-select options by name. Names match
case-insensitively (config may also give the id); an unknown name lists the closest names.
Projects: https://docs.github.com/en/graphql/reference/objects#projectv2field — issue
fields: https://docs.github.com/en/rest/orgs/issue-fields (docs/tracker-apis.md §3.4, §3.5).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from priosync.errors import FieldMappingError

FieldKind: TypeAlias = Literal["number", "text", "single_select", "date", "other"]
Role: TypeAlias = Literal["score", "rank", "explanation", "priority", "input"]

_FITS: dict[Role, frozenset[FieldKind]] = {
    "score": frozenset({"number"}),
    "rank": frozenset({"number"}),
    "explanation": frozenset({"text"}),
    "priority": frozenset({"single_select"}),
    "input": frozenset({"number", "text", "single_select"}),
}
_EXPECTED: dict[Role, str] = {
    "score": "a number field",
    "rank": "a number field",
    "explanation": "a text field",
    "priority": "a single-select field",
    "input": "a number, single-select or text field",
}
OUTPUT_SETTINGS: dict[Role, str] = {
    "score": "outputs.score_field",
    "priority": "outputs.priority_field",
    "explanation": "outputs.explain_field",
    "rank": "outputs.rank_field",
}


@dataclass(frozen=True, slots=True)
class GitHubField:
    """A Project field or an organization issue field, reduced to what priosync needs."""

    id: str
    name: str
    kind: FieldKind
    #: Single-select option name → option id (Projects) or the name itself (issue fields).
    options: Mapping[str, str] = field(default_factory=dict)
    type_name: str = ""

    def option_id(self, name: str) -> str | None:
        """The id of the option called ``name`` (case-insensitive), or None."""
        for option, option_id in self.options.items():
            if option.casefold() == name.casefold():
                return option_id
        return None


def _kind(data_type: str) -> FieldKind:
    lowered = data_type.lower()
    return lowered if lowered in ("number", "text", "single_select", "date") else "other"  # type: ignore[return-value]


def project_field_from_json(node: Mapping[str, Any]) -> GitHubField | None:
    """A ``GitHubField`` from one ``ProjectV2`` ``fields`` node (None for an empty node)."""
    if not node.get("id") or not node.get("name"):
        return None
    data_type = str(node.get("dataType") or "")
    options = {
        str(o["name"]): str(o["id"]) for o in node.get("options") or () if isinstance(o, Mapping)
    }
    return GitHubField(str(node["id"]), str(node["name"]), _kind(data_type), options, data_type)


def issue_field_from_json(entry: Mapping[str, Any]) -> GitHubField:
    """A ``GitHubField`` from one ``/orgs/{org}/issue-fields`` entry."""
    data_type = str(entry.get("data_type") or "")
    options = {
        str(o["name"]): str(o["name"]) for o in entry.get("options") or () if isinstance(o, Mapping)
    }
    return GitHubField(str(entry["id"]), str(entry["name"]), _kind(data_type), options, data_type)


def closest_names(needle: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """Up to ``limit`` names resembling ``needle``, closest first (case-insensitive)."""
    by_lower: dict[str, str] = {}
    for name in names:
        by_lower.setdefault(name.lower(), name)
    matches = difflib.get_close_matches(needle.lower(), list(by_lower), n=limit, cutoff=0.5)
    return [by_lower[m] for m in matches]


def resolve_field(ref: str, fields: Sequence[GitHubField], *, what: str, where: str) -> GitHubField:
    """The one field ``ref`` names (an id, else a case-insensitive name).

    ``where`` names the place looked in ("Project acme/1") for the message; an unknown
    name raises ``FieldMappingError`` with the closest names.
    """
    needle = ref.strip()
    for candidate in fields:
        if candidate.id == needle:
            return candidate
    named = [f for f in fields if f.name.casefold() == needle.casefold()]
    exact = [f for f in named if f.name == needle]
    if len(named) == 1 or len(exact) == 1:
        return exact[0] if exact else named[0]
    if named:
        raise FieldMappingError(
            f"{what}: {len(named)} fields of {where} are named '{ref}'; use the id instead",
            field=ref,
            candidates=[f.id for f in named],
        )
    close = closest_names(needle, (f.name for f in fields))
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise FieldMappingError(
        f"{what}: {where} has no field named '{ref}'{hint} (`priosync fields` lists them all)",
        field=ref,
        candidates=close,
    )


def type_problem(found: GitHubField, role: Role) -> str | None:
    """Why ``found`` cannot hold the ``role``'s value, or None when it fits."""
    if found.kind in _FITS[role]:
        return None
    return f"'{found.name}' is {found.type_name or found.kind}; expected {_EXPECTED[role]}"


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Every field one source reads or writes, resolved."""

    inputs: Mapping[str, GitHubField]
    score: GitHubField | None = None
    priority: GitHubField | None = None
    explanation: GitHubField | None = None
    rank: GitHubField | None = None

    def outputs(self) -> dict[Role, GitHubField]:
        """Owned output role → field, for the configured outputs only."""
        pairs: dict[Role, GitHubField | None] = {
            "score": self.score,
            "priority": self.priority,
            "explanation": self.explanation,
            "rank": self.rank,
        }
        return {role: f for role, f in pairs.items() if f is not None}

    def read_names(self) -> list[str]:
        """The field names an item read asks values for: inputs and outputs, once each."""
        names = [f.name for f in self.inputs.values()] + [f.name for f in self.outputs().values()]
        return list(dict.fromkeys(names))


def resolve_field_map(
    *,
    inputs: Mapping[str, str],
    outputs: Mapping[Role, str | None],
    fields: Sequence[GitHubField],
    where: str,
) -> FieldMap:
    """Resolve input and output references; raise the first ``FieldMappingError``."""
    resolved_inputs = {
        name: resolve_field(ref, fields, what=f"scoring.inputs.{name}", where=where)
        for name, ref in inputs.items()
    }
    for name, found in resolved_inputs.items():
        problem = type_problem(found, "input")
        if problem:
            raise FieldMappingError(f"scoring.inputs.{name}: {problem}", field=inputs[name])
    resolved: dict[Role, GitHubField] = {}
    for role, ref in outputs.items():
        if ref is None:
            continue
        what = OUTPUT_SETTINGS[role]
        found = resolve_field(ref, fields, what=what, where=where)
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


def uncovered_options(found: GitHubField, scale: Mapping[str, float]) -> list[str]:
    """Options of a single-select input that the configured scale gives no number."""
    known = {k.casefold() for k in scale}
    return [o for o in found.options if o.casefold() not in known]
