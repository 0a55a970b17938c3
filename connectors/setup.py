"""`priosync setup`: what the config's outputs need that a tracker lacks, as data; no I/O.

A setup is planned first and applied second. Planning is a pure comparison of the configured
outputs (``field_needs``, ``label_needs``) with what the tracker has (its fields with their
options, a repository's labels): each need the tracker already meets is *present*, each it
can be brought to meet is a ``SetupStep``, and each setup cannot meet (a field of the wrong
type, options Data Center cannot add over REST, a missing permission) is a ``SetupProblem``
with the fix a person can make. A tracker's own module (``connectors.jira.setup``,
``connectors.github.setup``) reads what it has, adds its own steps (Jira: put a field on the
edit screen), and applies the plan; applying stops at the first refusal and reports every
step it did not get to, so nothing is left half made without saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from config.models import OutputsConfig
from connectors.fields import (
    OUTPUT_SETTINGS,
    FieldRules,
    Role,
    TrackerField,
    output_refs,
    resolve_field,
    type_problem,
)
from priosync.errors import FieldMappingError

#: What kind of field an output needs, in the words every tracker maps to its own type.
NeedKind: TypeAlias = Literal["number", "text", "select"]
Action: TypeAlias = Literal["create-field", "add-options", "add-to-screen", "create-label"]

_KIND_OF_ROLE: dict[Role, NeedKind] = {
    "score": "number",
    "rank": "number",
    "explanation": "text",
    "priority": "select",
}
_WORDS: dict[NeedKind, str] = {"number": "number", "text": "text", "select": "single-select"}


@dataclass(frozen=True, slots=True)
class FieldNeed:
    """One output field the config names: the setting, the name, the kind, the options."""

    role: Role
    name: str
    kind: NeedKind
    #: For the priority select: the tier names, in order.
    options: tuple[str, ...] = ()

    @property
    def setting(self) -> str:
        return OUTPUT_SETTINGS[self.role]

    def describe(self) -> str:
        """``a number field 'RICE score' (outputs.score_field)``."""
        article = "an" if _WORDS[self.kind][0] in "aeiou" else "a"
        return f"{article} {_WORDS[self.kind]} field '{self.name}' ({self.setting})"


@dataclass(frozen=True, slots=True)
class SetupStep:
    """One thing setup will create or change, and what it needs to do it."""

    action: Action
    #: What the step makes: a field's or a label's name.
    target: str
    #: What it makes, in words: ``a number field 'RICE score' (outputs.score_field)``.
    detail: str
    kind: NeedKind | None = None
    options: tuple[str, ...] = ()
    #: The setting the step serves (``outputs.score_field``); empty for labels.
    setting: str = ""
    #: The field the step changes (add options, put on a screen), when it exists already.
    field_id: str | None = None
    #: Where: the repository of a label, the project of a screen.
    where: str = ""


@dataclass(frozen=True, slots=True)
class SetupProblem:
    """Something setup cannot do: what, why, and how a person fixes it."""

    what: str
    detail: str
    fix: str


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """One source's setup: where, what is there already, what to do, what only a person can."""

    source: str
    tracker: str
    present: tuple[str, ...] = ()
    steps: tuple[SetupStep, ...] = ()
    problems: tuple[SetupProblem, ...] = ()
    #: Steps setup would take but may not (a permission is missing; a problem says which).
    blocked: tuple[SetupStep, ...] = ()

    @property
    def complete(self) -> bool:
        """Nothing to do and nothing in the way: a second setup finds this."""
        return not self.steps and not self.problems and not self.blocked


@dataclass(frozen=True, slots=True)
class StepResult:
    """How one step went: done (with what it made, e.g. the new field's id) or refused."""

    step: SetupStep
    ok: bool
    detail: str = ""
    #: The tracker field the step made or changed, when it is about one.
    field_id: str | None = None


@dataclass
class SetupReport:
    """What applying a plan did: each step's result, and the steps never tried."""

    plan: SetupPlan
    results: list[StepResult] = field(default_factory=list)
    #: Why applying stopped early (the first refusal), if it did.
    stopped: str | None = None
    #: Problems found while applying (a created field edits still cannot reach, …).
    problems: list[SetupProblem] = field(default_factory=list)
    #: What applying did besides the steps (fields put on a project's own screen, …).
    notes: list[str] = field(default_factory=list)

    @property
    def not_done(self) -> list[SetupStep]:
        tried = {id(r.step) for r in self.results}
        return [s for s in self.plan.steps if id(s) not in tried]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.not_done and not self.problems


# ── what the config needs ────────────────────────────────────────────────────────────────


