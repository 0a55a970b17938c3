"""The sandbox GitHub's data: one organization, its repositories, labels, issues, pull
requests, organization issue fields, and Projects (v2) with fields, items and values.

Plain mutable dataclasses, persisted to JSON through pydantic's ``TypeAdapter``. Lookups
by node ID go through an index rebuilt on load (:meth:`GitHubState.reindex`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeAlias

from pydantic import TypeAdapter

#: A project field value as stored: a number, text, a date ("2025-01-31"), or the id of a
#: single-select option / iteration.
FieldValue: TypeAlias = float | str
IssueFieldValue: TypeAlias = float | str
ProjectFieldType = Literal["TITLE", "NUMBER", "TEXT", "SINGLE_SELECT", "ITERATION", "DATE"]
IssueFieldType = Literal["number", "text", "single_select", "date"]
ContentKind = Literal["ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"]


def make_node_id(prefix: str, database_id: int) -> str:
    """Return a GitHub-style global node ID (``I_kwDO…``) for a database id."""
    raw = database_id.to_bytes(8, "big")
    return f"{prefix}_kwDO{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def utc_now_iso() -> str:
    """Return the current time as GitHub writes timestamps (``2025-01-31T12:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Label:
    """A repository label; names are unique per repository, case-insensitively."""

    id: int
    node_id: str
    repo: str
    name: str
    color: str
    description: str | None = None
    default: bool = False
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"


@dataclass
class Issue:
    """An issue or a pull request (GitHub's REST API lists both as issues)."""

    id: int
    node_id: str
    repo: str
    number: int
    title: str
    body: str = ""
    state: Literal["open", "closed"] = "open"
    is_pull_request: bool = False
    draft: bool = False
    #: Label names in the order they were added.
    labels: list[str] = field(default_factory=list)
    #: Logins of the people assigned, in the order they were assigned.
    assignees: list[str] = field(default_factory=list)
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"
    closed_at: str | None = None
    #: Organization issue field id → value (number, text, date, or option name).
    issue_field_values: dict[int, IssueFieldValue] = field(default_factory=dict)
    #: The issues blocking this one (``repo#number``), in the order the dependencies were added.
    blocked_by: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``repo#number``, as project items and dependencies name it."""
        return f"{self.repo}#{self.number}"


@dataclass
class Repository:
    """A repository of the organization."""

    id: int
    node_id: str
    name: str
    labels: list[Label] = field(default_factory=list)
    issues: dict[int, Issue] = field(default_factory=dict)

    def find_label(self, name: str) -> Label | None:
        """Return the label with this name (case-insensitive), or None."""
        folded = name.casefold()
        return next((lb for lb in self.labels if lb.name.casefold() == folded), None)


@dataclass
class SelectOption:
    """A single-select option of a project field (ids are short hex strings on GitHub)."""

    id: str
    name: str
    color: str = "GRAY"
    description: str = ""


@dataclass
class Iteration:
    """One iteration of an iteration field."""

    id: str
    title: str
    start_date: str
    duration: int = 14


@dataclass
class ProjectField:
    """A Projects (v2) field."""

    id: int
    node_id: str
    project_number: int
    name: str
    data_type: ProjectFieldType
    options: list[SelectOption] = field(default_factory=list)
    iterations: list[Iteration] = field(default_factory=list)
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"

    def find_option(self, option_id: str) -> SelectOption | None:
        """Return the option with this id, or None."""
        return next((o for o in self.options if o.id == option_id), None)

    def find_iteration(self, iteration_id: str) -> Iteration | None:
        """Return the iteration with this id, or None."""
        return next((it for it in self.iterations if it.id == iteration_id), None)


@dataclass
class DraftIssue:
    """A draft issue: lives only in a project."""

    id: int
    node_id: str
    title: str
    body: str = ""
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"


@dataclass
class ProjectItem:
    """An item of a project: an issue, a pull request or a draft issue, plus field values."""

    id: int
    node_id: str
    project_number: int
    kind: ContentKind
    #: ``repo#number`` for issues and pull requests, the draft's node id for drafts.
    content_ref: str
    #: Field id → value; fields without a value are absent.
    values: dict[int, FieldValue] = field(default_factory=dict)
    #: Field id → when its value last changed (the value's ``updatedAt``); a value set when
    #: the item was added and never changed since has none here (it dates from ``created_at``).
    value_updated: dict[int, str] = field(default_factory=dict)
    archived: bool = False
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"


@dataclass
class Project:
    """A Projects (v2) board owned by the organization."""

    id: int
    node_id: str
    number: int
    title: str
    fields: list[ProjectField] = field(default_factory=list)
    items: list[ProjectItem] = field(default_factory=list)
    drafts: dict[str, DraftIssue] = field(default_factory=dict)
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"

    def find_field(
        self, *, name: str | None = None, node_id: str | None = None
    ) -> ProjectField | None:
        """Return the field with this name (exact, as GitHub matches) or node id, or None."""
        for f in self.fields:
            if (name is not None and f.name == name) or (
                node_id is not None and f.node_id == node_id
            ):
                return f
        return None


@dataclass
class IssueComment:
    """A comment on an issue or a pull request."""

    id: int
    repo: str
    number: int
    body: str
    login: str
    created_at: str
    updated_at: str


@dataclass
class IssueFieldOption:
    """An option of a single-select organization issue field."""

    id: int
    name: str
    color: str = "gray"


@dataclass
class OrgIssueField:
    """An organization issue field definition."""

    id: int
    node_id: str
    name: str
    data_type: IssueFieldType
    description: str | None = None
    options: list[IssueFieldOption] = field(default_factory=list)
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"

    def find_option(self, name: str) -> IssueFieldOption | None:
        """Return the option with this name (case-insensitive), or None."""
        return next((o for o in self.options if o.name.casefold() == name.casefold()), None)


@dataclass
class GitHubState:
    """Everything the sandbox holds; mutated in place by the API handlers."""

    org: str
    org_id: int
    viewer_login: str = "priosync-sandbox"
    viewer_id: int = 1
    repos: dict[str, Repository] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    issue_fields: list[OrgIssueField] = field(default_factory=list)
    #: Issue and pull request comments by id (the Action's sticky plan comment).
    comments: dict[int, IssueComment] = field(default_factory=dict)
    next_id: int = 1000
    #: Whether the token's account may change the Projects' settings (create fields).
    viewer_can_admin_projects: bool = True
    #: The person who edits items by hand (``priosync sandbox edit``), the webhooks' sender.
    human_login: str = "pat-manager"
    human_id: int = 2

    def __post_init__(self) -> None:
        self._nodes: dict[str, object] = {}
        self._items_by_ref: dict[str, list[ProjectItem]] = {}
        self._blocking: dict[str, list[str]] = {}
        self.reindex()

    # ── ids and lookups ────────────────────────────────────────────────────────────────

    def allocate_id(self) -> int:
        """Return a fresh database id."""
        self.next_id += 1
        return self.next_id

    @property
    def org_node_id(self) -> str:
        """The organization's node ID."""
        return make_node_id("O", self.org_id)

    @property
    def viewer_node_id(self) -> str:
        """The authenticated user's node ID."""
        return make_node_id("U", self.viewer_id)

    def reindex(self) -> None:
        """Rebuild the node-ID index after loading or bulk changes."""
        nodes: dict[str, object] = {}
        for repo in self.repos.values():
            nodes[repo.node_id] = repo
            nodes.update({lb.node_id: lb for lb in repo.labels})
            nodes.update({i.node_id: i for i in repo.issues.values()})
        for project in self.projects.values():
            nodes[project.node_id] = project
            nodes.update({f.node_id: f for f in project.fields})
            nodes.update({it.node_id: it for it in project.items})
            nodes.update({d.node_id: d for d in project.drafts.values()})
        nodes.update({f.node_id: f for f in self.issue_fields})
        self._nodes = nodes
        self._items_by_ref = {}
        for project in self.projects.values():
            for item in project.items:
                self._items_by_ref.setdefault(item.content_ref, []).append(item)
        self._blocking = {}
        for repo in self.repos.values():
            for issue in repo.issues.values():
                for blocker in issue.blocked_by:
                    self._blocking.setdefault(blocker, []).append(issue.ref)

    def register_node(self, node_id: str, obj: object) -> None:
        """Make a newly created object reachable by its node ID."""
        self._nodes[node_id] = obj
        if isinstance(obj, ProjectItem):
            self._items_by_ref.setdefault(obj.content_ref, []).append(obj)

    def find_node(self, node_id: str) -> object | None:
        """Return the object with this node ID, or None."""
        return self._nodes.get(node_id)

    def find_issue(self, repo: str, number: int) -> Issue | None:
        """Return issue/PR ``number`` of repository ``repo``, or None."""
        r = self.repos.get(repo)
        return r.issues.get(number) if r else None

    def project_of_item(self, item: ProjectItem) -> Project:
        """Return the project an item belongs to."""
        return self.projects[item.project_number]

    def find_issue_field(self, field_id: int) -> OrgIssueField | None:
        """Return the organization issue field with this id, or None."""
        return next((f for f in self.issue_fields if f.id == field_id), None)

    def item_content(self, project: Project, item: ProjectItem) -> Issue | DraftIssue:
        """Return the issue, pull request or draft an item stands for."""
        if item.kind == "DRAFT_ISSUE":
            return project.drafts[item.content_ref]
        repo, number = item.content_ref.split("#")
        return self.repos[repo].issues[int(number)]

    def find_ref(self, ref: str) -> Issue | None:
        """Return the issue or pull request ``repo#number`` names, or None."""
        repo, _, number = ref.partition("#")
        return self.find_issue(repo, int(number)) if number.isdigit() else None

    def block(self, blocker: Issue, blocked: Issue) -> None:
        """Record that ``blocker`` blocks ``blocked`` (GitHub's "add blocked by")."""
        if blocker.ref in blocked.blocked_by:
            return
        blocked.blocked_by.append(blocker.ref)
        self._blocking.setdefault(blocker.ref, []).append(blocked.ref)

    def unblock(self, blocker: Issue, blocked: Issue) -> None:
        """Remove a dependency (GitHub's "remove blocked by")."""
        if blocker.ref in blocked.blocked_by:
            blocked.blocked_by.remove(blocker.ref)
            self._blocking[blocker.ref].remove(blocked.ref)

    def blockers(self, issue: Issue) -> list[Issue]:
        """The issues blocking ``issue``, oldest dependency first."""
        return [i for ref in issue.blocked_by if (i := self.find_ref(ref)) is not None]

    def blocking(self, issue: Issue) -> list[Issue]:
        """The issues ``issue`` blocks, oldest dependency first."""
        return [i for ref in self._blocking.get(issue.ref, ()) if (i := self.find_ref(ref))]

    def items_for_issue(self, issue: Issue) -> list[ProjectItem]:
        """Return every project item whose content is this issue or pull request."""
        return list(self._items_by_ref.get(f"{issue.repo}#{issue.number}", ()))

    # ── persistence ────────────────────────────────────────────────────────────────────

    def to_json(self) -> bytes:
        """Serialize the state to JSON."""
        return _ADAPTER.dump_json(self, indent=1)

    @classmethod
    def from_json(cls, data: bytes | str) -> GitHubState:
        """Rebuild a state from :meth:`to_json` output."""
        state = _ADAPTER.validate_json(data)
        state.reindex()
        return state

    def save(self, path: Path) -> None:
        """Write the state to ``path`` atomically."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GitHubState:
        """Read a state written by :meth:`save`."""
        return cls.from_json(path.read_bytes())


_ADAPTER: TypeAdapter[GitHubState] = TypeAdapter(GitHubState)
