"""Pure rendering of sandbox state into Jira REST JSON (v2 and v3 shapes).

v2 and v3 differ only in rich text: a ``textarea`` field is an ADF document in v3 and a
wiki string in v2 (docs/tracker-apis.md §1.3). Read shapes follow the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from . import catalog as c
from .model import LinkEnd, StoredIssue
from .site_fields import SiteFields

#: Looks an issue up by key or id (``JiraSandbox.find``): linked issues show their status.
Finder = Callable[[str], StoredIssue | None]

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
_SYSTEM_CLAUSES = {
    "summary": ["summary"],
    "status": ["status"],
    "priority": ["priority"],
    "labels": ["labels"],
    "assignee": ["assignee"],
    "created": ["created", "createdDate"],
    "updated": ["updated", "updatedDate"],
    "project": ["project"],
    "issuetype": ["issuetype", "type"],
    "issuelinks": ["issueLink"],
}
_DUPLICATE_SUFFIX = {
    "select": "Dropdown",
    "textfield": "Short text",
    "textarea": "Paragraph",
    "number": "Number",
    "multiselect": "Select List (multiple choices)",
}
ALL_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in c.FIELDS)
#: The catalog as a site has it when nobody changed its fields (callers without a site).
_CATALOG = SiteFields.full()


def jira_time(moment: datetime) -> str:
    """Format a datetime as Jira does: ``2025-01-06T09:00:00.000+0000``."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + moment.strftime("%z")
    )


def select_fields(
    requested: Iterable[str] | None, *, default: str, site: SiteFields = _CATALOG
) -> tuple[str, ...] | None:
    """Resolve a ``fields`` parameter to the field ids to return.

    Entries may be comma-separated and repeated; ``*all``/``*navigable`` mean every field,
    ``-name`` excludes one, unknown ids are ignored (as Jira does). Returns None when only
    ``id``/``key`` were asked for (the issue is rendered without ``fields``).
    """
    tokens = [
        t.strip() for entry in (requested or [default]) for t in entry.split(",") if t.strip()
    ]
    if not tokens:
        tokens = [default]
    chosen: list[str] = []
    excluded: set[str] = set()
    for token in tokens:
        if token.startswith("-"):
            excluded.add(token[1:])
        elif token in ("*all", "*navigable"):
            chosen.extend(site.ids())
        elif token in site:
            chosen.append(token)
    if not chosen and all(t in ("id", "key") for t in tokens if not t.startswith("-")):
        return None
    return tuple(dict.fromkeys(f for f in chosen if f not in excluded))


def render_issue(
    issue: StoredIssue,
    *,
    base_url: str,
    api: str,
    fields: tuple[str, ...] | None,
    want_key: bool = True,
    expand: Sequence[str] = (),
    site: SiteFields = _CATALOG,
    find: Finder | None = None,
) -> dict[str, Any]:
    """Render one issue as ``GET /rest/api/{api}/issue/{key}`` would return it; ``find``
    resolves linked issues (without it ``issuelinks`` renders empty)."""
    if fields is None:
        return {"id": str(issue.id), "key": issue.key} if want_key else {"id": str(issue.id)}
    body: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": str(issue.id),
        "self": f"{base_url}/rest/api/{api}/issue/{issue.id}",
        "key": issue.key,
        "fields": {
            f: render_value(issue, site[f], base_url=base_url, api=api, find=find)
            for f in fields
            if f in site
        },
    }
    if "names" in expand:
        body["names"] = {f: site[f].name for f in fields if f in site}
    if "schema" in expand:
        body["schema"] = {f: field_schema(site[f]) for f in fields if f in site}
    return body


def render_value(
    issue: StoredIssue,
    field: c.FieldDef,
    *,
    base_url: str,
    api: str,
    find: Finder | None = None,
) -> Any:
    """Return one field's value in the read shape of REST ``api`` ("2" or "3")."""
    kind = field.kind
    if kind == "issuelinks":
        return render_issue_links(issue, base_url=base_url, api=api, find=find)
    if kind == "summary":
        return issue.summary
    if kind == "status":
        return render_status(c.STATUS_BY_NAME[issue.status], base_url=base_url, api=api)
    if kind == "priority":
        return (
            render_priority(c.PRIORITY_BY_ID[issue.priority_id], base_url=base_url, api=api)
            if issue.priority_id
            else None
        )
    if kind == "labels":
        return list(issue.labels)
    if kind == "user":
        return render_user(issue.assignee, base_url=base_url, api=api)
    if kind == "datetime":
        return jira_time(issue.created if field.id == "created" else issue.updated)
    if kind == "project":
        return render_project(issue.key.rsplit("-", 1)[0], base_url=base_url, api=api)
    if kind == "issuetype":
        return render_issue_type(base_url=base_url, api=api)
    return render_custom(issue.values.get(field.id), field, base_url=base_url, api=api)


