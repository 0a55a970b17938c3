"""Resolve configured field names or ids against a tracker's fields, one rule for all; no I/O.

Config may name a field (``"Reach"``) or give its id (``"customfield_10050"``, a Project
field's node id). The rule, the same for every tracker:

1. a field whose id is exactly ``ref`` wins;
2. else, where the tracker's ids ignore case (Jira's ``customfield_10050``, ``summary``), an
   id equal to ``ref`` ignoring case;
3. else the fields whose name equals ``ref`` ignoring case: one is the answer; of several,
   the one whose name matches in case too, if exactly one does; otherwise the name is
   ambiguous and a ``FieldMappingError`` lists the candidates' ids (give the id instead);
4. else a ``FieldMappingError`` lists up to three closest names.

A tracker supplies only its ``FieldRules``: which kinds fit which role, how to say what a
role expects, whether its ids ignore case. It parses its own field JSON into ``TrackerField``s,
single-select options included (name → what a write sends: an option id, or the name).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from config.models import OutputsConfig
from priosync.domain import CheckResult, FieldInfo
from priosync.errors import FieldMappingError
from scoring import METRIC_INPUT

FieldKind: TypeAlias = Literal[
    "number", "select", "multiselect", "text", "textarea", "priority", "labels", "date", "other"
]
#: What a mapped field is for: an owned output, or a scoring input.
Role: TypeAlias = Literal["score", "rank", "explanation", "priority", "input"]

#: The setting that names each owned output's field, for messages.
OUTPUT_SETTINGS: dict[Role, str] = {
    "score": "outputs.score_field",
    "priority": "outputs.priority_field",
    "explanation": "outputs.explain_field",
    "rank": "outputs.rank_field",
}
#: Kinds whose options an input's scale must give a number.
OPTION_KINDS: frozenset[FieldKind] = frozenset({"select", "multiselect"})


@dataclass(frozen=True, slots=True)
class TrackerField:
    """A tracker's field reduced to what priosync needs to resolve, read and write it."""

    id: str
    name: str
    kind: FieldKind
    #: The tracker's own type name (a Jira schema type, a GitHub ``dataType``), for messages.
    type_name: str = ""
    custom: bool = False
    #: Option name → what a write sends for it: a Project option's id, else the name itself.
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def type_label(self) -> str:
        """The type as messages show it: the tracker's name for it, else priosync's kind."""
        return self.type_name or self.kind

    def option_id(self, name: str) -> str | None:
        """What a write sends for the option called ``name`` (case-insensitive), or None."""
        for option, option_id in self.options.items():
            if option.casefold() == name.casefold():
                return option_id
        return None

    def info(self) -> FieldInfo:
        """The field as `priosync fields` lists it."""
        return FieldInfo(
            id=self.id,
            name=self.name,
            type=self.type_label,
            options=tuple(self.options),
            custom=self.custom,
        )


@dataclass(frozen=True, slots=True)
class FieldRules:
    """One tracker's part of field resolution: kinds per role, and how its ids compare."""

    #: Role → the kinds a field may have to hold that role's value.
    fits: Mapping[Role, frozenset[FieldKind]]
    #: Role → what a fitting field is, in words ("a number field").
    expected: Mapping[Role, str]
    #: Whether ids match ignoring case (Jira's do; GitHub's node ids do not).
    ids_ignore_case: bool
    #: Whether messages name a field with its id (Jira's ids are what people configure;
    #: GitHub's node ids are noise outside an ambiguity).
    cite_ids: bool


# ── resolution ───────────────────────────────────────────────────────────────────────────


