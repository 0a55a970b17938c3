"""The sandbox's GraphQL endpoint: GitHub's own SDL (trimmed, see ``schema_trim``)
executed by graphql-core with resolvers over :class:`~.state.GitHubState`.

Resolvers receive the state's objects as sources; small reference types stand in for
things the state does not store as objects (the organization, a field value). Errors
raised by resolvers carry GitHub's ``type`` (``NOT_FOUND``, ``UNPROCESSABLE``) and come
out as ``{"type", "path", "locations", "message"}``.
"""

from __future__ import annotations

import base64
import functools
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from graphql import (
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    default_field_resolver,
)

from .payloads import dependencies_summary_json, user_id
from .state import (
    DraftIssue,
    GitHubState,
    Issue,
    Iteration,
    Label,
    OrgIssueField,
    Project,
    ProjectField,
    ProjectItem,
    Repository,
    SelectOption,
    make_node_id,
    utc_now_iso,
)

JSON = dict[str, Any]


@functools.cache
def load_schema() -> GraphQLSchema:
    """Build the sandbox schema from the packaged SDL, once per process."""
    sdl = files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    return build_schema(sdl)


class GraphQLFault(Exception):
    """A resolver error with GitHub's error ``type``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.type = error_type


@dataclass(frozen=True, slots=True)
class OrgRef:
    """The organization as a GraphQL source."""


@dataclass(frozen=True, slots=True)
class ViewerRef:
    """The authenticated user as a GraphQL source."""


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person assigned to an issue, as a GraphQL ``User``."""

    login: str


@dataclass(frozen=True, slots=True)
class FieldValueRef:
    """One project field value of one item."""

    item: ProjectItem
    field: ProjectField
    value: float | str


