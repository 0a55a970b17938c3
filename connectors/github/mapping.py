"""GitHub items ↔ domain types, and changes → writes; pure, no I/O.

Reading: a Project item (GraphQL, ``graphql.build_items_query``) or a repository issue
(REST ``GET /repos/{o}/{r}/issues``, with ``issue_field_values``) becomes a ``WorkItem``.
Keys are ``owner/repo#number``; a Project's draft issue, which has no repository or
number, is keyed ``draft:<project item node id>`` (stable, and it sorts after real issues).
Writing: owned values that differ become Project field mutations or a merged issue-field
set; labels are only ever added or removed one by one (design §8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.fields import FieldMap, Role, TrackerField
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.dependencies import blocked_by_links
from connectors.github.fields import read_names
from priosync.compact import EMPTY_MAPPING, shared_labels, shared_pairs, shared_text
from priosync.domain import Change, InputsChanged, Outputs, RawValue, WorkItem
from priosync.errors import ChangeRejected
from scoring import METRIC_INPUT

DRAFT_PREFIX = "draft:"


@dataclass(frozen=True, slots=True)
class ItemHandle:
    """What writing back needs: node ids, the repository and number, current raw state."""

    repo: str | None
    number: int | None
    #: The issue's or pull request's node id (label mutations); None for drafts.
    content_id: str | None = None
    #: The Project item's node id (field mutations); None for repository sources.
    item_id: str | None = None
    #: Label name → node id as read on the item (GraphQL removals need ids).
    label_ids: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)
    #: Repository sources: every issue field value as read, by field id (the set to merge into).
    field_values: Mapping[str, RawValue] = field(default_factory=lambda: EMPTY_MAPPING)

    @property
    def is_draft(self) -> bool:
        return self.repo is None


def handle_of(change: Change) -> ItemHandle:
    """The handle a change's item was read with; ``ChangeRejected`` when it has none."""
    handle = change.item.handle if change.item is not None else None
    if not isinstance(handle, ItemHandle):
        raise ChangeRejected(
            f"{change.key}: no GitHub handle (item not read by this connector)",
            tracker=p.TRACKER,
            status=None,
        )
    return handle


def issue_ref(change: Change) -> tuple[ItemHandle, str, int]:
    """The handle, repository and number of a change's issue; ``ChangeRejected`` when it
    has no handle or is a draft (which has neither)."""
    handle = handle_of(change)
    if handle.repo is None or handle.number is None:
        raise ChangeRejected(
            f"{change.key}: a draft issue has no repository to write to",
            tracker=p.TRACKER,
            status=None,
        )
    return handle, handle.repo, handle.number


