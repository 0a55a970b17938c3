"""GraphQL documents priosync sends to GitHub, and pure builders for the dynamic ones.

Every document asks for ``rateLimit { cost remaining resetAt }`` alongside its data, so the
client always knows the hourly budget (docs/tracker-apis.md §3.7). Values never go into document
text: field names and mutation inputs travel as variables, so a name with quotes cannot
break a document and the document for a given shape is always the same string.

Projects v2 API: https://docs.github.com/en/issues/planning-and-tracking-with-projects/automating-your-project/using-the-api-to-manage-projects
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

#: Every connection is capped at 100 nodes a page (docs/tracker-apis.md §3.4).
PAGE_SIZE = 100
#: Labels read per issue; an issue with more loses the rest from view (logged, not guessed).
LABELS_PER_ITEM = 100
#: Mutations per document. GitHub documents no cap on aliases, but a request running over
#: 10 s is killed with 502/504 and still costs points (§3.7); aliased mutations run one after
#: another server-side, so documents stay short enough to finish well inside that.
MUTATIONS_PER_DOCUMENT = 50

RATE_LIMIT = "rateLimit { cost remaining resetAt }"

#: An organization's Project and its field definitions (ids, types, single-select options).
ORG_PROJECT_QUERY = f"""query($owner: String!, $number: Int!) {{
  organization(login: $owner) {{
    projectV2(number: $number) {{
      id title url
      fields(first: {PAGE_SIZE}) {{
        nodes {{
          ... on ProjectV2FieldCommon {{ id name dataType }}
          ... on ProjectV2SingleSelectField {{ options {{ id name }} }}
        }}
      }}
    }}
  }}
  {RATE_LIMIT}
}}"""

#: The same for a user-owned Project (asked only when the owner is not an organization).
USER_PROJECT_QUERY = ORG_PROJECT_QUERY.replace("organization(login: $owner)", "user(login: $owner)")

#: The token's own login, for ``check``.
VIEWER_QUERY = f"query {{ viewer {{ login }} {RATE_LIMIT} }}"

#: A repository's labels with their node ids (label mutations take ids, not names, §3.3).
REPO_LABELS_QUERY = f"""query($owner: String!, $name: String!, $after: String) {{
  repository(owner: $owner, name: $name) {{
    id
    labels(first: {PAGE_SIZE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id name }}
    }}
  }}
  {RATE_LIMIT}
}}"""

_FIELD_VALUE = """__typename
      ... on ProjectV2ItemFieldNumberValue { number }
      ... on ProjectV2ItemFieldTextValue { text }
      ... on ProjectV2ItemFieldSingleSelectValue { name optionId }"""

#: Blockers read per issue, in one page: GitHub caps an issue's dependencies below this
#: (docs/tracker-apis.md §3.8); a longer list is cut and logged, never guessed.
DEPENDENCIES_PER_ITEM = 100
#: The issues blocking an issue, with what a ``Link`` needs: key and whether it is closed.
BLOCKED_BY = (
    f"blockedBy(first: {DEPENDENCIES_PER_ITEM}) "
    "{ totalCount nodes { number closed repository { nameWithOwner } } }"
)
#: ``nodes(ids:)`` takes at most 100 ids a call.
IDS_PER_NODES_QUERY = 100
#: When each value last changed (``ProjectV2ItemFieldValueCommon.updatedAt``).
_VALUE_DATE = """
      ... on ProjectV2ItemFieldValueCommon { updatedAt }"""


def _content(dependencies: bool) -> str:
    """An item's content; with ``dependencies`` an issue's blockers ride along (§3.8)."""
    blocked_by = f"\n        {BLOCKED_BY}" if dependencies else ""
    return f"""content {{
      __typename
      ... on DraftIssue {{ id title }}
      ... on Issue {{
        id number title url closed updatedAt
        repository {{ nameWithOwner }}
        labels(first: {LABELS_PER_ITEM}) {{ nodes {{ id name }} }}{blocked_by}
        assignees(first: 5) {{ nodes {{ login }} }}
      }}
      ... on PullRequest {{
        id number title url closed updatedAt
        repository {{ nameWithOwner }}
        labels(first: {LABELS_PER_ITEM}) {{ nodes {{ id name }} }}
      }}
    }}"""


#: The blockers of up to ``IDS_PER_NODES_QUERY`` issues named by node id (repository
#: sources, whose issues come over REST with only a count of their blockers).
BLOCKERS_QUERY = f"""query($ids: [ID!]!) {{
  nodes(ids: $ids) {{
    ... on Issue {{ id {BLOCKED_BY} }}
  }}
  {RATE_LIMIT}
}}"""


def field_alias(index: int) -> str:
    """The alias under which the ``index``-th mapped field's value comes back."""
    return f"f{index}"