@dataclass(frozen=True, slots=True)
class IssueFieldValueRef:
    """One organization issue field value of one issue."""

    issue: Issue
    field: OrgIssueField
    value: float | str


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A change a resolver made that should go out as a webhook."""

    event: str
    action: str
    subject: Issue | ProjectItem
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ResolveContext:
    """Per-request context handed to every resolver."""

    state: GitHubState
    base: str
    rate_limit: Callable[[], JSON]
    events: list[WebhookEvent] = field(default_factory=list)


Resolver = Callable[[Any, ResolveContext, dict[str, Any]], Any]
RESOLVERS: dict[tuple[str, str], Resolver] = {}


def resolves(type_names: str, field_name: str) -> Callable[[Resolver], Resolver]:
    """Register a resolver for ``field_name`` on each of the space-separated types."""

    def register(fn: Resolver) -> Resolver:
        for type_name in type_names.split():
            RESOLVERS[(type_name, field_name)] = fn
        return fn

    return register


def resolve_field(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    """Dispatch to a registered resolver, else read the camelCase-named attribute."""
    fn = RESOLVERS.get((info.parent_type.name, info.field_name))
    if fn is not None:
        return fn(source, info.context, args)
    if isinstance(source, dict):
        return source.get(info.field_name)
    return default_field_resolver(source, info, **args)


_VALUE_TYPES = {
    "NUMBER": "ProjectV2ItemFieldNumberValue", "TEXT": "ProjectV2ItemFieldTextValue",
    "TITLE": "ProjectV2ItemFieldTextValue", "DATE": "ProjectV2ItemFieldDateValue",
    "SINGLE_SELECT": "ProjectV2ItemFieldSingleSelectValue",
    "ITERATION": "ProjectV2ItemFieldIterationValue",
}  # fmt: skip
_ISSUE_FIELD_TYPES = {
    "number": "Number",
    "text": "Text",
    "date": "Date",
    "single_select": "SingleSelect",
}


def resolve_type(value: Any, info: GraphQLResolveInfo[Any], abstract: Any) -> str | None:
    """Name the concrete GraphQL type of a source object."""
    if isinstance(value, Issue):
        return "PullRequest" if value.is_pull_request else "Issue"
    if isinstance(value, ProjectField):
        return {
            "SINGLE_SELECT": "ProjectV2SingleSelectField",
            "ITERATION": "ProjectV2IterationField",
        }.get(value.data_type, "ProjectV2Field")
    if isinstance(value, FieldValueRef):
        return _VALUE_TYPES[value.field.data_type]
    if isinstance(value, OrgIssueField):
        return f"IssueField{_ISSUE_FIELD_TYPES[value.data_type]}"
    if isinstance(value, IssueFieldValueRef):
        return f"IssueField{_ISSUE_FIELD_TYPES[value.field.data_type]}Value"
    simple = {DraftIssue: "DraftIssue", Label: "Label", Repository: "Repository",
              Project: "ProjectV2", ProjectItem: "ProjectV2Item", OrgRef: "Organization",
              ViewerRef: "User", PersonRef: "User"}  # fmt: skip
    return simple.get(type(value))


# ── connections ─────────────────────────────────────────────────────────────────────────


def encode_cursor(index: int) -> str:
    """Return the opaque cursor of position ``index``."""
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """Return the position a cursor stands for; NOT_FOUND-style error when malformed."""
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise GraphQLFault(
            "INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor."
        ) from exc


def connection(nodes: Sequence[Any], args: Mapping[str, Any]) -> JSON:
    """Page ``nodes`` by ``first``/``after``/``last``/``before`` as a Relay connection."""
    start, end = 0, len(nodes)
    if args.get("after") is not None:
        start = max(start, decode_cursor(args["after"]) + 1)
    if args.get("before") is not None:
        end = min(end, decode_cursor(args["before"]))
    if args.get("first") is not None:
        end = min(end, start + args["first"])
    if args.get("last") is not None:
        start = max(start, end - args["last"])
    page = list(nodes[start:end]) if start < end else []
    edges = [{"cursor": encode_cursor(start + i), "node": n} for i, n in enumerate(page)]
    return {
        "edges": edges, "nodes": page, "totalCount": len(nodes),
        "pageInfo": {
            "hasNextPage": end < len(nodes), "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }  # fmt: skip


# ── root and owners ─────────────────────────────────────────────────────────────────────


@resolves("Query", "organization")
def _organization(_: Any, ctx: ResolveContext, args: JSON) -> OrgRef:
    if args["login"].casefold() != ctx.state.org.casefold():
        raise GraphQLFault(
            "NOT_FOUND",
            f"Could not resolve to an Organization with the login of '{args['login']}'.",
        )
    return OrgRef()


@resolves("Query", "user")
def _user(_: Any, ctx: ResolveContext, args: JSON) -> ViewerRef:
    if args["login"].casefold() != ctx.state.viewer_login.casefold():
        raise GraphQLFault(
            "NOT_FOUND", f"Could not resolve to a User with the login of '{args['login']}'."
        )
    return ViewerRef()


@resolves("Query", "viewer")
def _viewer(_: Any, ctx: ResolveContext, args: JSON) -> ViewerRef:
    return ViewerRef()


@resolves("Query", "repository")
def _repository(_: Any, ctx: ResolveContext, args: JSON) -> Repository:
    repo = ctx.state.repos.get(args["name"])
    if args["owner"].casefold() != ctx.state.org.casefold() or repo is None:
        raise GraphQLFault(
            "NOT_FOUND",
            f"Could not resolve to a Repository with the name '{args['owner']}/{args['name']}'.",
        )
    return repo


@resolves("Query", "node")
def _node(_: Any, ctx: ResolveContext, args: JSON) -> object:
    found = _find_node(ctx, args["id"])
    if found is None:
        raise GraphQLFault(
            "NOT_FOUND", f"Could not resolve to a node with the global id of '{args['id']}'"
        )
    return found


@resolves("Query", "nodes")
def _nodes(_: Any, ctx: ResolveContext, args: JSON) -> list[object | None]:
    return [_find_node(ctx, node_id) for node_id in args["ids"]]


def _find_node(ctx: ResolveContext, node_id: str) -> object | None:
    if node_id == ctx.state.org_node_id:
        return OrgRef()
    if node_id == ctx.state.viewer_node_id:
        return ViewerRef()
    return ctx.state.find_node(node_id)


@resolves("Query", "rateLimit")
def _rate_limit(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    return ctx.rate_limit()


@resolves("Organization", "id")
def _org_id(_: Any, ctx: ResolveContext, args: JSON) -> str:
    return ctx.state.org_node_id


@resolves("Organization", "databaseId")
def _org_database_id(_: Any, ctx: ResolveContext, args: JSON) -> int:
    return ctx.state.org_id


@resolves("Organization", "login")
def _org_login(_: Any, ctx: ResolveContext, args: JSON) -> str:
    return ctx.state.org


@resolves("Organization", "name")
def _org_name(_: Any, ctx: ResolveContext, args: JSON) -> str:
    return ctx.state.org.capitalize()


@resolves("Organization", "url")
def _org_url(_: Any, ctx: ResolveContext, args: JSON) -> str:
    return f"{ctx.base}/{ctx.state.org}"


@resolves("Organization", "projectV2")
def _org_project(_: Any, ctx: ResolveContext, args: JSON) -> Project:
    project = ctx.state.projects.get(args["number"])
    if project is None:
        raise GraphQLFault(
            "NOT_FOUND", f"Could not resolve to a ProjectV2 with the number {args['number']}."
        )
    return project


@resolves("Organization", "projectsV2")
def _org_projects(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(sorted(ctx.state.projects.values(), key=lambda p: p.number), args)


@resolves("Organization", "issueFields")
def _org_issue_fields(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(ctx.state.issue_fields, args)


@resolves("Organization User", "repository")
def _owner_repository(source: Any, ctx: ResolveContext, args: JSON) -> Repository | None:
    return ctx.state.repos.get(args["name"]) if isinstance(source, OrgRef) else None


@resolves("User", "id")
def _viewer_id(user: Any, ctx: ResolveContext, args: JSON) -> str:
    if isinstance(user, PersonRef):
        return make_node_id("U", user_id(user.login))
    return ctx.state.viewer_node_id


@resolves("User", "databaseId")
def _viewer_database_id(user: Any, ctx: ResolveContext, args: JSON) -> int:
    return user_id(user.login) if isinstance(user, PersonRef) else ctx.state.viewer_id


@resolves("User", "login")
def _viewer_login(user: Any, ctx: ResolveContext, args: JSON) -> str:
    return user.login if isinstance(user, PersonRef) else ctx.state.viewer_login


@resolves("User", "name")
def _viewer_name(user: Any, ctx: ResolveContext, args: JSON) -> str:
    return user.login if isinstance(user, PersonRef) else "Sandbox User"


@resolves("User", "url")
def _viewer_url(user: Any, ctx: ResolveContext, args: JSON) -> str:
    login = user.login if isinstance(user, PersonRef) else ctx.state.viewer_login
    return f"{ctx.base}/{login}"


@resolves("User", "projectV2")
def _viewer_project(_: Any, ctx: ResolveContext, args: JSON) -> None:
    raise GraphQLFault(
        "NOT_FOUND", f"Could not resolve to a ProjectV2 with the number {args['number']}."
    )


@resolves("User", "projectsV2")
def _viewer_projects(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    return connection([], args)


# ── repositories, issues, labels ────────────────────────────────────────────────────────


@resolves("Repository Issue PullRequest DraftIssue Label ProjectV2 ProjectV2Item", "id")
def _node_id(source: Any, ctx: ResolveContext, args: JSON) -> str:
    return str(source.node_id)


@resolves("Repository Issue PullRequest ProjectV2 ProjectV2Item", "databaseId")
def _database_id(source: Any, ctx: ResolveContext, args: JSON) -> int:
    return int(source.id)


@resolves("Repository", "nameWithOwner")
def _name_with_owner(repo: Repository, ctx: ResolveContext, args: JSON) -> str:
    return f"{ctx.state.org}/{repo.name}"


@resolves("Repository", "owner")
def _repo_owner(repo: Repository, ctx: ResolveContext, args: JSON) -> OrgRef:
    return OrgRef()


@resolves("Repository", "url")
def _repo_url(repo: Repository, ctx: ResolveContext, args: JSON) -> str:
    return f"{ctx.base}/{ctx.state.org}/{repo.name}"


@resolves("Repository", "isArchived")
def _repo_archived(repo: Repository, ctx: ResolveContext, args: JSON) -> bool:
    return False


def _numbered(repo: Repository, number: int, *, pull_request: bool) -> Issue:
    issue = repo.issues.get(number)
    if issue is None or issue.is_pull_request != pull_request:
        kind = "PullRequest" if pull_request else "Issue"
        raise GraphQLFault(
            "NOT_FOUND", f"Could not resolve to an {kind} with the number of {number}."
        )
    return issue


@resolves("Repository", "issue")
def _repo_issue(repo: Repository, ctx: ResolveContext, args: JSON) -> Issue:
    return _numbered(repo, args["number"], pull_request=False)


@resolves("Repository", "pullRequest")
def _repo_pull_request(repo: Repository, ctx: ResolveContext, args: JSON) -> Issue:
    return _numbered(repo, args["number"], pull_request=True)


@resolves("Repository", "issues")
def _repo_issues(repo: Repository, ctx: ResolveContext, args: JSON) -> JSON:
    filters = args.get("filterBy") or {}
    states = {s.lower() for s in args.get("states") or filters.get("states") or ("OPEN", "CLOSED")}
    wanted = {n.casefold() for n in args.get("labels") or filters.get("labels") or ()}
    since = filters.get("since")
    found = [
        i for i in repo.issues.values()
        if not i.is_pull_request and i.state in states
        and (not wanted or wanted & {n.casefold() for n in i.labels})
        and (since is None or i.updated_at >= str(since))
    ]  # fmt: skip
    order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
    key = "updated_at" if order["field"] == "UPDATED_AT" else "created_at"
    found.sort(key=lambda i: (getattr(i, key), i.number), reverse=order["direction"] == "DESC")
    return connection(found, args)


@resolves("Repository", "label")
def _repo_label(repo: Repository, ctx: ResolveContext, args: JSON) -> Label | None:
    return repo.find_label(args["name"])


@resolves("Repository", "labels")
def _repo_labels(repo: Repository, ctx: ResolveContext, args: JSON) -> JSON:
    query = (args.get("query") or "").casefold()
    return connection([lb for lb in repo.labels if query in lb.name.casefold()], args)


@resolves("Issue PullRequest", "url")
def _issue_url(issue: Issue, ctx: ResolveContext, args: JSON) -> str:
    kind = "pull" if issue.is_pull_request else "issues"
    return f"{ctx.base}/{ctx.state.org}/{issue.repo}/{kind}/{issue.number}"


@resolves("Issue PullRequest", "state")
def _issue_state(issue: Issue, ctx: ResolveContext, args: JSON) -> str:
    return issue.state.upper()


@resolves("Issue PullRequest", "closed")
def _issue_closed(issue: Issue, ctx: ResolveContext, args: JSON) -> bool:
    return issue.state == "closed"


@resolves("PullRequest", "isDraft")
def _pr_draft(issue: Issue, ctx: ResolveContext, args: JSON) -> bool:
    return issue.draft


@resolves("Issue PullRequest", "repository")
def _issue_repository(issue: Issue, ctx: ResolveContext, args: JSON) -> Repository:
    return ctx.state.repos[issue.repo]


@resolves("Issue PullRequest", "labels")
def _issue_labels(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    repo = ctx.state.repos[issue.repo]
    labels = [lb for name in issue.labels if (lb := repo.find_label(name)) is not None]
    return connection(sorted(labels, key=lambda lb: lb.name.casefold()), args)


@resolves("Issue PullRequest", "assignees")
def _issue_assignees(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    return connection([PersonRef(login) for login in issue.assignees], args)


@resolves("Issue PullRequest", "projectItems")
def _issue_project_items(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(ctx.state.items_for_issue(issue), args)


@resolves("Issue", "blockedBy")
def _issue_blocked_by(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(_dependency_order(ctx.state.blockers(issue), args), args)


@resolves("Issue", "blocking")
def _issue_blocking(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(_dependency_order(ctx.state.blocking(issue), args), args)


def _dependency_order(issues: list[Issue], args: JSON) -> list[Issue]:
    """``orderBy`` of a dependency connection; the default is newest dependency first."""
    order = args.get("orderBy") or {"field": "DEPENDENCY_ADDED_AT", "direction": "DESC"}
    if order.get("field") == "CREATED_AT":
        issues = sorted(issues, key=lambda i: (i.created_at, i.id))
    return list(reversed(issues)) if order.get("direction") == "DESC" else issues


@resolves("Issue", "issueDependenciesSummary")
def _issue_dependencies_summary(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    summary = dependencies_summary_json(ctx.state, issue)
    return {
        "blockedBy": summary["blocked_by"],
        "blocking": summary["blocking"],
        "totalBlockedBy": summary["total_blocked_by"],
        "totalBlocking": summary["total_blocking"],
    }


@resolves("Issue", "issueFieldValues")
def _issue_field_values(issue: Issue, ctx: ResolveContext, args: JSON) -> JSON:
    refs = [
        IssueFieldValueRef(issue, f, v) for fid, v in sorted(issue.issue_field_values.items())
        if (f := ctx.state.find_issue_field(fid)) is not None
    ]  # fmt: skip
    return connection(refs, args)


@resolves("Label", "isDefault")
def _label_default(label: Label, ctx: ResolveContext, args: JSON) -> bool:
    return label.default


@resolves("Label", "url")
def _label_url(label: Label, ctx: ResolveContext, args: JSON) -> str:
    return f"{ctx.base}/{ctx.state.org}/{label.repo}/labels/{label.name}"


@resolves("Issue PullRequest DraftIssue Label ProjectV2 ProjectV2Item", "createdAt")
def _created_at(source: Any, ctx: ResolveContext, args: JSON) -> str:
    return str(source.created_at)


@resolves("Issue PullRequest DraftIssue Label ProjectV2 ProjectV2Item", "updatedAt")
def _updated_at(source: Any, ctx: ResolveContext, args: JSON) -> str:
    return str(source.updated_at)


# ── projects ────────────────────────────────────────────────────────────────────────────


@resolves("ProjectV2", "url")
def _project_url(project: Project, ctx: ResolveContext, args: JSON) -> str:
    return f"{ctx.base}/orgs/{ctx.state.org}/projects/{project.number}"


@resolves("ProjectV2", "owner")
def _project_owner(project: Project, ctx: ResolveContext, args: JSON) -> OrgRef:
    return OrgRef()


@resolves("ProjectV2", "closed")
def _project_closed(project: Project, ctx: ResolveContext, args: JSON) -> bool:
    return False


@resolves("ProjectV2", "public")
def _project_public(project: Project, ctx: ResolveContext, args: JSON) -> bool:
    return False


@resolves("ProjectV2", "shortDescription")
def _project_description(project: Project, ctx: ResolveContext, args: JSON) -> str:
    return "Seeded by the priosync sandbox"


@resolves("ProjectV2", "field")
def _project_field(project: Project, ctx: ResolveContext, args: JSON) -> ProjectField | None:
    return project.find_field(name=args["name"])


@resolves("ProjectV2", "fields")
def _project_fields(project: Project, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(project.fields, args)


@resolves("ProjectV2", "items")
def _project_items(project: Project, ctx: ResolveContext, args: JSON) -> JSON:
    states = set(args.get("archivedStates") or ("NOT_ARCHIVED",))
    wanted = {"ARCHIVED": True, "NOT_ARCHIVED": False}
    keep = {wanted[s] for s in states if s in wanted}
    # Items are kept in position order; orderBy has one field, POSITION (docs/tracker-apis.md
    # §4.2), ascending by default.
    order = args.get("orderBy") or {}
    items = project.items if order.get("direction", "ASC") == "ASC" else project.items[::-1]
    if keep == {False}:
        return connection([it for it in items if not it.archived], args)
    return connection([it for it in items if it.archived in keep], args)


_FIELD_TYPES = "ProjectV2Field ProjectV2SingleSelectField ProjectV2IterationField"


@resolves(_FIELD_TYPES, "id")
def _field_node_id(f: ProjectField, ctx: ResolveContext, args: JSON) -> str:
    return f.node_id


@resolves(_FIELD_TYPES, "databaseId")
def _field_database_id(f: ProjectField, ctx: ResolveContext, args: JSON) -> int:
    return f.id


@resolves(_FIELD_TYPES, "dataType")
def _field_data_type(f: ProjectField, ctx: ResolveContext, args: JSON) -> str:
    return f.data_type


@resolves(_FIELD_TYPES, "createdAt")
def _field_created_at(f: ProjectField, ctx: ResolveContext, args: JSON) -> str:
    return f.created_at


@resolves(_FIELD_TYPES, "updatedAt")
def _field_updated_at(f: ProjectField, ctx: ResolveContext, args: JSON) -> str:
    return f.updated_at


@resolves(_FIELD_TYPES, "project")
def _field_project(f: ProjectField, ctx: ResolveContext, args: JSON) -> Project:
    return ctx.state.projects[f.project_number]


@resolves("ProjectV2SingleSelectField", "options")
def _field_options(f: ProjectField, ctx: ResolveContext, args: JSON) -> list[SelectOption]:
    names = args.get("names")
    return [o for o in f.options if names is None or o.name in names]


@resolves("ProjectV2IterationField", "configuration")
def _field_configuration(f: ProjectField, ctx: ResolveContext, args: JSON) -> JSON:
    return {"duration": 14, "startDay": 1, "iterations": f.iterations, "completedIterations": []}


@resolves("ProjectV2SingleSelectFieldOption", "nameHTML")
def _option_name_html(option: SelectOption, ctx: ResolveContext, args: JSON) -> str:
    return html.escape(option.name)


@resolves("ProjectV2SingleSelectFieldOption", "descriptionHTML")
def _option_description_html(option: SelectOption, ctx: ResolveContext, args: JSON) -> str:
    return html.escape(option.description)


@resolves("ProjectV2IterationFieldIteration", "startDate")
def _iteration_start(it: Iteration, ctx: ResolveContext, args: JSON) -> str:
    return it.start_date


@resolves("ProjectV2IterationFieldIteration", "titleHTML")
def _iteration_title_html(it: Iteration, ctx: ResolveContext, args: JSON) -> str:
    return html.escape(it.title)


@resolves("ProjectV2Item", "type")
def _item_type(item: ProjectItem, ctx: ResolveContext, args: JSON) -> str:
    return item.kind


@resolves("ProjectV2Item", "isArchived")
def _item_archived(item: ProjectItem, ctx: ResolveContext, args: JSON) -> bool:
    return item.archived


@resolves("ProjectV2Item", "project")
def _item_project(item: ProjectItem, ctx: ResolveContext, args: JSON) -> Project:
    return ctx.state.project_of_item(item)


@resolves("ProjectV2Item", "content")
def _item_content(item: ProjectItem, ctx: ResolveContext, args: JSON) -> Issue | DraftIssue:
    return ctx.state.item_content(ctx.state.project_of_item(item), item)


def item_field_values(state: GitHubState, item: ProjectItem) -> list[FieldValueRef]:
    """Return an item's set field values in field order (Title from its content)."""
    project = state.project_of_item(item)
    refs = []
    for f in project.fields:
        if f.data_type == "TITLE":
            refs.append(FieldValueRef(item, f, state.item_content(project, item).title))
        elif f.id in item.values:
            refs.append(FieldValueRef(item, f, item.values[f.id]))
    return refs