def render_custom(value: Any, field: c.FieldDef, *, base_url: str, api: str) -> Any:
    """Render a stored custom-field value (see ``model.StoredValue``)."""
    if value is None or value == []:
        return None
    if field.kind == "select":
        option = field.option_by_id(str(value))
        return render_option(option, base_url=base_url, api=api) if option else None
    if field.kind == "multiselect":
        options = [field.option_by_id(v) for v in value]
        return [render_option(o, base_url=base_url, api=api) for o in options if o]
    if field.kind == "textarea" and api == "3":
        return text_to_adf(str(value))
    return value


def render_option(option: c.Option, *, base_url: str, api: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}/rest/api/{api}/customFieldOption/{option.id}",
        "value": option.value,
        "id": option.id,
    }


def render_status(status: c.StatusDef, *, base_url: str, api: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}/rest/api/{api}/status/{status.id}",
        "description": "",
        "iconUrl": f"{base_url}/images/icons/statuses/generic.png",
        "name": status.name,
        "id": status.id,
        "statusCategory": {
            "self": f"{base_url}/rest/api/{api}/statuscategory/{status.category_id}",
            "id": status.category_id,
            "key": status.category_key,
            "colorName": status.category_color,
            "name": status.category_name,
        },
    }


def render_issue_links(
    issue: StoredIssue, *, base_url: str, api: str, find: Finder | None
) -> list[dict[str, Any]]:
    """The ``issuelinks`` field: each link once, from this issue's side (``IssueLink`` with
    the other issue as ``outwardIssue`` or ``inwardIssue``, a ``LinkedIssue`` with its key
    fields). https://developer.atlassian.com/cloud/jira/platform/issue-linking-model/"""
    rendered = []
    for end in issue.links:
        other = find(end.other) if find is not None else None
        if other is None:
            continue
        rendered.append(render_link_end(end, other, base_url=base_url, api=api))
    return rendered


def render_link_end(end: LinkEnd, other: StoredIssue, *, base_url: str, api: str) -> dict[str, Any]:
    """One ``issuelinks`` entry: the link, with only the other issue."""
    return {
        **_link_head(end, base_url=base_url, api=api),
        ("outwardIssue" if end.outward else "inwardIssue"): render_linked_issue(
            other, base_url=base_url, api=api
        ),
    }


def render_issue_link(
    end: LinkEnd, issue: StoredIssue, other: StoredIssue, *, base_url: str, api: str
) -> dict[str, Any]:
    """``GET /issueLink/{id}`` for the link whose outward end ``issue`` holds: that issue is
    the link's ``inwardIssue``, the one it blocks its ``outwardIssue``."""
    return {
        **_link_head(end, base_url=base_url, api=api),
        "inwardIssue": render_linked_issue(issue, base_url=base_url, api=api),
        "outwardIssue": render_linked_issue(other, base_url=base_url, api=api),
    }


def _link_head(end: LinkEnd, *, base_url: str, api: str) -> dict[str, Any]:
    link_type = c.LINK_TYPE_BY_NAME[end.type]
    return {
        "id": str(end.id),
        "self": f"{base_url}/rest/api/{api}/issueLink/{end.id}",
        "type": {
            "id": link_type.id,
            "name": link_type.name,
            "inward": link_type.inward,
            "outward": link_type.outward,
            "self": f"{base_url}/rest/api/{api}/issueLinkType/{link_type.id}",
        },
    }


def render_linked_issue(issue: StoredIssue, *, base_url: str, api: str) -> dict[str, Any]:
    """A ``LinkedIssue``: id, key, self and the key fields Jira shows with a link."""
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "status": render_status(c.STATUS_BY_NAME[issue.status], base_url=base_url, api=api),
        "issuetype": render_issue_type(base_url=base_url, api=api),
    }
    if issue.priority_id:
        fields["priority"] = render_priority(
            c.PRIORITY_BY_ID[issue.priority_id], base_url=base_url, api=api
        )
    return {
        "id": str(issue.id),
        "key": issue.key,
        "self": f"{base_url}/rest/api/{api}/issue/{issue.id}",
        "fields": fields,
    }


