"""Cut GitHub's public GraphQL SDL down to the part the sandbox serves.

The sandbox ships ``schema.graphql``, written by this module from the official SDL
(``tests/contracts/github-schema.graphql``, octokit/graphql-schema at
440fe2ae6891b4fffc09c96a8e74348c2402c7b7). Every definition it keeps is copied from the
official one unchanged — descriptions, arguments, directives — except that object fields,
interface lists and union members are narrowed to :data:`KEPT_OUTPUT_TYPES`. Input objects,
enums and scalars are kept whole, so a document the trimmed schema accepts is one the real
endpoint accepts. A test checks that property against the official file.

Regenerate with::

    python -m sandbox.github.schema_trim OFFICIAL.graphql OUT.graphql
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)
from graphql.language.ast import DefinitionNode

_CONNECTION = ("edges", "nodes", "pageInfo", "totalCount")
_EDGE = ("cursor", "node")
_FIELD_COMMON = ("createdAt", "dataType", "databaseId", "id", "name", "project", "updatedAt")
_VALUE_COMMON = ("createdAt", "databaseId", "field", "id", "item", "updatedAt")
_ISSUE_FIELD_COMMON = ("createdAt", "dataType", "description", "id", "name", "visibility")
_ISSUE_LIKE = (
    "assignees", "body", "closed", "createdAt", "databaseId", "id", "labels", "number", "projectItems",
    "repository", "title", "updatedAt", "url",
)  # fmt: skip

#: Object and interface types → the fields kept; union types → the members kept.
KEPT_OUTPUT_TYPES: Mapping[str, tuple[str, ...]] = {
    "Query": ("node", "nodes", "organization", "rateLimit", "repository", "user", "viewer"),
    "Mutation": (
        "addLabelsToLabelable", "clearProjectV2ItemFieldValue", "createLabel",
        "createProjectV2Field", "removeLabelsFromLabelable", "setIssueFieldValue",
        "updateProjectV2Field", "updateProjectV2ItemFieldValue", "updateProjectV2ItemPosition",
    ),
    "Node": ("id",),
    "RateLimit": ("cost", "limit", "nodeCount", "remaining", "resetAt", "used"),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "ProjectV2Owner": ("id", "projectV2", "projectsV2"),
    "RepositoryOwner": ("id", "login", "repository", "url"),
    "Organization": (
        "databaseId", "id", "issueFields", "login", "name", "projectV2", "projectsV2",
        "repository", "url",
    ),
    "User": ("databaseId", "id", "login", "name", "projectV2", "projectsV2", "repository", "url"),
    "Repository": (
        "databaseId", "id", "isArchived", "issue", "issues", "label", "labels", "name",
        "nameWithOwner", "owner", "pullRequest", "url",
    ),
    "Labelable": ("labels",),
    "Issue": (
        *_ISSUE_LIKE, "blockedBy", "blocking", "issueDependenciesSummary", "issueFieldValues",
        "state",
    ),
    "IssueDependenciesSummary": ("blockedBy", "blocking", "totalBlockedBy", "totalBlocking"),
    "PullRequest": (*_ISSUE_LIKE, "isDraft", "state"),
    "DraftIssue": ("body", "createdAt", "id", "title", "updatedAt"),
    "Label": ("color", "createdAt", "description", "id", "isDefault", "name", "updatedAt", "url"),
    "UserConnection": _CONNECTION,
    "UserEdge": _EDGE,
    "LabelConnection": _CONNECTION,
    "LabelEdge": _EDGE,
    "IssueConnection": _CONNECTION,
    "IssueEdge": _EDGE,
    "ProjectV2": (
        "closed", "createdAt", "databaseId", "field", "fields", "id", "items", "number",
        "owner", "public", "shortDescription", "title", "updatedAt", "url",
    ),
    "ProjectV2Connection": _CONNECTION,
    "ProjectV2Edge": _EDGE,
    "ProjectV2FieldCommon": _FIELD_COMMON,
    "ProjectV2Field": _FIELD_COMMON,
    "ProjectV2SingleSelectField": (*_FIELD_COMMON, "options"),
    "ProjectV2IterationField": (*_FIELD_COMMON, "configuration"),
    "ProjectV2SingleSelectFieldOption": (
        "color", "description", "descriptionHTML", "id", "name", "nameHTML",
    ),
    "ProjectV2IterationFieldConfiguration": (
        "completedIterations", "duration", "iterations", "startDay",
    ),
    "ProjectV2IterationFieldIteration": ("duration", "id", "startDate", "title", "titleHTML"),
    "ProjectV2FieldConfiguration": (
        "ProjectV2Field", "ProjectV2IterationField", "ProjectV2SingleSelectField",
    ),
    "ProjectV2FieldConfigurationConnection": _CONNECTION,
    "ProjectV2FieldConfigurationEdge": _EDGE,
    "ProjectV2Item": (
        "content", "createdAt", "databaseId", "fieldValueByName", "fieldValues", "id",
        "isArchived", "project", "type", "updatedAt",
    ),
    "ProjectV2ItemConnection": _CONNECTION,
    "ProjectV2ItemEdge": _EDGE,
    "ProjectV2ItemContent": ("DraftIssue", "Issue", "PullRequest"),
    "ProjectV2ItemFieldValue": (
        "ProjectV2ItemFieldDateValue", "ProjectV2ItemFieldIterationValue",
        "ProjectV2ItemFieldNumberValue", "ProjectV2ItemFieldSingleSelectValue",
        "ProjectV2ItemFieldTextValue",
    ),
    "ProjectV2ItemFieldValueConnection": _CONNECTION,
    "ProjectV2ItemFieldValueEdge": _EDGE,
    "ProjectV2ItemFieldValueCommon": _VALUE_COMMON,
    "ProjectV2ItemFieldDateValue": (*_VALUE_COMMON, "date"),
    "ProjectV2ItemFieldIterationValue": (
        *_VALUE_COMMON, "duration", "iterationId", "startDate", "title", "titleHTML",
    ),
    "ProjectV2ItemFieldNumberValue": (*_VALUE_COMMON, "number"),
    "ProjectV2ItemFieldSingleSelectValue": (
        *_VALUE_COMMON, "color", "description", "name", "optionId",
    ),
    "ProjectV2ItemFieldTextValue": (*_VALUE_COMMON, "text"),
    "IssueFieldCommon": ("createdAt", "dataType", "description", "name", "visibility"),
    "IssueFields": ("IssueFieldDate", "IssueFieldNumber", "IssueFieldSingleSelect", "IssueFieldText"),
    "IssueFieldDate": _ISSUE_FIELD_COMMON,
    "IssueFieldNumber": _ISSUE_FIELD_COMMON,
    "IssueFieldSingleSelect": (*_ISSUE_FIELD_COMMON, "options"),
    "IssueFieldText": _ISSUE_FIELD_COMMON,
    "IssueFieldSingleSelectOption": ("color", "description", "id", "name"),
    "IssueFieldsConnection": _CONNECTION,
    "IssueFieldsEdge": _EDGE,
    "IssueFieldValueCommon": ("field",),
    "IssueFieldValue": (
        "IssueFieldDateValue", "IssueFieldNumberValue", "IssueFieldSingleSelectValue",
        "IssueFieldTextValue",
    ),
    "IssueFieldDateValue": ("field", "id", "value"),
    "IssueFieldNumberValue": ("field", "id", "value"),
    "IssueFieldSingleSelectValue": ("color", "field", "id", "name", "optionId", "value"),
    "IssueFieldTextValue": ("field", "id", "value"),
    "IssueFieldValueConnection": _CONNECTION,
    "IssueFieldValueEdge": _EDGE,
    "AddLabelsToLabelablePayload": ("clientMutationId", "labelable"),
    "RemoveLabelsFromLabelablePayload": ("clientMutationId", "labelable"),
    "CreateLabelPayload": ("clientMutationId", "label"),
    "CreateProjectV2FieldPayload": ("clientMutationId", "projectV2Field"),
    "UpdateProjectV2FieldPayload": ("clientMutationId", "projectV2Field"),
    "UpdateProjectV2ItemFieldValuePayload": ("clientMutationId", "projectV2Item"),
    "ClearProjectV2ItemFieldValuePayload": ("clientMutationId", "projectV2Item"),
    "UpdateProjectV2ItemPositionPayload": ("clientMutationId", "items"),
    "SetIssueFieldValuePayload": ("clientMutationId", "issue", "issueFieldValues"),
}  # fmt: skip

_HEADER = (
    "# Generated by sandbox.github.schema_trim from GitHub's public schema\n"
    "# (octokit/graphql-schema 440fe2ae6891b4fffc09c96a8e74348c2402c7b7). Do not edit by hand.\n"
)

_Named = (
    ObjectTypeDefinitionNode
    | InterfaceTypeDefinitionNode
    | UnionTypeDefinitionNode
    | InputObjectTypeDefinitionNode
    | EnumTypeDefinitionNode
    | ScalarTypeDefinitionNode
)


def named_type(type_node: TypeNode) -> str:
    """Return the name under any list/non-null wrappers of a type reference."""
    while isinstance(type_node, ListTypeNode | NonNullTypeNode):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def index_definitions(document: DocumentNode) -> dict[str, _Named]:
    """Map each named type definition of an SDL document to its name."""
    return {d.name.value: d for d in document.definitions if isinstance(d, _Named)}


def _referenced_by_inputs(values: Iterable[InputValueDefinitionNode]) -> set[str]:
    return {named_type(v.type) for v in values}


def _referenced_by_fields(fields: Iterable[FieldDefinitionNode]) -> set[str]:
    names: set[str] = set()
    for f in fields:
        names.add(named_type(f.type))
        names |= _referenced_by_inputs(f.arguments or ())
    return names


def _trim_object(
    node: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode,
    keep: tuple[str, ...],
) -> ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode:
    fields = [f for f in node.fields or () if f.name.value in keep]
    missing = set(keep) - {f.name.value for f in fields}
    if missing:
        raise ValueError(f"{node.name.value} has no field(s) {sorted(missing)}")
    kept_names = {f.name.value for f in fields}
    # An interface stays in the list only when every kept field of it is kept here too.
    interfaces = [
        i for i in node.interfaces or ()
        if i.name.value in KEPT_OUTPUT_TYPES
        and set(KEPT_OUTPUT_TYPES[i.name.value]) <= kept_names
    ]  # fmt: skip
    return replace(node, fields=tuple(fields), interfaces=tuple(interfaces))


def _trim_union(node: UnionTypeDefinitionNode, keep: tuple[str, ...]) -> UnionTypeDefinitionNode:
    members = [t for t in node.types or () if t.name.value in keep]
    if len(members) != len(keep):
        raise ValueError(f"union {node.name.value} lacks some of {keep}")
    return replace(node, types=tuple(members))


def _trim_one(definition: _Named) -> tuple[DefinitionNode, set[str]]:
    """Return the trimmed definition and the type names it references."""
    name = definition.name.value
    if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        if name not in KEPT_OUTPUT_TYPES:
            raise ValueError(f"output type {name} is referenced but not listed")
        trimmed = _trim_object(definition, KEPT_OUTPUT_TYPES[name])
        refs = _referenced_by_fields(trimmed.fields or ())
        return trimmed, refs | {i.name.value for i in trimmed.interfaces or ()}
    if isinstance(definition, UnionTypeDefinitionNode):
        if name not in KEPT_OUTPUT_TYPES:
            raise ValueError(f"union {name} is referenced but not listed")
        union = _trim_union(definition, KEPT_OUTPUT_TYPES[name])
        return union, {t.name.value for t in union.types or ()}
    if isinstance(definition, InputObjectTypeDefinitionNode):
        return definition, _referenced_by_inputs(definition.fields or ())
    return definition, set()


def trim_schema(official_sdl: str) -> str:
    """Return the SDL of the sandbox schema cut from ``official_sdl``."""
    document = parse(official_sdl, no_location=True)
    by_name = index_definitions(document)
    directives = [d for d in document.definitions if isinstance(d, DirectiveDefinitionNode)]
    pending = {"Query", "Mutation"}
    for directive in directives:
        pending |= _referenced_by_inputs(directive.arguments or ())
    kept: dict[str, DefinitionNode] = {}
    while pending:
        name = pending.pop()
        if name in kept or name not in by_name:  # built-in scalars are not in the file
            continue
        kept[name], refs = _trim_one(by_name[name])
        pending |= refs - kept.keys()
    unused = set(KEPT_OUTPUT_TYPES) - kept.keys()
    if unused:
        raise ValueError(f"listed but unreachable: {sorted(unused)}")
    parts = [print_ast(d) for d in directives]
    parts += [print_ast(kept[name]) for name in sorted(kept)]
    return _HEADER + "\n" + "\n\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    """Write the trimmed SDL: ``schema_trim OFFICIAL OUT``."""
    official, out = (Path(a) for a in argv)
    out.write_text(trim_schema(official.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