@resolves("ProjectV2Item", "fieldValues")
def _item_field_values(item: ProjectItem, ctx: ResolveContext, args: JSON) -> JSON:
    return connection(item_field_values(ctx.state, item), args)


@resolves("ProjectV2Item", "fieldValueByName")
def _item_field_value_by_name(
    item: ProjectItem, ctx: ResolveContext, args: JSON
) -> FieldValueRef | None:
    return next(
        (r for r in item_field_values(ctx.state, item) if r.field.name == args["name"]), None
    )


_VALUE_TYPE_NAMES = " ".join(sorted(set(_VALUE_TYPES.values())))


@resolves(_VALUE_TYPE_NAMES, "id")
def _value_id(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return make_node_id("PVTFV", ref.item.id * 100_000 + ref.field.id)


@resolves(_VALUE_TYPE_NAMES, "databaseId")
def _value_database_id(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> int:
    return ref.item.id * 100_000 + ref.field.id


@resolves(_VALUE_TYPE_NAMES, "field")
def _value_field(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> ProjectField:
    return ref.field


@resolves(_VALUE_TYPE_NAMES, "item")
def _value_item(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> ProjectItem:
    return ref.item


@resolves(_VALUE_TYPE_NAMES, "createdAt")
def _value_created_at(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return ref.item.created_at


@resolves(_VALUE_TYPE_NAMES, "updatedAt")
def _value_updated_at(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    """When this value last changed: its own time, not the item's (another field's edit
    does not touch it)."""
    return ref.item.value_updated.get(ref.field.id, ref.item.created_at)


@resolves("ProjectV2ItemFieldNumberValue", "number")
def _value_number(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> float:
    return float(ref.value)


@resolves("ProjectV2ItemFieldTextValue", "text")
def _value_text(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return str(ref.value)


@resolves("ProjectV2ItemFieldDateValue", "date")
def _value_date(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return str(ref.value)


def _option_of(ref: FieldValueRef) -> SelectOption:
    option = ref.field.find_option(str(ref.value))
    return option or SelectOption(id=str(ref.value), name="")


@resolves("ProjectV2ItemFieldSingleSelectValue", "optionId")
def _value_option_id(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return str(ref.value)


@resolves("ProjectV2ItemFieldSingleSelectValue", "name")
def _value_option_name(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return _option_of(ref).name


@resolves("ProjectV2ItemFieldSingleSelectValue", "color")
def _value_option_color(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return _option_of(ref).color


@resolves("ProjectV2ItemFieldSingleSelectValue", "description")
def _value_option_description(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return _option_of(ref).description


def _iteration_of(ref: FieldValueRef) -> Iteration:
    found = ref.field.find_iteration(str(ref.value))
    return found or Iteration(id=str(ref.value), title="", start_date="1970-01-01")


@resolves("ProjectV2ItemFieldIterationValue", "iterationId")
def _value_iteration_id(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return str(ref.value)


@resolves("ProjectV2ItemFieldIterationValue", "title")
def _value_iteration_title(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return _iteration_of(ref).title


@resolves("ProjectV2ItemFieldIterationValue", "titleHTML")
def _value_iteration_title_html(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return html.escape(_iteration_of(ref).title)


@resolves("ProjectV2ItemFieldIterationValue", "startDate")
def _value_iteration_start(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return _iteration_of(ref).start_date


@resolves("ProjectV2ItemFieldIterationValue", "duration")
def _value_iteration_duration(ref: FieldValueRef, ctx: ResolveContext, args: JSON) -> int:
    return _iteration_of(ref).duration


# ── organization issue fields ───────────────────────────────────────────────────────────

_ISSUE_FIELD_NAMES = "IssueFieldDate IssueFieldNumber IssueFieldSingleSelect IssueFieldText"
_ISSUE_VALUE_NAMES = (
    "IssueFieldDateValue IssueFieldNumberValue IssueFieldSingleSelectValue IssueFieldTextValue"
)


@resolves(_ISSUE_FIELD_NAMES, "id")
def _issue_field_id(f: OrgIssueField, ctx: ResolveContext, args: JSON) -> str:
    return f.node_id


@resolves(_ISSUE_FIELD_NAMES, "dataType")
def _issue_field_type(f: OrgIssueField, ctx: ResolveContext, args: JSON) -> str:
    return f.data_type.upper()


@resolves(_ISSUE_FIELD_NAMES, "visibility")
def _issue_field_visibility(f: OrgIssueField, ctx: ResolveContext, args: JSON) -> str:
    return "ALL"


@resolves(_ISSUE_FIELD_NAMES, "createdAt")
def _issue_field_created(f: OrgIssueField, ctx: ResolveContext, args: JSON) -> str:
    return f.created_at


@resolves("IssueFieldSingleSelect", "options")
def _issue_field_options(f: OrgIssueField, ctx: ResolveContext, args: JSON) -> list[JSON]:
    return [{"id": make_node_id("IFSO", o.id), "name": o.name, "color": o.color.upper(),
             "description": None} for o in f.options]  # fmt: skip


@resolves(_ISSUE_VALUE_NAMES, "id")
def _issue_value_id(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return make_node_id("IFV", ref.issue.id * 100_000 + ref.field.id)


@resolves(_ISSUE_VALUE_NAMES, "field")
def _issue_value_field(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> OrgIssueField:
    return ref.field


@resolves(_ISSUE_VALUE_NAMES, "value")
def _issue_value_value(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> float | str:
    return ref.value


@resolves("IssueFieldSingleSelectValue", "name")
def _issue_value_name(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    return str(ref.value)


@resolves("IssueFieldSingleSelectValue", "optionId")
def _issue_value_option_id(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> str | None:
    option = ref.field.find_option(str(ref.value))
    return make_node_id("IFSO", option.id) if option else None


@resolves("IssueFieldSingleSelectValue", "color")
def _issue_value_color(ref: IssueFieldValueRef, ctx: ResolveContext, args: JSON) -> str:
    option = ref.field.find_option(str(ref.value))
    return option.color.upper() if option else "GRAY"


def touch(obj: Issue | ProjectItem) -> None:
    """Record that an issue or item changed now."""
    obj.updated_at = utc_now_iso()
