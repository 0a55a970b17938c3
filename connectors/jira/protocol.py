"""Jira REST requests and responses as data: builders and parsers, no I/O.

Cloud speaks REST v3 (https://developer.atlassian.com/cloud/jira/platform/rest/v3/), Data
Center REST v2 (https://docs.atlassian.com/software/jira/docs/api/REST/latest/). Facts and
their sources: docs/tracker-apis.md §1–§2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import httpx

from connectors.http import ErrorText, Kind, error_for_status
from priosync.errors import TrackerError, TrackerUnavailable

Deployment: TypeAlias = Literal["cloud", "dc"]
JsonObject: TypeAlias = dict[str, Any]

TRACKER = "jira"
#: Bulk fetch takes at most 100 issues a call (spec: POST /rest/api/3/issue/bulkfetch).
BULKFETCH_MAX = 100
#: Enhanced search returns its largest pages (up to 5000) when only ids are requested.
IDS_PAGE_MAX = 5000
#: Enhanced search pages carrying fields; Jira returns fewer when many fields are asked for.
FIELDS_PAGE_MAX = 100
#: Data Center's default cap (jira.search.views.default.max); the server may lower it.
DC_PAGE_MAX = 1000
#: JQL ``key in (…)`` lists are kept short so the query stays far below URL/JQL limits.
KEYS_PER_JQL = 100

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)

#: Jira's refusal of notifyUsers=false without project admin (docs/tracker-apis.md §1.4).
NOTIFY_REFUSAL_MARKER = "discard the user notification"
NOTIFY_FIXES = (
    "Jira refuses edits with notifyUsers=false unless the account has project-admin "
    "rights. Fix one of two ways: grant the priosync account the 'Administer Projects' "
    "permission on the source's projects, or set notify = true on the source (watchers "
    "then get an email for each edit)."
)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One HTTP request to make: method, path below the site or gateway, query and body."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    kind: Kind = "read"


def api_root(deployment: Deployment) -> str:
    """``/rest/api/3`` on Cloud, ``/rest/api/2`` on Data Center."""
    return "/rest/api/3" if deployment == "cloud" else "/rest/api/2"


# ── server info ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ServerInfo:
    deployment: Deployment
    base_url: str
    version: str


def build_server_info_request() -> ApiRequest:
    """``GET /rest/api/2/serverInfo``: answered by Cloud and Data Center alike."""
    return ApiRequest("GET", "/rest/api/2/serverInfo")


def parse_server_info(body: Any) -> ServerInfo:
    """Cloud says ``deploymentType: "Cloud"``; Server and Data Center say otherwise."""
    data = _object(body, "serverInfo")
    deployment: Deployment = "cloud" if data.get("deploymentType") == "Cloud" else "dc"
    return ServerInfo(
        deployment=deployment,
        base_url=str(data.get("baseUrl") or "").rstrip("/"),
        version=str(data.get("version") or ""),
    )


# ── fields ───────────────────────────────────────────────────────────────────────────────


def build_fields_request(deployment: Deployment) -> ApiRequest:
    """``GET /field``: every system and custom field with its schema."""
    return ApiRequest("GET", f"{api_root(deployment)}/field")


def parse_fields(body: Any) -> list[JsonObject]:
    """The field objects of a ``/field`` answer (spec: ``FieldDetails``)."""
    if not isinstance(body, list):
        raise malformed("field list")
    return [f for f in body if isinstance(f, dict) and "id" in f]


def build_editmeta_request(deployment: Deployment, issue: str) -> ApiRequest:
    """``GET /issue/{key}/editmeta``: which fields an issue can take, with their options."""
    return ApiRequest("GET", f"{api_root(deployment)}/issue/{issue}/editmeta")


def parse_editmeta_options(body: Any) -> dict[str, tuple[str, ...]]:
    """Field id → allowed option names (select ``value``s, priority ``name``s)."""
    fields = _object(body, "editmeta").get("fields") or {}
    options: dict[str, tuple[str, ...]] = {}
    for field_id, meta in fields.items():
        allowed = meta.get("allowedValues") if isinstance(meta, dict) else None
        if isinstance(allowed, list):
            names = (_option_name(a) for a in allowed if isinstance(a, dict))
            options[field_id] = tuple(n for n in names if n)
    return options


def build_priorities_request(deployment: Deployment) -> ApiRequest:
    """``GET /priority``: all priorities (deprecated on Cloud, still answered)."""
    return ApiRequest("GET", f"{api_root(deployment)}/priority")


def parse_priorities(body: Any) -> list[str]:
    """Priority names from a ``/priority`` list."""
    if not isinstance(body, list):
        raise malformed("priority list")
    return [str(p["name"]) for p in body if isinstance(p, dict) and p.get("name")]


# ── search ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class CloudPage:
    issues: list[JsonObject]
    next_page_token: str | None


@dataclass(frozen=True, slots=True)
class DcPage:
    issues: list[JsonObject]
    start_at: int
    max_results: int
    total: int


def build_cloud_search_request(
    jql: str, *, fields: Sequence[str], max_results: int, next_page_token: str | None = None
) -> ApiRequest:
    """``POST /rest/api/3/search/jql`` (enhanced search), paged by ``nextPageToken``.

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
    """
    body: JsonObject = {"jql": jql, "fields": list(fields), "maxResults": max_results}
    if next_page_token:
        body["nextPageToken"] = next_page_token
    return ApiRequest("POST", "/rest/api/3/search/jql", json=body)


def parse_cloud_search_page(body: Any) -> CloudPage:
    """Issues and the next token; the last page has ``isLast`` or no token."""
    data = _object(body, "search page")
    issues = _issues(data)
    token = data.get("nextPageToken")
    if data.get("isLast") or not token:
        token = None
    return CloudPage(issues=issues, next_page_token=str(token) if token else None)


def build_dc_search_request(
    jql: str, *, fields: Sequence[str], start_at: int, max_results: int
) -> ApiRequest:
    """``POST /rest/api/2/search`` paged by ``startAt`` (Data Center)."""
    body = {"jql": jql, "startAt": start_at, "maxResults": max_results, "fields": list(fields)}
    return ApiRequest("POST", "/rest/api/2/search", json=body)


def parse_dc_search_page(body: Any) -> DcPage:
    """Issues, offset, the page size the server really used, and the total."""
    data = _object(body, "search page")
    issues = _issues(data)
    return DcPage(
        issues=issues,
        start_at=int(data.get("startAt") or 0),
        max_results=int(data.get("maxResults") or len(issues)),
        total=int(data.get("total") or 0),
    )


def dc_remaining_offsets(first: DcPage) -> list[int]:
    """The ``startAt`` of every page after the first, stepping by the size Jira really used.

    Jira Data Center caps ``maxResults`` silently, so the step is read back from the answer.
    """
    step = max(first.max_results, len(first.issues), 1)
    return list(range(first.start_at + step, first.total, step))


def build_bulkfetch_request(ids_or_keys: Sequence[str], *, fields: Sequence[str]) -> ApiRequest:
    """``POST /rest/api/3/issue/bulkfetch``: up to 100 issues by id or key (Cloud only).

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulkfetch-post
    """
    if len(ids_or_keys) > BULKFETCH_MAX:
        raise ValueError(f"bulkfetch takes at most {BULKFETCH_MAX} issues")
    body = {"issueIdsOrKeys": list(ids_or_keys), "fields": list(fields)}
    return ApiRequest("POST", "/rest/api/3/issue/bulkfetch", json=body)


def build_get_issue_request(
    deployment: Deployment, issue: str, *, fields: Sequence[str]
) -> ApiRequest:
    """``GET /issue/{idOrKey}?fields=…``: one issue with only the named fields."""
    return ApiRequest(
        "GET", f"{api_root(deployment)}/issue/{issue}", params={"fields": ",".join(fields)}
    )


def parse_bulkfetch(body: Any) -> list[JsonObject]:
    """The issues of a bulk fetch; ids Jira could not return are left out (``issueErrors``)."""
    return _issues(_object(body, "bulkfetch"))


def build_keys_jql(keys: Sequence[str]) -> str:
    """``key in ("A-1", "A-2")`` for re-reading named issues by search."""
    quoted = ", ".join(json.dumps(k) for k in keys)
    return f"key in ({quoted})"


def split_order_by(jql: str) -> tuple[str, str]:
    """A JQL query's condition and its ``ORDER BY …`` clause ("" when it has none)."""
    match = _ORDER_BY.search(jql)
    return (jql[: match.start()], jql[match.start() :]) if match else (jql, "")


