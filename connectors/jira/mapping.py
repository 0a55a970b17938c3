"""Jira issues to ``WorkItem``s and ``Change``s to edit payloads; pure.

Read and write value shapes: https://developer.atlassian.com/server/jira-servicedesk/info/field-input-formats
(docs/tracker-apis.md §1.3). Multi-line text is an ADF document in REST v3 (Cloud) and a plain
string in v2 (Data Center); labels are changed with ``update.labels`` add/remove verbs only,
never replaced (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from connectors.fields import FieldMap, TrackerField
from connectors.jira.links import blocking_links, is_done
from connectors.jira.protocol import Deployment, JsonObject
from priosync.compact import EMPTY_MAPPING, shared_labels, shared_text
from priosync.domain import Change, Outputs, RawValue, WorkItem

#: ``historyMetadata`` names priosync as the edit's generator in the issue history.
HISTORY_TYPE = "priosync:score-sync"


# ── reading ──────────────────────────────────────────────────────────────────────────────


def work_item_from_issue(
    issue: Mapping[str, Any],
    *,
    fields: FieldMap,
    site_url: str,
    source: str,
    link_types: Collection[str] | None = None,
) -> WorkItem:
    """A ``WorkItem`` from a search or bulk-fetch issue read with ``read_field_ids(fields)``;
    with ``link_types`` (dependencies on, ``LINK_FIELDS`` read too) its blocking links."""
    key = str(issue["key"])
    values: Mapping[str, Any] = issue.get("fields") or {}
    inputs = {
        name: decode_value(f, values[f.id]) for name, f in fields.inputs.items() if f.id in values
    }
    blocks, blocked_by = (
        blocking_links(values.get("issuelinks"), link_types=link_types)
        if link_types is not None
        else ((), ())
    )
    return WorkItem(
        key=key,
        title=str(values.get("summary") or ""),
        url=f"{site_url.rstrip('/')}/browse/{key}",
        source=source,
        inputs=inputs,
        current=current_outputs(values, fields),
        updated_at=parse_jira_time(values.get("updated")),
        handle=str(issue.get("id") or key),
        held=unreadable_outputs(values, fields),
        blocks=blocks,
        blocked_by=blocked_by,
        done=link_types is not None and is_done(values.get("status")),
        assignee=assignee_name(values.get("assignee")),
        created_at=parse_jira_time(values.get("created")),
    )


def assignee_name(user: Any) -> str | None:
    """The assignee's display name (a user object), or None when unassigned."""
    if not isinstance(user, Mapping):
        return None
    name = user.get("displayName") or user.get("name") or user.get("accountId")
    return str(name) if name else None


def current_outputs(values: Mapping[str, Any], fields: FieldMap) -> Outputs:
    """What the issue holds in priosync's fields; labels are all of the issue's labels."""
    return Outputs(
        score=_number(_decoded(values, fields.score)),
        priority=_text(_decoded(values, fields.priority)),
        labels=shared_labels(str(label) for label in values.get("labels") or []),
        explanation=_text(_decoded(values, fields.explanation)),
        rank=_integer(_number(_decoded(values, fields.rank))),
    )


def unreadable_outputs(values: Mapping[str, Any], fields: FieldMap) -> Mapping[str, RawValue]:
    """Owned number fields holding something that is not a number, as held (for the audit)."""
    held: dict[str, RawValue] = {}
    for role, found in (("score", fields.score), ("rank", fields.rank)):
        raw = _decoded(values, found)
        if raw is not None and _number(raw) is None:
            held[role] = raw
    return held or EMPTY_MAPPING


def decode_value(jira_field: TrackerField, raw: Any) -> RawValue:
    """A Jira field value as the raw value scoring decodes.

    Numbers stay numbers; an option or priority becomes its name; a multi-select a list of
    names; rich text (ADF) its plain text; anything unknown its string form.
    """
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    if isinstance(raw, list):
        return [decode_value(jira_field, item) for item in raw]
    if isinstance(raw, dict):
        if raw.get("type") == "doc":
            return adf_to_text(raw)
        for key in ("value", "name", "displayName"):
            if key in raw:
                value = _scalar(raw[key])
                # Option and priority names repeat across the backlog: one string each.
                return shared_text(value) if isinstance(value, str) else value
    return str(raw)


