"""The sandbox site's fixed configuration: fields, options, priorities, statuses, users.

Ids are stable across runs and seeds, so demo and example configs can name them. Value
shapes follow https://developer.atlassian.com/server/jira-servicedesk/info/field-input-formats
(see docs/tracker-apis.md §1.3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, TypeAlias

FieldKind: TypeAlias = Literal[
    "summary",
    "status",
    "priority",
    "labels",
    "user",
    "datetime",
    "project",
    "issuetype",
    "issuelinks",
    "number",
    "select",
    "multiselect",
    "textfield",
    "textarea",
]

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a select or multi-select custom field."""

    id: str
    value: str


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of the sandbox site, system or custom."""

    id: str
    name: str
    kind: FieldKind
    options: tuple[Option, ...] = ()
    editable: bool = True

    @property
    def custom(self) -> bool:
        return self.id.startswith("customfield_")

    @property
    def custom_id(self) -> int | None:
        return int(self.id.removeprefix("customfield_")) if self.custom else None

    def option_by_value(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def option_by_id(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


def _options(first_id: int, *values: str) -> tuple[Option, ...]:
    return tuple(Option(str(first_id + i), v) for i, v in enumerate(values))


# Custom field ids: stable, 10050 upwards (docs/tracker-apis.md §1.3 uses the same range).
REACH = "customfield_10050"
IMPACT = "customfield_10051"
CONFIDENCE = "customfield_10052"
EFFORT = "customfield_10053"
EASE = "customfield_10054"
BUSINESS_VALUE = "customfield_10055"
TIME_CRITICALITY = "customfield_10056"
RISK_REDUCTION = "customfield_10057"
JOB_SIZE = "customfield_10058"
RICE_SCORE = "customfield_10059"
SCORE_RATIONALE = "customfield_10060"
BACKLOG_RANK = "customfield_10061"
TEAM_SELECT = "customfield_10062"
TEAM_TEXT = "customfield_10063"
PLATFORMS = "customfield_10064"
TSHIRT = "customfield_10065"
#: The key metric an issue moves ([scoring.metrics] field); left empty by the seeded backlog.
KEY_METRIC = "customfield_10066"

FIELDS: tuple[FieldDef, ...] = (
    FieldDef("summary", "Summary", "summary"),
    FieldDef("status", "Status", "status", editable=False),
    FieldDef("priority", "Priority", "priority"),
    FieldDef("labels", "Labels", "labels"),
    FieldDef("assignee", "Assignee", "user", editable=False),
    FieldDef("created", "Created", "datetime", editable=False),
    FieldDef("updated", "Updated", "datetime", editable=False),
    FieldDef("project", "Project", "project", editable=False),
    FieldDef("issuetype", "Issue Type", "issuetype", editable=False),
    # Links are made through /issueLink, not an edit (issue-linking-model, §1.10).
    FieldDef("issuelinks", "Linked Issues", "issuelinks", editable=False),
    FieldDef(REACH, "Reach", "number"),
    FieldDef(
        IMPACT, "Impact", "select", _options(10100, "Massive", "High", "Medium", "Low", "Minimal")
    ),
    FieldDef(CONFIDENCE, "Confidence", "select", _options(10110, "High", "Medium", "Low")),
    FieldDef(EFFORT, "Effort", "number"),
    FieldDef(EASE, "Ease", "number"),
    FieldDef(BUSINESS_VALUE, "Business value", "number"),
    FieldDef(TIME_CRITICALITY, "Time criticality", "number"),
    FieldDef(RISK_REDUCTION, "Risk reduction", "number"),
    FieldDef(JOB_SIZE, "Job size", "number"),
    FieldDef(RICE_SCORE, "RICE score", "number"),
    FieldDef(SCORE_RATIONALE, "Score rationale", "textarea"),
    FieldDef(BACKLOG_RANK, "Backlog rank", "number"),
    FieldDef(
        TEAM_SELECT, "Team", "select", _options(10120, "Platform", "Growth", "Payments", "Mobile")
    ),
    FieldDef(TEAM_TEXT, "Team", "textfield"),
    FieldDef(
        PLATFORMS, "Platforms", "multiselect", _options(10130, "Web", "iOS", "Android", "API")
    ),
    FieldDef(TSHIRT, "T-shirt size", "textfield"),
    FieldDef(
        KEY_METRIC, "Key metric", "select", _options(10140, "Activation", "Retention", "Revenue")
    ),
)

FIELDS_BY_ID: dict[str, FieldDef] = {f.id: f for f in FIELDS}
CUSTOM_FIELDS: tuple[FieldDef, ...] = tuple(f for f in FIELDS if f.custom)


@dataclass(frozen=True, slots=True)
class PriorityDef:
    """A Jira priority; ids 1–5 as Jira Cloud ships them."""

    id: str
    name: str
    color: str
    icon: str


PRIORITIES: tuple[PriorityDef, ...] = (
    PriorityDef("1", "Highest", "#d04437", "highest"),
    PriorityDef("2", "High", "#f15C75", "high"),
    PriorityDef("3", "Medium", "#f79232", "medium"),
    PriorityDef("4", "Low", "#707070", "low"),
    PriorityDef("5", "Lowest", "#999999", "lowest"),
)
PRIORITY_BY_ID: dict[str, PriorityDef] = {p.id: p for p in PRIORITIES}
PRIORITY_BY_NAME: dict[str, PriorityDef] = {p.name: p for p in PRIORITIES}
DEFAULT_PRIORITY_ID = "3"


@dataclass(frozen=True, slots=True)
class StatusDef:
    """A workflow status with its status category (id, key, name, colour)."""

    id: str
    name: str
    category_id: int
    category_key: str
    category_name: str
    category_color: str


STATUSES: tuple[StatusDef, ...] = (
    StatusDef("10000", "To Do", 2, "new", "To Do", "blue-gray"),
    StatusDef("3", "In Progress", 4, "indeterminate", "In Progress", "yellow"),
    StatusDef("10001", "Done", 3, "done", "Done", "green"),
)
STATUS_BY_NAME: dict[str, StatusDef] = {s.name: s for s in STATUSES}


@dataclass(frozen=True, slots=True)
class LinkTypeDef:
    """An issue link type: its name and the words for each direction (Jira Cloud's defaults)."""

    id: str
    name: str
    inward: str
    outward: str


LINK_TYPES: tuple[LinkTypeDef, ...] = (
    LinkTypeDef("10000", "Blocks", "is blocked by", "blocks"),
    LinkTypeDef("10001", "Cloners", "is cloned by", "clones"),
    LinkTypeDef("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkTypeDef("10003", "Relates", "relates to", "relates to"),
)
LINK_TYPE_BY_NAME: dict[str, LinkTypeDef] = {t.name: t for t in LINK_TYPES}

PROJECT_ID = "10000"
ISSUE_TYPE_ID = "10001"


def account_id_for(email: str) -> str:
    """Return a stable Cloud-style accountId for an email (``712020:<uuid>``)."""
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.lower()}"))


#: A person who edits issues by hand (sandbox.human_edit); their webhooks carry this actor.
HUMAN_EMAIL = "pm@example.com"
HUMAN_NAME = "Pat Manager"