def render_priority(
    priority: c.PriorityDef, *, base_url: str, api: str, full: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "self": f"{base_url}/rest/api/{api}/priority/{priority.id}",
        "iconUrl": f"{base_url}/images/icons/priorities/{priority.icon}.svg",
        "name": priority.name,
        "id": priority.id,
    }
    if full:
        body["statusColor"] = priority.color
        body["description"] = f"{priority.name} priority"
        body["isDefault"] = priority.id == c.DEFAULT_PRIORITY_ID
    return body


def render_user(name: str | None, *, base_url: str, api: str) -> dict[str, Any] | None:
    """A user (``UserDetails``) as an issue's ``assignee`` holds it; None when unassigned."""
    if name is None:
        return None
    account = "sandbox-" + name.casefold().replace(" ", "-")
    return {
        "self": f"{base_url}/rest/api/{api}/user?accountId={account}",
        "accountId": account,
        "displayName": name,
        "active": True,
        "accountType": "atlassian",
    }


def render_project(key: str, *, base_url: str, api: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}/rest/api/{api}/project/{c.PROJECT_ID}",
        "id": c.PROJECT_ID,
        "key": key,
        "name": "Website",
        "projectTypeKey": "software",
        "simplified": False,
    }


def render_issue_type(*, base_url: str, api: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}/rest/api/{api}/issuetype/{c.ISSUE_TYPE_ID}",
        "id": c.ISSUE_TYPE_ID,
        "description": "A user story.",
        "name": "Story",
        "subtask": False,
        "hierarchyLevel": 0,
    }


def field_schema(field: c.FieldDef) -> dict[str, Any]:
    """Return the ``schema`` (JsonTypeBean) of a field, as ``GET /field`` shows it."""
    system: dict[str, dict[str, Any]] = {
        "summary": {"type": "string"},
        "status": {"type": "status"},
        "priority": {"type": "priority"},
        "labels": {"type": "array", "items": "string"},
        "user": {"type": "user"},
        "datetime": {"type": "datetime"},
        "project": {"type": "project"},
        "issuetype": {"type": "issuetype"},
        "issuelinks": {"type": "array", "items": "issuelinks"},
    }
    if field.kind in system:
        return {**system[field.kind], "system": field.id}
    custom: dict[str, dict[str, Any]] = {
        "number": {"type": "number", "custom": _CF + "float"},
        "select": {"type": "option", "custom": _CF + "select"},
        "multiselect": {"type": "array", "items": "option", "custom": _CF + "multiselect"},
        "textfield": {"type": "string", "custom": _CF + "textfield"},
        "textarea": {"type": "string", "custom": _CF + "textarea"},
    }
    return {**custom[field.kind], "customId": field.custom_id}


def render_field(field: c.FieldDef, *, site: SiteFields = _CATALOG) -> dict[str, Any]:
    """Return one ``FieldDetails`` entry of ``GET /rest/api/3/field``."""
    if field.custom:
        clause = field.name
        if sum(1 for f in site.custom() if f.name == field.name) > 1:
            clause = f"{field.name}[{_DUPLICATE_SUFFIX[field.kind]}]"
        clauses = [f"cf[{field.custom_id}]", clause]
    else:
        clauses = _SYSTEM_CLAUSES[field.id]
    return {
        "id": field.id,
        "key": field.id,
        "name": field.name,
        "custom": field.custom,
        "orderable": field.editable,
        "navigable": True,
        "searchable": True,
        "clauseNames": clauses,
        "schema": field_schema(field),
    }


def text_to_adf(text: str) -> dict[str, Any]:
    """Wrap plain text in an Atlassian Document Format doc, one paragraph per line."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(doc: Any) -> str | None:
    """Return the plain text of an ADF doc (paragraphs joined by newlines); None if not ADF."""
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "doc"
        or not isinstance(doc.get("content"), list)
    ):
        return None
    lines = []
    for block in doc["content"]:
        if not isinstance(block, dict):
            return None
        lines.append("".join(_text_nodes(block)))
    return "\n".join(lines)


def _text_nodes(node: dict[str, Any]) -> list[str]:
    if node.get("type") == "text":
        return [str(node.get("text", ""))]
    return [
        t
        for child in node.get("content", [])
        if isinstance(child, dict)
        for t in _text_nodes(child)
    ]
