"""Jira's administration requests `priosync setup` sends, as data: builders and parsers, no I/O.

Creating a custom field (``POST /field``), its contexts and options (``/field/{id}/context``,
``…/context/{contextId}/option``, Cloud only: Data Center has no REST endpoint that adds an
option), putting it on the default screen (``POST /screens/addToDefault/{id}``), and asking
for the *Administer Jira* global permission they all need. Sources: docs/tracker-apis.md §1.11.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.jira.protocol import ApiRequest, Deployment, api_root, malformed
from connectors.setup import NeedKind

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
#: Output kind → (custom field type, searcher): a float with exact-number search, a
#: multi-line text (explanations run long) and a single select searchable as Jira's own.
FIELD_TYPES: dict[NeedKind, tuple[str, str]] = {
    "number": (f"{_CF}float", f"{_CF}exactnumber"),
    "text": (f"{_CF}textarea", f"{_CF}textsearcher"),
    "select": (f"{_CF}select", f"{_CF}multiselectsearcher"),
}
#: The global permission every administration request below needs.
ADMINISTER = "ADMINISTER"
CONTEXT_NAME = "priosync tiers"


def build_create_field_request(
    deployment: Deployment, *, name: str, kind: NeedKind, description: str
) -> ApiRequest:
    """``POST /field``: a custom field with its type and searcher (Cloud v3, DC v2)."""
    type_key, searcher = FIELD_TYPES[kind]
    body = {"name": name, "description": description, "type": type_key, "searcherKey": searcher}
    return ApiRequest("POST", f"{api_root(deployment)}/field", json=body, kind="write")


def parse_created_field(body: Any) -> str:
    """The id (``customfield_10100``) of the field ``POST /field`` created."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise malformed("created field")
    return str(body["id"])


def build_contexts_request(field_id: str) -> ApiRequest:
    """``GET /rest/api/3/field/{fieldId}/context``: the field's contexts (first page)."""
    return ApiRequest("GET", f"/rest/api/3/field/{field_id}/context", params={"maxResults": "100"})


@dataclass(frozen=True, slots=True)
class Context:
    id: str
    is_global: bool


def parse_contexts(body: Any) -> list[Context]:
    """The contexts of a ``PageBeanCustomFieldContext``, global ones flagged."""
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list):
        raise malformed("context page")
    return [
        Context(str(v["id"]), bool(v.get("isGlobalContext")))
        for v in values
        if isinstance(v, dict) and "id" in v
    ]


def build_create_context_request(field_id: str) -> ApiRequest:
    """``POST /rest/api/3/field/{fieldId}/context``: a global context for all issue types."""
    body = {"name": CONTEXT_NAME, "projectIds": [], "issueTypeIds": []}
    return ApiRequest("POST", f"/rest/api/3/field/{field_id}/context", json=body, kind="write")


def parse_created_context(body: Any) -> str:
    if not isinstance(body, dict) or "id" not in body:
        raise malformed("created context")
    return str(body["id"])


def build_options_request(field_id: str, context_id: str) -> ApiRequest:
    """``GET …/context/{contextId}/option``: a context's options (first page of 100)."""
    return ApiRequest(
        "GET",
        f"/rest/api/3/field/{field_id}/context/{context_id}/option",
        params={"maxResults": "100"},
    )


def parse_options(body: Any) -> list[str]:
    """Option values of a ``PageBeanCustomFieldContextOption`` (disabled ones left out)."""
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list):
        raise malformed("option page")
    return [
        str(v["value"])
        for v in values
        if isinstance(v, dict) and v.get("value") and not v.get("disabled")
    ]


def build_create_options_request(
    field_id: str, context_id: str, values: Sequence[str]
) -> ApiRequest:
    """``POST …/context/{contextId}/option`` with every value in one request (at most 1000)."""
    body = {"options": [{"value": v, "disabled": False} for v in values]}
    return ApiRequest(
        "POST",
        f"/rest/api/3/field/{field_id}/context/{context_id}/option",
        json=body,
        kind="write",
    )