def parse_timestamp(raw: Any) -> datetime | None:
    """GitHub's ISO-8601 timestamp, or None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(raw: Any) -> float | None:
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def _rank(raw: RawValue) -> int | None:
    number = _number(raw)
    return int(number) if number is not None and number.is_integer() else None


def assignee_logins(users: Any) -> str | None:
    """The logins of an issue's assignees (REST ``assignees``, GraphQL ``assignees.nodes``),
    joined by ", "; None when nobody is assigned."""
    logins = [str(u["login"]) for u in users or () if isinstance(u, Mapping) and u.get("login")]
    return ", ".join(logins) or None


def current_outputs(
    values: Mapping[str, RawValue], fields: FieldMap, labels: frozenset[str]
) -> Outputs:
    """The owned values an item holds, from its raw values by field id."""

    def raw(found: TrackerField | None) -> RawValue:
        return values.get(found.id) if found is not None else None

    explanation = raw(fields.explanation)
    priority = raw(fields.priority)
    return Outputs(
        score=_number(raw(fields.score)),
        priority=str(priority) if priority is not None else None,
        labels=labels,
        explanation=str(explanation) if explanation is not None else None,
        rank=_rank(raw(fields.rank)),
    )


def input_values(values: Mapping[str, RawValue], fields: FieldMap) -> dict[str, RawValue]:
    """Raw inputs by model input name; an empty field is absent."""
    return {name: values[f.id] for name, f in fields.inputs.items() if values.get(f.id) is not None}


# ── Projects ─────────────────────────────────────────────────────────────────────────────


def project_value(node: Any) -> RawValue:
    """The raw value of one ``fieldValueByName`` answer (number, text or option name)."""
    if not isinstance(node, Mapping):
        return None
    kind = node.get("__typename")
    if kind == "ProjectV2ItemFieldNumberValue":
        return _number(node.get("number"))
    if kind == "ProjectV2ItemFieldTextValue":
        return node.get("text") if isinstance(node.get("text"), str) else None
    if kind == "ProjectV2ItemFieldSingleSelectValue":
        name = node.get("name")
        return shared_text(name) if isinstance(name, str) else None
    return None


def project_values(node: Mapping[str, Any], fields: FieldMap) -> dict[str, RawValue]:
    """Raw values by field id from an item node read with ``read_names(fields)`` aliases."""
    by_name = {f.name: f for f in [*fields.inputs.values(), *fields.outputs().values()]}
    values: dict[str, RawValue] = {}
    for index, name in enumerate(read_names(fields)):
        value = project_value(node.get(g.field_alias(index)))
        if value is not None:
            values[by_name[name].id] = value
    return values


def project_inputs_changed(node: Mapping[str, Any], fields: FieldMap) -> datetime | None:
    """The latest ``updatedAt`` of the item's input values (read with ``dates``), if any."""
    inputs = {f.name for name, f in fields.inputs.items() if name != METRIC_INPUT}
    latest: datetime | None = None
    for index, name in enumerate(read_names(fields)):
        value = node.get(g.field_alias(index))
        if name not in inputs or not isinstance(value, Mapping):
            continue
        at = parse_timestamp(value.get("updatedAt"))
        if at is not None and (latest is None or at > latest):
            latest = at
    return latest


def item_kind(node: Mapping[str, Any]) -> str:
    """``ISSUE``, ``PULL_REQUEST``, ``DRAFT_ISSUE`` or ``REDACTED`` (no access to the content)."""
    content = node.get("content")
    if not isinstance(content, Mapping):
        return "REDACTED"
    return {"Issue": "ISSUE", "PullRequest": "PULL_REQUEST", "DraftIssue": "DRAFT_ISSUE"}.get(
        str(content.get("__typename")), str(node.get("type") or "REDACTED")
    )


def in_scope(*, pull_request: bool, closed: bool, include_pull_requests: bool, state: str) -> bool:
    """Whether an issue or pull request belongs to a source: pull requests only when asked,
    and the configured state (``open``, ``closed`` or ``all``)."""
    if pull_request and not include_pull_requests:
        return False
    return state == "all" or closed == (state == "closed")


def keep_project_item(node: Mapping[str, Any], *, include_pull_requests: bool, state: str) -> bool:
    """Whether a Project item belongs to the source: readable content and ``in_scope``
    (drafts count as open issues)."""
    kind = item_kind(node)
    if kind == "REDACTED":
        return False
    closed = kind != "DRAFT_ISSUE" and bool(node["content"].get("closed"))
    return in_scope(
        pull_request=kind == "PULL_REQUEST",
        closed=closed,
        include_pull_requests=include_pull_requests,
        state=state,
    )