def resolve_field(
    ref: str, fields: Sequence[TrackerField], *, rules: FieldRules, what: str, where: str
) -> TrackerField:
    """The one field ``ref`` names by the module's rule, else a ``FieldMappingError``.

    ``what`` is the setting that names it (``outputs.score_field``), ``where`` the place
    looked in (``Jira``, ``Project acme/1``), both for the message.
    """
    needle = ref.strip()
    for candidate in fields:
        if candidate.id == needle:
            return candidate
    if rules.ids_ignore_case:
        for candidate in fields:
            if candidate.id.casefold() == needle.casefold():
                return candidate
    named = fields_named(fields, needle)
    exact = [f for f in named if f.name == needle]
    if len(named) == 1:
        return named[0]
    if len(exact) == 1:
        return exact[0]
    if named:
        shared = exact or named
        ids = ", ".join(f"{f.id} ({f.type_label})" for f in shared)
        raise FieldMappingError(
            f"{what}: {where} has {len(shared)} fields named '{ref}': {ids}; use the id instead",
            field=ref,
            candidates=[f.id for f in shared],
            ambiguous=True,
        )
    close = closest_names(needle, (f.name for f in fields))
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise FieldMappingError(
        f"{what}: {where} has no field named '{ref}'{hint} (`priosync fields` lists them all)",
        field=ref,
        candidates=close,
    )


def fields_named(fields: Iterable[TrackerField], name: str) -> list[TrackerField]:
    """The fields carrying ``name``, ignoring case (Jira and GitHub allow several)."""
    folded = name.casefold()
    return [f for f in fields if f.name.casefold() == folded]