def build_add_to_default_screen_request(deployment: Deployment, field_id: str) -> ApiRequest:
    """``POST /screens/addToDefault/{fieldId}``: the default tab of the default screen.

    Jira answers 404 when the field is there already.
    """
    return ApiRequest(
        "POST", f"{api_root(deployment)}/screens/addToDefault/{field_id}", kind="write"
    )


def build_global_permission_request(deployment: Deployment) -> ApiRequest:
    """``GET /mypermissions?permissions=ADMINISTER``: whether the account administers Jira."""
    return ApiRequest(
        "GET", f"{api_root(deployment)}/mypermissions", params={"permissions": ADMINISTER}
    )


def parse_editmeta_field_ids(body: Any) -> set[str]:
    """The ids of the fields an issue's edit screen offers (``editmeta.fields``)."""
    fields = body.get("fields") if isinstance(body, dict) else None
    return set(fields) if isinstance(fields, dict) else set()


def field_description(setting: str) -> str:
    """What a created field says it is for, in Jira's field list."""
    return f"Written by priosync ({setting}); people edit the inputs, not this field."


# ── a project's own screens (Cloud) ──────────────────────────────────────────────────────


def build_issue_project_request(deployment: Deployment, issue: str) -> ApiRequest:
    """``GET /issue/{key}?fields=project``: the project (its id) an issue is in."""
    return ApiRequest("GET", f"{api_root(deployment)}/issue/{issue}", params={"fields": "project"})


def parse_issue_project_id(body: Any) -> str:
    project = ((body or {}).get("fields") or {}).get("project") if isinstance(body, dict) else None
    if not isinstance(project, dict) or "id" not in project:
        raise malformed("issue project")
    return str(project["id"])


def build_type_screen_scheme_request(project_id: str) -> ApiRequest:
    """``GET /rest/api/3/issuetypescreenscheme/project?projectId=``: the project's scheme."""
    return ApiRequest(
        "GET", "/rest/api/3/issuetypescreenscheme/project", params={"projectId": project_id}
    )


def build_type_scheme_mapping_request(scheme_id: str) -> ApiRequest:
    """``GET /rest/api/3/issuetypescreenscheme/mapping``: issue type → screen scheme."""
    return ApiRequest(
        "GET",
        "/rest/api/3/issuetypescreenscheme/mapping",
        params={"issueTypeScreenSchemeId": scheme_id},
    )


def build_screen_scheme_request(scheme_id: str) -> ApiRequest:
    """``GET /rest/api/3/screenscheme?id=``: a screen scheme's screens."""
    return ApiRequest("GET", "/rest/api/3/screenscheme", params={"id": scheme_id})


def build_tabs_request(deployment: Deployment, screen_id: str) -> ApiRequest:
    """``GET /screens/{screenId}/tabs``: a screen's tabs, in order."""
    return ApiRequest("GET", f"{api_root(deployment)}/screens/{screen_id}/tabs")


def build_add_tab_field_request(
    deployment: Deployment, screen_id: str, tab_id: str, field_id: str
) -> ApiRequest:
    """``POST /screens/{screenId}/tabs/{tabId}/fields`` with ``{"fieldId": …}``."""
    return ApiRequest(
        "POST",
        f"{api_root(deployment)}/screens/{screen_id}/tabs/{tab_id}/fields",
        json={"fieldId": field_id},
        kind="write",
    )


def page_values(body: Any) -> list[dict[str, Any]]:
    """The ``values`` of a paged answer."""
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list):
        raise malformed("page")
    return [v for v in values if isinstance(v, dict)]


def edit_screens(schemes: Sequence[dict[str, Any]]) -> list[str]:
    """The screen edits use in each screen scheme: ``edit``, else ``default``."""
    screens = []
    for scheme in schemes:
        chosen = (scheme.get("screens") or {}).get("edit") or (scheme.get("screens") or {}).get(
            "default"
        )
        if chosen is not None:
            screens.append(str(chosen))
    return list(dict.fromkeys(screens))