def narrow_jql(jql: str, clause: str) -> str:
    """``(<condition>) AND <clause>``, the query's ``ORDER BY`` (if any) kept last."""
    where, order = split_order_by(jql)
    narrowed = f"({where.strip()}) AND {clause}"
    return f"{narrowed} {order.strip()}" if order else narrowed


def restrict_jql(jql: str, keys: Sequence[str]) -> str:
    """The source's JQL narrowed to named keys; its ``ORDER BY`` (if any) is kept last."""
    return narrow_jql(jql, build_keys_jql(keys))


def updated_since_jql(jql: str, minutes: int) -> str:
    """The source's JQL narrowed to issues updated in the last ``minutes``; ``ORDER BY`` kept.

    A relative date (``"-15m"``) is measured from the server's own clock, in no time zone,
    so neither clock skew nor the searching user's time zone can shift it (an absolute date
    in JQL is read in the user's time zone, to the minute: docs/tracker-apis.md §1.13).
    """
    return narrow_jql(jql, f'updated >= "-{max(int(minutes), 1):d}m"')


def chunk(values: Sequence[str], size: int) -> list[list[str]]:
    """Split into consecutive lists of at most ``size``."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


# ── writing ──────────────────────────────────────────────────────────────────────────────


def build_edit_request(
    deployment: Deployment, issue: str, payload: JsonObject, *, notify: bool
) -> ApiRequest:
    """``PUT /issue/{idOrKey}``; ``notifyUsers=false`` unless the source wants notifications.

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put
    """
    params = {} if notify else {"notifyUsers": "false"}
    return ApiRequest(
        "PUT", f"{api_root(deployment)}/issue/{issue}", params=params, json=payload, kind="write"
    )


# ── identity and permissions ─────────────────────────────────────────────────────────────


def build_myself_request(deployment: Deployment) -> ApiRequest:
    """``GET /myself``: who the credentials belong to."""
    return ApiRequest("GET", f"{api_root(deployment)}/myself")


def parse_myself(body: Any) -> str:
    """The account's display name (or email, name, accountId: whichever Jira sent)."""
    data = _object(body, "myself")
    for key in ("displayName", "emailAddress", "name", "accountId"):
        if data.get(key):
            return str(data[key])
    return "unknown account"