def build_items_query(field_count: int, *, dependencies: bool = False, dates: bool = False) -> str:
    """The item page query asking only for ``field_count`` named fields' values.

    Each mapped field is read with ``fieldValueByName(name: $fN)`` under alias ``fN``, so a
    page carries exactly the values priosync uses, never every field of the project. With
    ``dependencies`` each issue's blockers come in the same page; with ``dates``
    (``[scoring.freshness]``) each value also brings its ``updatedAt``
    (``ProjectV2ItemFieldValueCommon``), in the same pages.
    """
    names = "".join(f", ${field_alias(i)}: String!" for i in range(field_count))
    value = _FIELD_VALUE + (_VALUE_DATE if dates else "")
    values = "".join(
        f"\n    {field_alias(i)}: fieldValueByName(name: ${field_alias(i)}) {{\n      {value}\n    }}"
        for i in range(field_count)
    )
    return f"""query($project: ID!, $after: String{names}) {{
  node(id: $project) {{
    ... on ProjectV2 {{
      items(first: {PAGE_SIZE}, after: $after, orderBy: {{field: POSITION, direction: ASC}}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{
          id type updatedAt
          {_content(dependencies)}{values}
        }}
      }}
    }}
  }}
  {RATE_LIMIT}
}}"""


def build_nodes_query(field_count: int, *, dependencies: bool = False, dates: bool = False) -> str:
    """Project items looked up by node id (``nodes``, at most 100 ids), with the same
    selection as an item page, so one item costs one small document, not a Project read."""
    names = "".join(f", ${field_alias(i)}: String!" for i in range(field_count))
    value = _FIELD_VALUE + (_VALUE_DATE if dates else "")
    values = "".join(
        f"\n      {field_alias(i)}: fieldValueByName(name: ${field_alias(i)}) {{\n        {value}\n      }}"
        for i in range(field_count)
    )
    return f"""query($ids: [ID!]!{names}) {{
  nodes(ids: $ids) {{
    ... on ProjectV2Item {{
      id type updatedAt isArchived
      project {{ id }}
      {_content(dependencies)}{values}
    }}
  }}
  {RATE_LIMIT}
}}"""


def build_nodes_variables(item_ids: Sequence[str], field_names: Sequence[str]) -> dict[str, Any]:
    """Variables for ``build_nodes_query(len(field_names))``."""
    variables: dict[str, Any] = {"ids": list(item_ids)}
    variables.update({field_alias(i): name for i, name in enumerate(field_names)})
    return variables


def build_items_variables(
    project_id: str, field_names: Sequence[str], after: str | None
) -> dict[str, Any]:
    """Variables for ``build_items_query(len(field_names))``."""
    variables: dict[str, Any] = {"project": project_id, "after": after}
    variables.update({field_alias(i): name for i, name in enumerate(field_names)})
    return variables


# ── mutations ────────────────────────────────────────────────────────────────────────────

MutationName: TypeAlias = Literal[
    "updateProjectV2ItemFieldValue",
    "clearProjectV2ItemFieldValue",
    "addLabelsToLabelable",
    "removeLabelsFromLabelable",
    "updateProjectV2ItemPosition",
]