def field_needs(outputs: OutputsConfig) -> list[FieldNeed]:
    """The output fields the config names, in settings order, with the tiers as options."""
    refs = output_refs(outputs)
    if not outputs.priority:  # no tiers: nothing to write to a priority field
        refs["priority"] = None
    return [
        FieldNeed(
            role,
            ref,
            _KIND_OF_ROLE[role],
            tuple(c.name for c in outputs.priority) if role == "priority" else (),
        )
        for role, ref in refs.items()
        if ref
    ]


def label_needs(outputs: OutputsConfig) -> list[str]:
    """The labels priosync manages: one per roadmap bucket, and the needs-input label. (Their
    colour and description are the connector's to give when it creates them.)"""
    names = [outputs.bucket_label(c.name) for c in outputs.roadmap]
    if outputs.needs_input_label:
        names.append(outputs.needs_input_label)
    return list(dict.fromkeys(names))


# ── comparing with what the tracker has ──────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """What ``compare_fields`` found: fields there, steps to take, problems, and the matches."""

    #: Need → the line that says the tracker meets it already, in needs order.
    present: dict[FieldNeed, str]
    steps: list[SetupStep]
    problems: list[SetupProblem]
    #: Need → the tracker field that meets it (or will, once its steps are done).
    found: dict[FieldNeed, TrackerField]


def compare_fields(
    needs: Sequence[FieldNeed],
    fields: Sequence[TrackerField],
    *,
    rules: FieldRules,
    where: str,
    options_known: bool = True,
    looks_like_id: Callable[[str], bool] = lambda ref: False,
) -> FieldComparison:
    """Match each need to the tracker's fields by the shared resolution rule.

    A need with no field of that name is a ``create-field`` step; a field of a kind the role
    cannot use, or a name several fields share, is a problem (setup never renames or
    deletes); a select missing some tier names is an ``add-options`` step (the system
    priority's values are a site setting: a problem). ``options_known=False`` says the
    fields' options could not be read, so option coverage is not judged here. A reference
    that ``looks_like_id`` and matches nothing is a problem, not a field to create.
    """
    present: dict[FieldNeed, str] = {}
    steps: list[SetupStep] = []
    problems: list[SetupProblem] = []
    found: dict[FieldNeed, TrackerField] = {}
    for need in needs:
        try:
            match = resolve_field(need.name, fields, rules=rules, what=need.setting, where=where)
        except FieldMappingError as exc:
            if exc.ambiguous:
                problems.append(
                    SetupProblem(need.setting, str(exc), f"set {need.setting} to one field's id")
                )
            elif looks_like_id(need.name):
                problems.append(
                    SetupProblem(
                        need.setting,
                        f"{where} has no field with the id '{need.name}'",
                        f"set {need.setting} to a field name; setup creates fields by name",
                    )
                )
            else:
                steps.append(
                    SetupStep(
                        "create-field",
                        need.name,
                        need.describe()
                        + (f" with options {', '.join(need.options)}" if need.options else ""),
                        kind=need.kind,
                        options=need.options,
                        setting=need.setting,
                    )
                )
            continue
        wrong = type_problem(match, need.role, rules=rules)
        if wrong:
            problems.append(
                SetupProblem(
                    need.setting,
                    wrong,
                    f"point {need.setting} at a field of the right type, or rename "
                    f"'{match.name}' in the tracker so setup can create one",
                )
            )
            continue
        found[need] = match
        missing = missing_options(match, need) if options_known else []
        if not missing:
            present[need] = f"{match.name} ({match.kind} field)"
        elif match.kind == "priority":
            problems.append(
                SetupProblem(
                    need.setting,
                    f"the priority field has no value {', '.join(missing)}",
                    "add the priorities in the tracker's settings (an administrator), or "
                    "rename the tiers in [outputs] priority to priorities it has",
                )
            )
        else:
            steps.append(
                SetupStep(
                    "add-options",
                    match.name,
                    f"options {', '.join(missing)} to '{match.name}' ({need.setting})",
                    kind=need.kind,
                    options=tuple(missing),
                    setting=need.setting,
                    field_id=match.id,
                )
            )
    return FieldComparison(present, steps, problems, found)


def missing_options(found: TrackerField, need: FieldNeed) -> list[str]:
    """The tier names the field has no option for (case-insensitive)."""
    return [o for o in need.options if found.option_id(o) is None]


def compare_labels(
    needs: Sequence[str], existing: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[SetupStep]]:
    """Per repository (``existing``: repository → its label names), the labels to create."""
    present: list[str] = []
    steps: list[SetupStep] = []
    for repo, names in existing.items():
        have = {n.casefold() for n in names}
        missing = [n for n in needs if n.casefold() not in have]
        if len(missing) < len(needs):
            present.append(f"{repo}: {len(needs) - len(missing)} of {len(needs)} labels")
        steps += [SetupStep("create-label", n, f"'{n}' in {repo}", where=repo) for n in missing]
    return present, steps