def closest_names(needle: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """Up to ``limit`` names resembling ``needle``, closest first (case-insensitive)."""
    by_folded: dict[str, str] = {}
    for name in names:
        by_folded.setdefault(name.casefold(), name)
    matches = difflib.get_close_matches(needle.casefold(), list(by_folded), n=limit, cutoff=0.5)
    return [by_folded[m] for m in matches]


def type_problem(found: TrackerField, role: Role, *, rules: FieldRules) -> str | None:
    """Why ``found`` cannot hold the ``role``'s value, or None when it fits."""
    if found.kind in rules.fits[role]:
        return None
    return f"{_named(found, rules)} is {found.type_label}; expected {rules.expected[role]}"


def _named(found: TrackerField, rules: FieldRules) -> str:
    return f"'{found.name}' ({found.id})" if rules.cite_ids else f"'{found.name}'"


# ── the field map ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Every field one source reads or writes, resolved."""

    inputs: Mapping[str, TrackerField]
    score: TrackerField | None = None
    priority: TrackerField | None = None
    explanation: TrackerField | None = None
    rank: TrackerField | None = None

    def outputs(self) -> dict[Role, TrackerField]:
        """Owned output role → field, for the configured outputs only."""
        pairs: dict[Role, TrackerField | None] = {
            "score": self.score,
            "priority": self.priority,
            "explanation": self.explanation,
            "rank": self.rank,
        }
        return {role: f for role, f in pairs.items() if f is not None}

    def mapped(self) -> list[TrackerField]:
        """Inputs then outputs, each field once, in that order."""
        fields = [*self.inputs.values(), *self.outputs().values()]
        return list({f.id: f for f in fields}.values())


def output_refs(outputs: OutputsConfig) -> dict[Role, str | None]:
    """Owned output role → the configured field name or id (None when not configured)."""
    return {
        "score": outputs.score_field,
        "priority": outputs.priority_field,
        "explanation": outputs.explain_field,
        "rank": outputs.rank_field,
    }


def resolve_field_map(
    *,
    inputs: Mapping[str, str],
    outputs: Mapping[Role, str | None],
    fields: Sequence[TrackerField],
    rules: FieldRules,
    where: str,
) -> FieldMap:
    """Resolve input and output references; raise the first ``FieldMappingError``.

    A field that exists but cannot hold its input's or output's value is one too.
    """
    resolved_inputs: dict[str, TrackerField] = {}
    resolved_outputs: dict[Role, TrackerField] = {}
    for mapped in mapped_refs(inputs, outputs):
        found = resolve_field(mapped.ref, fields, rules=rules, what=mapped.what, where=where)
        problem = type_problem(found, mapped.role, rules=rules)
        if problem:
            raise FieldMappingError(
                f"{mapped.what}: {problem}", field=mapped.ref, candidates=[found.id]
            )
        if mapped.input is not None:
            resolved_inputs[mapped.input] = found
        else:
            resolved_outputs[mapped.role] = found
    return FieldMap(
        inputs=resolved_inputs,
        score=resolved_outputs.get("score"),
        priority=resolved_outputs.get("priority"),
        explanation=resolved_outputs.get("explanation"),
        rank=resolved_outputs.get("rank"),
    )


# ── check lines ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class MappedRef:
    """One configured field reference: the setting, its value, the role, the input name."""

    what: str
    ref: str
    role: Role
    #: The scoring input it feeds (its scale covers the options); None for outputs.
    input: str | None = None


def mapped_refs(inputs: Mapping[str, str], outputs: Mapping[Role, str | None]) -> list[MappedRef]:
    """Every configured reference, inputs first, then the configured outputs."""
    refs = [MappedRef(_setting(name), ref, "input", name) for name, ref in inputs.items()]
    refs += [
        MappedRef(OUTPUT_SETTINGS[role], ref, role)
        for role, ref in outputs.items()
        if ref is not None
    ]
    return refs


def _setting(input_name: str) -> str:
    """The setting naming an input's field (the key metric's is ``scoring.metrics.field``)."""
    return "scoring.metrics.field" if input_name == METRIC_INPUT else f"scoring.inputs.{input_name}"


def field_checks(
    source: str,
    *,
    inputs: Mapping[str, str],
    outputs: OutputsConfig,
    fields: Sequence[TrackerField],
    rules: FieldRules,
    where: str,
    scales: Mapping[str, Mapping[str, float]],
) -> list[CheckResult]:
    """The `priosync check` lines of every mapped field, inputs first (``field_check``)."""
    return [
        field_check(source, mapped, fields, rules=rules, where=where, scales=scales)
        for mapped in mapped_refs(inputs, output_refs(outputs))
    ]


def field_check(
    source: str,
    mapped: MappedRef,
    fields: Sequence[TrackerField],
    *,
    rules: FieldRules,
    where: str,
    scales: Mapping[str, Mapping[str, float]],
) -> CheckResult:
    """The `priosync check` line of one mapped field: resolves, fits, options have numbers."""
    label = f"{source}: {mapped.what} = '{mapped.ref}'"
    try:
        found = resolve_field(mapped.ref, fields, rules=rules, what=mapped.what, where=where)
    except FieldMappingError as exc:
        fix = "use a name or id `priosync fields` lists"
        if mapped.input is None and not exc.ambiguous:
            fix = f"`priosync setup` creates it, or {fix}"  # an output the tracker lacks
        return CheckResult(label, False, str(exc), fix)
    problem = type_problem(found, mapped.role, rules=rules)
    if problem:
        return CheckResult(label, False, problem, "map a field of the right type")
    shown = f"{found.id}, {found.type_label}" if rules.cite_ids else found.type_label
    detail = f"{found.name} ({shown})"
    if mapped.input is not None and found.kind in OPTION_KINDS:
        uncovered = uncovered_options(found, scales.get(mapped.input, {}))
        if uncovered and mapped.input == METRIC_INPUT:
            return CheckResult(
                label,
                False,
                f"{detail}: options without a weight: {', '.join(uncovered)}",
                "add them to [scoring.metrics] weights (items naming them cannot be scored)",
            )
        if uncovered:
            return CheckResult(
                label,
                False,
                f"{detail}: options without a number in scales.{mapped.input}: "
                f"{', '.join(uncovered)}",
                f"add them to [scoring] scales.{mapped.input}",
            )
    return CheckResult(label, True, detail)


def uncovered_options(found: TrackerField, scale: Mapping[str, float]) -> list[str]:
    """Options of a select input that the configured scale gives no number."""
    known = {k.casefold() for k in scale}
    return [o for o in found.options if o.casefold() not in known]