_INPUT_TYPES: dict[MutationName, str] = {
    "updateProjectV2ItemFieldValue": "UpdateProjectV2ItemFieldValueInput!",
    "clearProjectV2ItemFieldValue": "ClearProjectV2ItemFieldValueInput!",
    "addLabelsToLabelable": "AddLabelsToLabelableInput!",
    "removeLabelsFromLabelable": "RemoveLabelsFromLabelableInput!",
    "updateProjectV2ItemPosition": "UpdateProjectV2ItemPositionInput!",
}
_SELECTIONS: dict[MutationName, str] = {
    "updateProjectV2ItemFieldValue": "projectV2Item { id }",
    "clearProjectV2ItemFieldValue": "projectV2Item { id }",
    "addLabelsToLabelable": "clientMutationId",
    "removeLabelsFromLabelable": "clientMutationId",
    "updateProjectV2ItemPosition": "clientMutationId",
}


@dataclass(frozen=True, slots=True)
class Mutation:
    """One mutation field of a batch: its name and its ``input`` object."""

    name: MutationName
    input: Mapping[str, Any]


def mutation_alias(index: int) -> str:
    """The alias of the ``index``-th mutation of a batch; errors name it in their path."""
    return f"m{index}"


def build_mutation_batch(mutations: Sequence[Mutation]) -> tuple[str, dict[str, Any]]:
    """One document running ``mutations`` in order as aliased fields, and its variables.

    Each input is a variable ``$iN`` of the mutation's input type, under alias ``mN``.
    """
    if not mutations:
        raise ValueError("a mutation batch needs at least one mutation")
    params = ", ".join(f"$i{n}: {_INPUT_TYPES[m.name]}" for n, m in enumerate(mutations))
    fields = "\n".join(
        f"  {mutation_alias(n)}: {m.name}(input: $i{n}) {{ {_SELECTIONS[m.name]} }}"
        for n, m in enumerate(mutations)
    )
    document = f"mutation({params}) {{\n{fields}\n}}"
    return document, {f"i{n}": dict(m.input) for n, m in enumerate(mutations)}


def update_field(
    project_id: str, item_id: str, field_id: str, value: Mapping[str, Any]
) -> Mutation:
    """Set one project field; ``value`` holds exactly one of text, number, singleSelectOptionId."""
    return Mutation(
        "updateProjectV2ItemFieldValue",
        {"projectId": project_id, "itemId": item_id, "fieldId": field_id, "value": dict(value)},
    )


def clear_field(project_id: str, item_id: str, field_id: str) -> Mutation:
    """Empty one project field."""
    return Mutation(
        "clearProjectV2ItemFieldValue",
        {"projectId": project_id, "itemId": item_id, "fieldId": field_id},
    )


def add_labels(labelable_id: str, label_ids: Sequence[str]) -> Mutation:
    """Add labels (by node id) to an issue or pull request, keeping the others."""
    return Mutation(
        "addLabelsToLabelable", {"labelableId": labelable_id, "labelIds": list(label_ids)}
    )


def remove_labels(labelable_id: str, label_ids: Sequence[str]) -> Mutation:
    """Remove labels (by node id) from an issue or pull request, keeping the others."""
    return Mutation(
        "removeLabelsFromLabelable", {"labelableId": labelable_id, "labelIds": list(label_ids)}
    )


def update_position(project_id: str, item_id: str, after_id: str | None) -> Mutation:
    """Put a Project item right after another; ``after_id`` None puts it at the top
    (docs/tracker-apis.md §4.2)."""
    return Mutation(
        "updateProjectV2ItemPosition",
        {"projectId": project_id, "itemId": item_id, "afterId": after_id},
    )


#: How many items a Project holds (``check`` prices a full sync with it).
PROJECT_SIZE_QUERY = f"""query($project: ID!) {{
  node(id: $project) {{ ... on ProjectV2 {{ items(first: 1) {{ totalCount }} }} }}
  {RATE_LIMIT}
}}"""
