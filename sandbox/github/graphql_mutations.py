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