def parse_jira_time(value: Any) -> datetime | None:
    """``2025-01-06T09:00:00.000+0000`` (Jira's format) or ISO-8601 → aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def adf_to_text(doc: Mapping[str, Any]) -> str:
    """The plain text of an ADF document: text nodes, one line per top-level block."""
    blocks = doc.get("content") or []
    return "\n".join("".join(_text_nodes(b)) for b in blocks if isinstance(b, dict))


def text_to_adf(text: str) -> JsonObject:
    """A minimal ADF document: one paragraph per line."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


# ── writing ──────────────────────────────────────────────────────────────────────────────


def edit_payload(change: Change, *, fields: FieldMap, deployment: Deployment) -> JsonObject:
    """The body of the one ``PUT /issue`` that applies ``change``.

    Owned fields whose value differs go in ``fields``; label changes go in
    ``update.labels`` as single ``add``/``remove`` verbs, so labels people set stay.
    ``historyMetadata`` names priosync and carries the change's reason.
    """
    body: JsonObject = {}
    field_values = changed_field_values(change, fields=fields, deployment=deployment)
    if field_values:
        body["fields"] = field_values
    verbs = label_verbs(change)
    if verbs:
        body["update"] = {"labels": verbs}
    body["historyMetadata"] = {
        "type": HISTORY_TYPE,
        "description": change.reason,
        "generator": {"id": "priosync", "type": "application"},
    }
    return body


def changed_field_values(change: Change, *, fields: FieldMap, deployment: Deployment) -> JsonObject:
    """Field id → write value for each configured output whose value changes."""
    before, after = change.before, change.after
    values: JsonObject = {}
    if fields.score is not None and after.score != before.score:
        values[fields.score.id] = after.score
    if fields.rank is not None and after.rank != before.rank:
        values[fields.rank.id] = after.rank
    if fields.priority is not None and after.priority != before.priority:
        values[fields.priority.id] = choice_value(fields.priority, after.priority)
    if fields.explanation is not None and after.explanation != before.explanation:
        values[fields.explanation.id] = text_value(
            fields.explanation, after.explanation, deployment=deployment
        )
    return values


def label_verbs(change: Change) -> list[dict[str, str]]:
    """``[{"add": …}, {"remove": …}]`` in a stable order; never a ``set``."""
    adds = [{"add": label} for label in sorted(change.labels_to_add)]
    removes = [{"remove": label} for label in sorted(change.labels_to_remove)]
    return adds + removes


def choice_value(jira_field: TrackerField, name: str | None) -> JsonObject | None:
    """Priority ``{"name": …}`` or select option ``{"value": …}``; None clears a select."""
    if name is None:
        return None
    return {"name": name} if jira_field.kind == "priority" else {"value": name}


def text_value(jira_field: TrackerField, text: str | None, *, deployment: Deployment) -> Any:
    """Plain text, except a multi-line field on Cloud, which takes ADF."""
    if text is None:
        return None
    if jira_field.kind == "textarea" and deployment == "cloud":
        return text_to_adf(text)
    return text


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def _decoded(values: Mapping[str, Any], jira_field: TrackerField | None) -> RawValue:
    if jira_field is None:
        return None
    return decode_value(jira_field, values.get(jira_field.id))


def _number(value: RawValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _integer(value: float | None) -> int | None:
    return None if value is None else round(value)


def _text(value: RawValue) -> str | None:
    return value if isinstance(value, str) else None


def _scalar(value: Any) -> RawValue:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _text_nodes(node: Mapping[str, Any]) -> list[str]:
    if node.get("type") == "text":
        return [str(node.get("text", ""))]
    children = node.get("content") or []
    return [t for child in children if isinstance(child, dict) for t in _text_nodes(child)]
