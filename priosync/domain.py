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

from priosync.compact import EMPTY_MAPPING, compact_row, shared_text
from priosync.errors import PriosyncError

#: A value as a tracker holds it, before decoding: a number, a string (a select option's
#: name, "1,200", "80%"), a list (multi-select), or None when the field is empty.
RawValue: TypeAlias = str | int | float | bool | list["RawValue"] | None

ModelName: TypeAlias = Literal["rice", "ice", "ice-avg", "wsjf", "formula"]

#: A point in time (timezone-aware). Named here so the pure scoring layer, which imports no
#: clock module, can take the reference time it is given.
Timestamp: TypeAlias = datetime


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
    #: Weigh each score by the key metric its item moves (``[scoring.metrics]``).
    metrics: MetricSpec | None = None
    #: Flag (and optionally discount) items whose inputs are old (``[scoring.freshness]``).
    freshness: FreshnessSpec | None = None


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """The key metrics this quarter and how much each matters: score × the metric's weight."""

    #: Metric name → weight, as configured; names match case-insensitively.
    weights: Mapping[str, float]
    #: The weight of an item that names no metric; None makes naming one required.
    default: float | None = 1.0
    #: Labels starting with this name the metric (``metric:retention``); None: a field does.
    label_prefix: str | None = None
    #: Metric name → the share of each bucket's capacity it should get (0–1), for reports.
    targets: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FreshnessSpec:
    """When an item's inputs count as stale, and what that does to its score."""

    review_after_days: int
    #: Multiply the confidence input by this while stale; None leaves the score alone.
    confidence_decay: float | None = None


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
    #: Who the item is assigned to, as the tracker names them (Jira's display name, GitHub
    #: logins joined by ", "); None when unassigned. Shown in reports so a PM knows whom to ask.
    assignee: str | None = None
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
    #: When the scoring inputs last changed, where known (read only with ``[scoring.freshness]``).
    inputs_changed: InputsChanged | None = None
    #: When the item was created, where the connector read it (inputs set then and never
    #: changed have no history entry: they last changed at creation).
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        # Held compactly whatever the connector built: the inputs as a priosync.compact.Row,
        # and the assignee shared with the other items of the same person.
        object.__setattr__(self, "inputs", compact_row(self.inputs))
        if self.assignee:
            object.__setattr__(self, "assignee", shared_text(self.assignee))


@dataclass(frozen=True, slots=True)
class InputsChanged:
    """When an item's scoring inputs last changed, and how priosync knows."""

    at: datetime
    #: ``tracker``: the tracker's own record (changelog, field values' ``updatedAt``, a
    #: file's date column); ``first-seen``: the first time priosync saw these input values,
    #: where the tracker keeps no date (so the inputs are at least this old).
    basis: Literal["tracker", "first-seen"] = "tracker"


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
    #: The key metric the item moves, spelled as in the weights; None when it names none.
    metric: str | None = None
    #: How old the inputs are; None without ``[scoring.freshness]`` or a known date.
    freshness: Freshness | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", compact_row(self.terms))


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old an item's inputs are at the reference time, and whether that is stale."""

    changed: InputsChanged
    #: Whole days from ``changed.at`` to the reference time (never negative).
    days: int
    stale: bool
    #: The factor the confidence was multiplied by because the inputs are stale, if any.
    decay: float | None = None


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
class Place:
    """Where an item sits in a tracker's own order, named by a neighbour: right after
    ``after``, or, at the top where nothing precedes it, right before ``before``."""

    after: str | None = None
    before: str | None = None

    @property
    def neighbour(self) -> str | None:
        """The item the place is named by: ``after``, else ``before``."""
        return self.after if self.after is not None else self.before

    def describe(self) -> str:
        if self.after is not None:
            return f"after {self.after}"
        return f"before {self.before}" if self.before is not None else "alone"


@dataclass(frozen=True, slots=True)
class Move:
    """One item placed in the tracker's own order (Jira's Rank, a Project's item position)
    next to a neighbour already in place. Its own kind of change: moves are planned,
    budgeted, written and recorded apart from field writes."""

    key: str
    source: str
    url: str
    #: Where the move puts the item.
    to: Place
    #: Where the item was just before this move, for the audit log and ``revert``.
    was: Place
    reason: str = ""
    item: WorkItem | None = None
    #: The item ``to`` names, for its connector-private handle.
    anchor: WorkItem | None = None


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
    #: Moves that put the ranked items in ranking order (``[outputs] reorder``), in the
    #: order they are to be applied.
    moves: tuple[Move, ...] = ()


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


@dataclass(frozen=True, slots=True)
class MoveResult:
    """How one move fared: ``error`` is None when the item landed where the move put it."""

    move: Move
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
