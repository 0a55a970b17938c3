"""Resolvers of the mutations the sandbox serves, with GitHub's validation rules.

``updateProjectV2ItemFieldValue`` takes exactly one of ``text``/``number``/``date``/
``singleSelectOptionId``/``iterationId`` matching the field's type
(https://docs.github.com/en/issues/planning-and-tracking-with-projects/automating-your-project/using-the-api-to-manage-projects);
label mutations take label node IDs of the labelable's repository. Each change is queued
as a webhook event on the context.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from .graphql_api import (
    JSON,
    GraphQLFault,
    IssueFieldValueRef,
    ResolveContext,
    WebhookEvent,
    connection,
    resolves,
    touch,
)
from .state import (
    GitHubState,
    Issue,
    Label,
    OrgIssueField,
    Project,
    ProjectField,
    ProjectItem,
    Repository,
    SelectOption,
    make_node_id,
)

_VALUE_KEYS = {"NUMBER": "number", "TEXT": "text", "DATE": "date",
               "SINGLE_SELECT": "singleSelectOptionId", "ITERATION": "iterationId"}  # fmt: skip
_HEX_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


def _lookup(ctx: ResolveContext, node_id: str, kind: type[Any], label: str) -> Any:
    found = ctx.state.find_node(node_id)
    if not isinstance(found, kind):
        raise GraphQLFault(
            "NOT_FOUND", f"Could not resolve to {label} node with the global id of '{node_id}'."
        )
    return found


def _item_and_field(ctx: ResolveContext, data: JSON) -> tuple[Project, ProjectItem, ProjectField]:
    project: Project = _lookup(ctx, data["projectId"], Project, "ProjectV2")
    item: ProjectItem = _lookup(ctx, data["itemId"], ProjectItem, "ProjectV2Item")
    field: ProjectField = _lookup(ctx, data["fieldId"], ProjectField, "ProjectV2Field")
    if item.project_number != project.number or field.project_number != project.number:
        raise GraphQLFault("NOT_FOUND", "The item or field does not belong to the project.")
    if field.data_type not in _VALUE_KEYS:
        raise GraphQLFault(
            "UNPROCESSABLE",
            f"The field of type {field.data_type.lower()} is currently not supported.",
        )
    return project, item, field


def _coerce_value(field: ProjectField, value: JSON) -> float | str:
    given = {k: v for k, v in value.items() if v is not None}
    key = _VALUE_KEYS[field.data_type]
    if len(given) != 1 or key not in given:
        raise GraphQLFault(
            "UNPROCESSABLE",
            f"Did not receive a {key} value to update a field of type {field.data_type.lower()}.",
        )
    raw = given[key]
    if field.data_type == "SINGLE_SELECT" and field.find_option(raw) is None:
        raise GraphQLFault(
            "UNPROCESSABLE", f"The single select option Id does not belong to the field: {raw}"
        )
    if field.data_type == "ITERATION" and field.find_iteration(raw) is None:
        raise GraphQLFault("UNPROCESSABLE", f"The iteration Id does not belong to the field: {raw}")
    return float(raw) if field.data_type == "NUMBER" else str(raw)


def _item_edited(
    ctx: ResolveContext,
    project: Project,
    item: ProjectItem,
    field: ProjectField,
    before: float | str | None,
) -> None:
    touch(item)
    changes = {"field_value": {"field_node_id": field.node_id, "field_type": field.data_type.lower(),
                               "from": before, "to": item.values.get(field.id)}}  # fmt: skip
    ctx.events.append(WebhookEvent("projects_v2_item", "edited", item, {"changes": changes}))


@resolves("Mutation", "updateProjectV2ItemFieldValue")
def _update_item_field(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    data = args["input"]
    project, item, field = _item_and_field(ctx, data)
    new = _coerce_value(field, data["value"])
    before = item.values.get(field.id)
    if before != new:
        item.values[field.id] = new
        _item_edited(ctx, project, item, field, before)
        item.value_updated[field.id] = item.updated_at
    return {"clientMutationId": data.get("clientMutationId"), "projectV2Item": item}


@resolves("Mutation", "clearProjectV2ItemFieldValue")
def _clear_item_field(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    data = args["input"]
    project, item, field = _item_and_field(ctx, data)
    before = item.values.pop(field.id, None)
    item.value_updated.pop(field.id, None)
    if before is not None:
        _item_edited(ctx, project, item, field, before)
    return {"clientMutationId": data.get("clientMutationId"), "projectV2Item": item}


@resolves("Mutation", "updateProjectV2ItemPosition")
def _update_item_position(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    """Put the item right after ``afterId``, or at the top when it is null or omitted (the
    input's description, docs/tracker-apis.md §4.2); a ``reordered`` event names the item
    it now follows, as ``changes.previous_projects_v2_item_node_id``."""
    data = args["input"]
    project: Project = _lookup(ctx, data["projectId"], Project, "ProjectV2")
    item: ProjectItem = _lookup(ctx, data["itemId"], ProjectItem, "ProjectV2Item")
    after_id = data.get("afterId")
    after = _lookup(ctx, after_id, ProjectItem, "ProjectV2Item") if after_id else None
    if item.project_number != project.number or (
        after is not None and after.project_number != project.number
    ):
        raise GraphQLFault("NOT_FOUND", "The item does not belong to the project.")
    if after is item:
        raise GraphQLFault("UNPROCESSABLE", "An item cannot be positioned after itself.")
    before = move_item(project, item, after)
    if before is not after:
        touch(item)
        change = {"from": before.node_id if before else None, "to": after_id or None}
        ctx.events.append(
            WebhookEvent(
                "projects_v2_item",
                "reordered",
                item,
                {"changes": {"previous_projects_v2_item_node_id": change}},
            )
        )
    return {"clientMutationId": data.get("clientMutationId"), "project": project}


@resolves("UpdateProjectV2ItemPositionPayload", "items")
def _position_payload_items(payload: JSON, ctx: ResolveContext, args: JSON) -> JSON:
    project: Project = payload["project"]
    return connection([it for it in project.items if not it.archived], args)


def move_item(project: Project, item: ProjectItem, after: ProjectItem | None) -> ProjectItem | None:
    """Move ``item`` right after ``after`` (None: to the top); return the item it followed."""
    index = project.items.index(item)
    before = project.items[index - 1] if index else None
    del project.items[index]
    project.items.insert(project.items.index(after) + 1 if after is not None else 0, item)
    return before


def _labelable_and_labels(ctx: ResolveContext, data: JSON) -> tuple[Issue, list[Label]]:
    issue: Issue = _lookup(ctx, data["labelableId"], Issue, "Labelable")
    ids = list(data.get("labelIds") or []) + [u["labelId"] for u in data.get("labels") or []]
    labels = [_lookup(ctx, label_id, Label, "Label") for label_id in ids]
    if any(lb.repo != issue.repo for lb in labels):
        raise GraphQLFault("NOT_FOUND", "Labels must belong to the labelable's repository.")
    return issue, labels


@resolves("Mutation", "addLabelsToLabelable")
def _add_labels(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    issue, labels = _labelable_and_labels(ctx, args["input"])
    present = {n.casefold() for n in issue.labels}
    for label in labels:
        if label.name.casefold() not in present:
            issue.labels.append(label.name)
            present.add(label.name.casefold())
            touch(issue)
            ctx.events.append(WebhookEvent("issues", "labeled", issue, {"label": label}))
    return {"clientMutationId": args["input"].get("clientMutationId"), "labelable": issue}


@resolves("Mutation", "removeLabelsFromLabelable")
def _remove_labels(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    issue, labels = _labelable_and_labels(ctx, args["input"])
    for label in labels:
        kept = [n for n in issue.labels if n.casefold() != label.name.casefold()]
        if len(kept) != len(issue.labels):
            issue.labels = kept
            touch(issue)
            ctx.events.append(WebhookEvent("issues", "unlabeled", issue, {"label": label}))
    return {"clientMutationId": args["input"].get("clientMutationId"), "labelable": issue}


class LabelRejected(ValueError):
    """A label GitHub refuses: the field at fault, REST's error code, GraphQL's message."""

    def __init__(
        self, field: Literal["name", "color"], code: Literal["already_exists", "invalid"]
    ) -> None:
        self.field = field
        self.code = code
        super().__init__(_LABEL_MESSAGES[field])


_LABEL_MESSAGES = {"name": "Name has already been taken", "color": "Color is invalid"}


def create_label(
    state: GitHubState, repo: Repository, *, name: str, color: str, description: str | None
) -> Label:
    """Create a label in ``repo``; ``LabelRejected`` with GitHub's reason when invalid."""
    if repo.find_label(name) is not None:
        raise LabelRejected("name", "already_exists")
    if not _HEX_COLOR.match(color):
        raise LabelRejected("color", "invalid")
    label_id = state.allocate_id()
    label = Label(
        id=label_id,
        node_id=make_node_id("LA", label_id),
        repo=repo.name,
        name=name,
        color=color.lower(),
        description=description,
    )
    repo.labels.append(label)
    state.register_node(label.node_id, label)
    return label


@resolves("Mutation", "createLabel")
def _create_label(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    data = args["input"]
    repo: Repository = _lookup(ctx, data["repositoryId"], Repository, "Repository")
    try:
        label = create_label(
            ctx.state,
            repo,
            name=data["name"],
            color=data["color"],
            description=data.get("description"),
        )
    except LabelRejected as exc:
        raise GraphQLFault("UNPROCESSABLE", str(exc)) from exc
    return {"clientMutationId": data.get("clientMutationId"), "label": label}


def _issue_field_value(field: OrgIssueField, entry: JSON) -> float | str:
    if field.data_type == "number" and entry.get("numberValue") is not None:
        return float(entry["numberValue"])
    if field.data_type == "text" and entry.get("textValue") is not None:
        return str(entry["textValue"])
    if field.data_type == "date" and entry.get("dateValue") is not None:
        return str(entry["dateValue"])
    option_id = entry.get("singleSelectOptionId")
    if field.data_type == "single_select" and option_id is not None:
        option = next((o for o in field.options if make_node_id("IFSO", o.id) == option_id), None)
        if option is not None:
            return option.name
    raise GraphQLFault(
        "UNPROCESSABLE", f"No valid {field.data_type} value for the field {field.name}."
    )


@resolves("Mutation", "setIssueFieldValue")
def _set_issue_field_value(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    data = args["input"]
    issue: Issue = _lookup(ctx, data["issueId"], Issue, "Issue")
    for entry in data["issueFields"]:
        field: OrgIssueField = _lookup(ctx, entry["fieldId"], OrgIssueField, "IssueField")
        if entry.get("delete"):
            issue.issue_field_values.pop(field.id, None)
        else:
            issue.issue_field_values[field.id] = _issue_field_value(field, entry)
    touch(issue)
    ctx.events.append(WebhookEvent("issues", "edited", issue))
    refs = [IssueFieldValueRef(issue, f, v) for fid, v in sorted(issue.issue_field_values.items())
            if (f := ctx.state.find_issue_field(fid)) is not None]  # fmt: skip
    return {
        "clientMutationId": data.get("clientMutationId"),
        "issue": issue,
        "issueFieldValues": refs,
    }


_FIELD_PREFIX = {"SINGLE_SELECT": "PVTSSF", "ITERATION": "PVTIF"}
#: Names every Project has as built-in fields; GitHub refuses a custom field named so.
_RESERVED_FIELD_NAMES = frozenset(
    n.casefold()
    for n in ("Title", "Assignees", "Status", "Labels", "Linked pull requests", "Milestone",
              "Repository", "Reviewers", "Parent issue", "Sub-issues progress", "Type")
)  # fmt: skip


@resolves("Mutation", "createProjectV2Field")
def _create_project_field(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    """``createProjectV2Field``: a NUMBER, TEXT, DATE or SINGLE_SELECT field with its options.

    A name the Project already has (its own fields or a built-in one) is refused, as is an
    account that may not change the Project's settings (the sandbox's wording).
    """
    data = args["input"]
    project: Project = _lookup(ctx, data["projectId"], Project, "ProjectV2")
    if not ctx.state.viewer_can_admin_projects:
        raise GraphQLFault(
            "FORBIDDEN",
            f"{ctx.state.viewer_login} does not have permission to change the settings of "
            f"project {project.number}.",
        )
    name = str(data["name"]).strip()
    taken = {f.name.casefold() for f in project.fields} | _RESERVED_FIELD_NAMES
    if not name or name.casefold() in taken:
        raise GraphQLFault("UNPROCESSABLE", "Name has already been taken")
    data_type = str(data["dataType"])
    if data_type == "ITERATION":
        raise GraphQLFault("UNPROCESSABLE", "The sandbox does not create iteration fields.")
    options = list(data.get("singleSelectOptions") or ())
    if data_type == "SINGLE_SELECT" and not options:
        raise GraphQLFault("UNPROCESSABLE", "A single select field needs at least one option.")
    field_id = ctx.state.allocate_id()
    created = ProjectField(
        id=field_id,
        node_id=make_node_id(_FIELD_PREFIX.get(data_type, "PVTF"), field_id),
        project_number=project.number,
        name=name,
        data_type=data_type,  # type: ignore[arg-type]  # the schema's enum
        options=[
            SelectOption(
                id=f"{ctx.state.allocate_id():08x}",
                name=str(o["name"]),
                color=str(o["color"]),
                description=str(o.get("description") or ""),
            )
            for o in options
        ]
        if data_type == "SINGLE_SELECT"
        else [],
    )
    project.fields.append(created)
    ctx.state.register_node(created.node_id, created)
    return {"clientMutationId": data.get("clientMutationId"), "projectV2Field": created}


@resolves("Mutation", "updateProjectV2Field")
def _update_project_field(_: Any, ctx: ResolveContext, args: JSON) -> JSON:
    """``updateProjectV2Field``: rename a field or replace a single select's options.

    Given options overwrite the field's: one sent with the ``id`` of an existing option keeps
    that option (and the items holding it); the others are new, and an item whose option is
    no longer listed loses its value, as GitHub documents.
    """
    data = args["input"]
    field: ProjectField = _lookup(ctx, data["fieldId"], ProjectField, "ProjectV2Field")
    project = ctx.state.projects[field.project_number]
    if not ctx.state.viewer_can_admin_projects:
        raise GraphQLFault(
            "FORBIDDEN",
            f"{ctx.state.viewer_login} does not have permission to change the settings of "
            f"project {project.number}.",
        )
    if data.get("name"):
        field.name = str(data["name"]).strip()
    given = data.get("singleSelectOptions") or []
    if given and field.data_type != "SINGLE_SELECT":
        raise GraphQLFault("UNPROCESSABLE", "Only single select fields have options.")
    if given:
        options = []
        for o in given:
            kept = field.find_option(str(o["id"])) if o.get("id") else None
            if o.get("id") and kept is None:
                raise GraphQLFault(
                    "NOT_FOUND", f"The option {o['id']} does not belong to the field."
                )
            options.append(
                SelectOption(
                    id=kept.id if kept else f"{ctx.state.allocate_id():08x}",
                    name=str(o["name"]),
                    color=str(o["color"]),
                    description=str(o.get("description") or ""),
                )
            )
        field.options = options
        known = {o.id for o in options}
        for item in project.items:
            if field.id in item.values and item.values[field.id] not in known:
                del item.values[field.id]
    return {"clientMutationId": data.get("clientMutationId"), "projectV2Field": field}
