"""Domain types shared by every layer (design §3).

Frozen dataclasses, no behaviour beyond small derived properties, no I/O. Pydantic lives at
the boundaries (config, webhook bodies); these are what flows between connectors, scoring
and sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from priosync.compact import EMPTY_MAPPING
from priosync.errors import PriosyncError

#: A value as a tracker holds it, before decoding: a number, a string (a select option's
#: name, "1,200", "80%"), a list (multi-select), or None when the field is empty.
RawValue: TypeAlias = str | int | float | bool | list["RawValue"] | None

ModelName: TypeAlias = Literal["rice", "ice", "ice-avg", "wsjf", "formula"]


# ── scoring rules (built from config, consumed by the pure scoring layer) ────────────────


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How to turn an item's inputs into a score."""

    model: ModelName
    #: Model input names (reach, impact, …) in the order the model uses them.
    inputs: tuple[str, ...]
    #: Per input: option name → number (select options, t-shirt sizes). Matched case-insensitively.
    scales: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: Inputs read as fractions: "80%" and 80 both become 0.8 (RICE confidence by default).
    percent_inputs: frozenset[str] = frozenset()
    #: The expression for ``model = "formula"``.
    formula: str | None = None
    decimals: int = 1
    #: The input whose value is an item's size for ``capacity`` buckets (RICE/WSJF effort).
    effort_input: str | None = None


@dataclass(frozen=True, slots=True)
class Cut:
    """One priority tier or roadmap bucket; the first whose condition matches wins.

    Exactly one of ``min_score``, ``top``, ``top_percent``, ``capacity`` is set, or none for
    the catch-all.
    """

    name: str
    min_score: float | None = None
    top: int | None = None
    top_percent: float | None = None
    capacity: float | None = None


# ── what connectors read ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Link:
    """A blocking dependency to another item, as the tracker showed it (Jira "Blocks" links,
    GitHub issue dependencies, a Jira CSV export's issue-link columns)."""

    #: The other item's key, as WorkItem keys are written (``WEB-12``, ``acme/app#7``).
    key: str
    #: The other item is done or closed (Jira status category Done, a closed GitHub issue).
    done: bool = False


@dataclass(frozen=True, slots=True)
class Outputs:
    """The values priosync owns on an item.

    In ``WorkItem.current`` ``labels`` holds every label the item carries (human ones too);
    in a ``Change`` it holds only the labels priosync owns (the prefix and needs-input).
    """

    score: float | None = None
    priority: str | None = None
    labels: frozenset[str] = frozenset()
    explanation: str | None = None
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One backlog item as a connector read it."""

    key: str
    title: str
    url: str
    source: str
    #: Raw values by model input name (reach, impact, …); an input the tracker lacks is absent.
    inputs: Mapping[str, RawValue]
    current: Outputs = Outputs()
    updated_at: datetime | None = None
    #: False where the tracker cannot put labels on the item (GitHub draft issues): the
    #: planner then plans no label changes for it, so it never shows as pending.
    labelable: bool = True
    #: Connector-private handle (Jira issue id, GitHub project item / node ids). Opaque to all else.
    handle: Any = None
    #: The id a tracker's webhooks name this item by when it is not ``key`` (a GitHub
    #: Project item's node id), so a delivery can be traced to the item it is about.
    ref: str | None = None
    #: Owned fields whose value could not be read as ``current`` says (a score field holding
    #: text): the raw value, so the audit log records exactly what a write replaced.
    held: Mapping[str, RawValue] = field(default_factory=lambda: EMPTY_MAPPING)
    #: Dependencies, read only with ``[scoring] dependencies = "lift"``: the items this one
    #: blocks and the items blocking it; either side of a link is enough (``scoring.dependencies``).
    blocks: tuple[Link, ...] = ()
    blocked_by: tuple[Link, ...] = ()
    #: Done or closed: such an item blocks nothing and waits for nothing.
    done: bool = False


# ── what scoring produces ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Missing:
    """An input that is absent or could not be read, with a reason a PM can act on."""

    input: str
    reason: str
    #: The select option that has no number in the input's scale, when that is the reason.
    option: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A model's verdict on one item. ``value is None`` means it cannot be ranked."""

    value: float | None
    terms: Mapping[str, float] = field(default_factory=dict)
    missing: tuple[Missing, ...] = ()
    #: One line: "RICE 500×2×0.8/3 = 266.7"; empty when unscored.
    explanation: str = ""
    #: Notes that did not stop scoring ("Impact: list had 2 values, used the first").
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RankedItem:
    """An item with its score and place. Unscored items have rank, tier and bucket None."""

    item: WorkItem
    score: Score
    rank: int | None = None
    tier: str | None = None
    bucket: str | None = None
    #: How many items were ranked alongside (the N of "rank 3 of N").
    of: int = 0
    #: Dependency lifting (``scoring.dependencies``): the keys of the items this one blocks
    #: that lifted it above its own place, in rank order.
    lifted_by: tuple[str, ...] = ()
    #: The keys of the dependency cycle this item is in (itself included, in rank order);
    #: a cycle's links are ignored for lifting.
    cycle: tuple[str, ...] = ()
    #: Open blockers that are not in this ranking (another source, unscored): shown, not ranked.
    blocked_outside: tuple[str, ...] = ()
    #: The tier and bucket the item would have without lifting, when lifting changed either.
    without_lift: tuple[str | None, str | None] | None = None


# ── what sync plans and writes ───────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Change:
    """What priosync will write to one item, and why, in one line."""

    key: str
    source: str
    url: str
    before: Outputs
    after: Outputs
    reason: str
    item: WorkItem | None = None

    @property
    def labels_to_add(self) -> frozenset[str]:
        return self.after.labels - self.before.labels

    @property
    def labels_to_remove(self) -> frozenset[str]:
        return self.before.labels - self.after.labels


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item priosync did not score, and why."""

    key: str
    source: str
    missing: tuple[Missing, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one sync would write, plus what it left alone."""

    changes: tuple[Change, ...] = ()
    unchanged: int = 0
    skipped: tuple[Skipped, ...] = ()
    ranking: tuple[RankedItem, ...] = ()
    #: Problems `check` would report that change what this plan writes, one line each.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How one change fared: ``error`` is None when it landed.

    The error stays an object up to the edge that shows it, so whoever decides (the exit
    code, a retry, a stop) decides on its type, never on its text.
    """

    change: Change
    error: PriosyncError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ── what connectors describe about their tracker ─────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A tracker field, for `priosync fields` and mapping checks."""

    id: str
    name: str
    type: str
    options: tuple[str, ...] = ()
    custom: bool = True


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of `priosync check`: what was checked, whether it is fine, how to fix it."""

    what: str
    ok: bool
    detail: str = ""
    fix: str = ""