def work_item_from_project_item(
    node: Mapping[str, Any], *, fields: FieldMap, source: str, dependencies: bool = False
) -> WorkItem:
    """A ``WorkItem`` from one item node of ``graphql.build_items_query`` (content readable);
    with ``dependencies`` its blockers (``dependencies.blocked_by_links``) and closed state."""
    content: Mapping[str, Any] = node["content"]
    label_ids = {
        shared_text(str(n["name"])): shared_text(str(n["id"]))
        for n in (content.get("labels") or {}).get("nodes") or ()
        if isinstance(n, Mapping) and n.get("name")
    }
    values = project_values(node, fields)
    changed = project_inputs_changed(node, fields)
    if item_kind(node) == "DRAFT_ISSUE":
        key, url = f"{DRAFT_PREFIX}{node['id']}", ""
        handle = ItemHandle(repo=None, number=None, item_id=str(node["id"]))
    else:
        repo = shared_text(str(content["repository"]["nameWithOwner"]))
        number = int(content["number"])
        key, url = f"{repo}#{number}", str(content.get("url") or "")
        handle = ItemHandle(
            repo=repo,
            number=number,
            content_id=str(content["id"]),
            item_id=str(node["id"]),
            label_ids=shared_pairs(label_ids),
        )
    return WorkItem(
        key=key,
        title=str(content.get("title") or ""),
        url=url,
        source=source,
        inputs=input_values(values, fields),
        current=current_outputs(values, fields, shared_labels(label_ids)),
        updated_at=parse_timestamp(content.get("updatedAt") or node.get("updatedAt")),
        handle=handle,
        labelable=not handle.is_draft,
        ref=str(node["id"]),
        blocked_by=blocked_by_links(content)[0] if dependencies else (),
        done=dependencies and bool(content.get("closed")),
        assignee=assignee_logins((content.get("assignees") or {}).get("nodes")),
        inputs_changed=InputsChanged(changed) if changed is not None else None,
    )


# ── repositories with issue fields ───────────────────────────────────────────────────────


def issue_field_values(issue: Mapping[str, Any]) -> dict[str, RawValue]:
    """An issue's ``issue_field_values`` by field id (single-select → option name)."""
    values: dict[str, RawValue] = {}
    for entry in issue.get("issue_field_values") or ():
        if not isinstance(entry, Mapping) or entry.get("issue_field_id") is None:
            continue
        value = entry.get("value")
        option = entry.get("single_select_option")
        if isinstance(option, Mapping) and option.get("name"):
            value = shared_text(str(option["name"]))
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            values[str(entry["issue_field_id"])] = float(value) if isinstance(value, int) else value
    return values


def keep_issue(issue: Mapping[str, Any], *, include_pull_requests: bool, state: str) -> bool:
    """Whether a REST issue belongs to the source (``in_scope``; every PR is an issue too)."""
    return in_scope(
        pull_request=p.is_pull_request(issue),
        closed=issue.get("state") == "closed",
        include_pull_requests=include_pull_requests,
        state=state,
    )


def work_item_from_issue(
    issue: Mapping[str, Any],
    *,
    repo: str,
    fields: FieldMap,
    source: str,
    dependencies: bool = False,
) -> WorkItem:
    """A ``WorkItem`` from one REST issue of ``repo`` (``owner/name``); with ``dependencies``
    its closed state (its blockers come from GraphQL: ``RepositoryConnector``)."""
    values = issue_field_values(issue)
    labels = shared_labels(
        str(lb["name"])
        for lb in issue.get("labels") or ()
        if isinstance(lb, Mapping) and lb.get("name")
    )
    number = int(issue["number"])
    return WorkItem(
        key=f"{repo}#{number}",
        title=str(issue.get("title") or ""),
        url=str(issue.get("html_url") or ""),
        source=source,
        inputs=input_values(values, fields),
        current=current_outputs(values, fields, labels),
        updated_at=parse_timestamp(issue.get("updated_at")),
        handle=ItemHandle(
            repo=repo, number=number, content_id=issue.get("node_id"), field_values=values
        ),
        done=dependencies and issue.get("state") == "closed",
        assignee=assignee_logins(issue.get("assignees")),
    )


# ── writing ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """One owned field to set (``value``) or clear (``value is None``)."""

    role: Role
    field: TrackerField
    value: float | int | str | None