def build_mypermissions_request(
    deployment: Deployment, *, project_key: str, permissions: Sequence[str]
) -> ApiRequest:
    """``GET /mypermissions?projectKey=…&permissions=…`` for one project."""
    params = {"projectKey": project_key, "permissions": ",".join(permissions)}
    return ApiRequest("GET", f"{api_root(deployment)}/mypermissions", params=params)


def parse_mypermissions(body: Any) -> dict[str, bool]:
    """Permission key → whether the account holds it."""
    permissions = _object(body, "mypermissions").get("permissions") or {}
    return {
        str(key): bool(value.get("havePermission"))
        for key, value in permissions.items()
        if isinstance(value, dict)
    }


def project_keys(issue_keys: Sequence[str]) -> list[str]:
    """The distinct project keys of issue keys (``WEB-12`` → ``WEB``), in first-seen order."""
    return list(dict.fromkeys(k.rsplit("-", 1)[0] for k in issue_keys if "-" in k))


# ── errors ───────────────────────────────────────────────────────────────────────────────


def describe_error(status: int, body: bytes) -> ErrorText:
    """Jira's error body (``errorMessages`` + ``errors``) as one line and a field map.

    The 403 refusal of ``notifyUsers=false`` is replaced by a message naming both fixes.
    """
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = body.decode("utf-8", "replace").strip()[:300]
        return ErrorText(text or httpx.codes.get_reason_phrase(status) or f"HTTP {status}")
    messages = [str(m) for m in data.get("errorMessages") or [] if m]
    errors = {str(k): str(v) for k, v in (data.get("errors") or {}).items()}
    if status == 403 and any(NOTIFY_REFUSAL_MARKER in m for m in messages):
        return ErrorText(f"{messages[0]} {NOTIFY_FIXES}", errors)
    parts = messages + [f"{k}: {v}" for k, v in errors.items()]
    return ErrorText("; ".join(parts) or httpx.codes.get_reason_phrase(status), errors)


def error_for(
    status: int, headers: httpx.Headers, body: bytes, *, kind: Kind = "read", now_epoch_s: float
) -> TrackerError:
    """The ``priosync.errors`` type a Jira error response means, with Jira's message."""
    return error_for_status(
        tracker=TRACKER,
        status=status,
        headers=headers,
        text=describe_error(status, body),
        kind=kind,
        now_epoch_s=now_epoch_s,
    )


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def _object(body: Any, what: str) -> JsonObject:
    if not isinstance(body, dict):
        raise malformed(what)
    return body


def _issues(data: JsonObject) -> list[JsonObject]:
    issues = data.get("issues")
    if issues is None:
        return []
    if not isinstance(issues, list):
        raise malformed("issue list")
    return [i for i in issues if isinstance(i, dict)]


def _option_name(option: JsonObject) -> str:
    return str(option.get("value") or option.get("name") or "")


def malformed(what: str) -> TrackerUnavailable:
    """The error for an answer that does not have the documented shape."""
    return TrackerUnavailable(f"jira answered with a malformed {what}", tracker=TRACKER)