def field_writes(change: Change, fields: FieldMap) -> list[FieldWrite]:
    """The owned fields whose value differs between ``before`` and ``after``."""
    before, after = change.before, change.after
    pairs: list[tuple[Role, TrackerField | None, Any, Any]] = [
        ("score", fields.score, before.score, after.score),
        ("priority", fields.priority, before.priority, after.priority),
        ("explanation", fields.explanation, before.explanation, after.explanation),
        ("rank", fields.rank, before.rank, after.rank),
    ]
    return [FieldWrite(role, f, new) for role, f, old, new in pairs if f is not None and old != new]


class UnknownOption(ChangeRejected):
    """A value for a single-select field that is not one of its options: refused before it
    is sent, the way GitHub would refuse it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{p.TRACKER}: {message}", tracker=p.TRACKER, status=None)


def write_value(write: FieldWrite) -> float | str:
    """What a set sends: a number, the option's id (``UnknownOption`` if it has none), or text.

    A Project option's id is its node id; an issue field's is its name (``fields``).
    """
    if write.field.kind == "number":
        return float(write.value)  # type: ignore[arg-type]
    if write.field.kind == "select":
        option = write.field.option_id(str(write.value))
        if option is None:
            raise UnknownOption(
                f"'{write.value}' is not an option of {write.field.name} "
                f"(options: {', '.join(write.field.options)})"
            )
        return option
    return str(write.value)


def project_value_input(write: FieldWrite) -> dict[str, Any]:
    """The ``ProjectV2FieldValue`` for a write: exactly one of number, text, option id."""
    key = {"number": "number", "select": "singleSelectOptionId"}.get(write.field.kind, "text")
    return {key: write_value(write)}


def project_field_mutations(
    project_id: str, item_id: str, writes: Sequence[FieldWrite]
) -> list[g.Mutation]:
    """Field updates and clears for one Project item; ``UnknownOption`` for a bad priority."""
    return [
        g.clear_field(project_id, item_id, w.field.id)
        if w.value is None
        else g.update_field(project_id, item_id, w.field.id, project_value_input(w))
        for w in writes
    ]


def label_mutations(
    content_id: str, *, add_ids: Sequence[str], remove_ids: Sequence[str]
) -> list[g.Mutation]:
    """At most one add and one remove for an issue's labels (ids), never a replacement."""
    mutations = []
    if add_ids:
        mutations.append(g.add_labels(content_id, sorted(add_ids)))
    if remove_ids:
        mutations.append(g.remove_labels(content_id, sorted(remove_ids)))
    return mutations


def merge_issue_fields(
    current: Mapping[str, RawValue], writes: Sequence[FieldWrite]
) -> tuple[dict[str, RawValue], list[str]]:
    """The whole set to send (current values with the writes merged in) and the cleared ids.

    GitHub replaces the set on write (§3.5), so fields priosync does not own ride along.
    """
    merged = dict(current)
    cleared = []
    for write in writes:
        if write.value is None:
            merged.pop(write.field.id, None)
            cleared.append(write.field.id)
        else:
            merged[write.field.id] = write_value(write)
    return merged, cleared


def issue_fields_body(merged: Mapping[str, RawValue]) -> list[dict[str, Any]]:
    """``issue_field_values`` entries for the PATCH, in field-id order."""
    return [
        {"field_id": int(field_id), "value": value}
        for field_id, value in sorted(merged.items(), key=lambda kv: int(kv[0]))
    ]


def same_value(a: RawValue, b: RawValue) -> bool:
    """Values agree, numbers compared as numbers and names case-insensitively."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b


def dropped_fields(
    wanted: Mapping[str, RawValue], held: Mapping[str, RawValue], cleared: Sequence[str]
) -> list[str]:
    """Field ids whose written value GitHub does not hold (set dropped, or clear ignored)."""
    missing = [fid for fid, value in wanted.items() if not same_value(held.get(fid), value)]
    return missing + [fid for fid in cleared if fid in held]
