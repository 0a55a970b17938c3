"""GitHub's wire protocol as pure functions: requests, answers, errors, rate limits. No I/O.

REST: https://docs.github.com/en/rest (issues §3.2, labels §3.3, issue fields §3.5 of
docs/tracker-apis.md). GraphQL: https://docs.github.com/en/graphql. Rate limits (§3.7):
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeAlias
from urllib.parse import quote

import httpx

from connectors.http import ErrorText, Kind
from priosync.errors import (
    AuthFailed,
    ChangeRejected,
    NotFound,
    RateLimited,
    TrackerError,
    TrackerUnavailable,
)

TRACKER = "GitHub"
JsonObject: TypeAlias = dict[str, Any]

#: https://docs.github.com/en/rest/about-the-rest-api/api-versions — supported until 2028-03-10.
API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
PER_PAGE = 100
#: A secondary limit without ``retry-after`` (and with budget left): wait at least 60 s (§3.7).
SECONDARY_FALLBACK_S = 60
_SECONDARY = re.compile(r"secondary rate", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One REST or GraphQL request, ready for ``TrackerHttp``."""

    method: str
    path: str
    kind: Kind
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


# ── endpoints ────────────────────────────────────────────────────────────────────────────


def graphql_url(api_url: str) -> str:
    """The GraphQL endpoint for a REST base URL.

    GitHub Enterprise Server serves REST at ``https://HOST/api/v3`` and GraphQL at
    ``https://HOST/api/graphql``; everywhere else (github.com, GHE.com, a sandbox) it is
    ``<api_url>/graphql``.
    """
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return f"{base}/graphql"


def split_slug(slug: str) -> tuple[str, str]:
    """``"owner/name"`` → ``("owner", "name")``."""
    owner, _, name = slug.partition("/")
    return owner, name


# ── GraphQL ──────────────────────────────────────────────────────────────────────────────


def build_graphql_request(
    api_url: str, document: str, variables: Mapping[str, Any] | None = None
) -> ApiRequest:
    """``POST /graphql``; a document with mutations is a write, everything else a read."""
    kind: Kind = "write" if document.lstrip().startswith("mutation") else "read"
    body: JsonObject = {"query": document}
    if variables:
        body["variables"] = dict(variables)
    return ApiRequest("POST", graphql_url(api_url), kind, json=body)


@dataclass(frozen=True, slots=True)
class GraphQLError:
    """One entry of a GraphQL ``errors`` array."""

    message: str
    type: str | None = None
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphQLResult:
    """A GraphQL answer: ``data`` (possibly partial) and the errors beside it."""

    data: JsonObject
    errors: tuple[GraphQLError, ...] = ()

    def errors_at(self, alias: str) -> list[GraphQLError]:
        """The errors whose path starts at the top-level field ``alias``."""
        return [e for e in self.errors if e.path and e.path[0] == alias]


@dataclass(frozen=True, slots=True)
class RateBudget:
    """The hourly GraphQL budget as ``rateLimit`` reports it."""

    cost: int
    remaining: int
    reset_at_epoch_s: float | None


def parse_graphql_errors(raw: Any) -> tuple[GraphQLError, ...]:
    """The ``errors`` array as ``GraphQLError``s (unknown shapes keep their text)."""
    if not isinstance(raw, list):
        return ()
    found = []
    for entry in raw:
        if isinstance(entry, Mapping):
            path = tuple(p for p in entry.get("path") or () if isinstance(p, str | int))
            kind = entry.get("type")
            found.append(
                GraphQLError(
                    str(entry.get("message", "")), kind if isinstance(kind, str) else None, path
                )
            )
        else:
            found.append(GraphQLError(str(entry)))
    return tuple(found)


def parse_graphql(
    body: Any, *, headers: httpx.Headers, now_epoch_s: float, tolerate: Sequence[str] = ()
) -> GraphQLResult:
    """Interpret a 200 GraphQL answer; raise for errors that sink the whole document.

    A ``RATE_LIMITED`` error (primary limit) or a secondary-limit message raises
    ``RateLimited`` with the wait GitHub asks for. Errors whose path starts at a top-level
    alias listed in ``tolerate`` (mutation aliases: that item fails, others go on) and
    ``NOT_FOUND`` errors are returned for the caller to judge; any other error raises.
    """
    if not isinstance(body, Mapping):
        raise TrackerUnavailable(
            f"{TRACKER} GraphQL answered with a body that is not an object", tracker=TRACKER
        )
    errors = parse_graphql_errors(body.get("errors"))
    limited = first_rate_limit(errors, headers=headers, now_epoch_s=now_epoch_s)
    if limited is not None:
        raise limited
    fatal = [
        e for e in errors
        if e.type != "NOT_FOUND" and not (e.path and e.path[0] in tolerate)
    ]  # fmt: skip
    if fatal:
        raise graphql_error(fatal)
    data = body.get("data")
    return GraphQLResult(dict(data) if isinstance(data, Mapping) else {}, errors)


def rate_limited_error(
    error: GraphQLError, *, headers: httpx.Headers, now_epoch_s: float
) -> RateLimited | None:
    """A ``RateLimited`` for a GraphQL primary (``RATE_LIMITED``) or secondary limit, else None."""
    if error.type == "RATE_LIMITED":
        wait = reset_wait_s(headers, now_epoch_s=now_epoch_s)
        return RateLimited(
            f"{TRACKER} GraphQL: {error.message}",
            tracker=TRACKER,
            status=200,
            retry_after_s=wait,
            reason="primary-quota",
        )
    if _SECONDARY.search(error.message):
        return RateLimited(
            f"{TRACKER} GraphQL: {error.message}",
            tracker=TRACKER,
            status=200,
            retry_after_s=secondary_wait_s(headers, now_epoch_s=now_epoch_s),
            reason="secondary",
        )
    return None


def inspect_answer(response: httpx.Response, now_epoch_s: float) -> TrackerError | None:
    """The rate limit a 200 GraphQL answer names (``TrackerHttp``'s ``inspect``), else None.

    GitHub reports GraphQL rate limits in the body of a 200, so the shared layer retries
    them only when told; REST answers and bodies without ``errors`` are left alone.
    """
    if not response.request.url.path.endswith("/graphql") or b'"errors"' not in response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # the client reports a body that is not JSON
    errors = parse_graphql_errors(body.get("errors") if isinstance(body, Mapping) else None)
    return first_rate_limit(errors, headers=response.headers, now_epoch_s=now_epoch_s)


def first_rate_limit(
    errors: Sequence[GraphQLError], *, headers: httpx.Headers, now_epoch_s: float
) -> RateLimited | None:
    """The ``RateLimited`` the first rate-limit error among ``errors`` means, else None."""
    for error in errors:
        limited = rate_limited_error(error, headers=headers, now_epoch_s=now_epoch_s)
        if limited is not None:
            return limited
    return None


def graphql_error(errors: Sequence[GraphQLError]) -> TrackerError:
    """The error a set of non-rate-limit GraphQL errors means."""
    message = f"{TRACKER} GraphQL: " + "; ".join(e.message for e in errors[:3])
    types = {e.type for e in errors}
    if types & {"FORBIDDEN", "INSUFFICIENT_SCOPES"}:
        return AuthFailed(message, tracker=TRACKER, status=200)
    if types == {"NOT_FOUND"}:
        return NotFound(message, tracker=TRACKER, status=200)
    if types & {"UNPROCESSABLE", "ARGUMENT_ERROR"}:
        return ChangeRejected(message, tracker=TRACKER, status=200)
    return TrackerError(message, tracker=TRACKER, status=200)


def parse_rate_budget(data: Mapping[str, Any]) -> RateBudget | None:
    """The ``rateLimit { cost remaining resetAt }`` of an answer, if it asked for one."""
    raw = data.get("rateLimit")
    if not isinstance(raw, Mapping):
        return None
    reset = raw.get("resetAt")
    try:
        reset_s = (
            datetime.fromisoformat(str(reset).replace("Z", "+00:00")).timestamp() if reset else None
        )
    except ValueError:
        reset_s = None
    return RateBudget(int(raw.get("cost") or 0), int(raw.get("remaining") or 0), reset_s)


# ── rate-limit headers ───────────────────────────────────────────────────────────────────


def reset_wait_s(headers: httpx.Headers, *, now_epoch_s: float) -> float | None:
    """Seconds until ``x-ratelimit-reset`` (epoch seconds), else None."""
    raw = headers.get("x-ratelimit-reset")
    try:
        return max(0.0, float(raw) - now_epoch_s) if raw else None
    except ValueError:
        return None


def secondary_wait_s(headers: httpx.Headers, *, now_epoch_s: float) -> float:
    """GitHub's order for secondary limits: ``retry-after``; else the reset when the budget
    is spent; else at least 60 s (§3.7)."""
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0":
        wait = reset_wait_s(headers, now_epoch_s=now_epoch_s)
        if wait is not None:
            return wait
    return float(SECONDARY_FALLBACK_S)


def is_secondary_limit(status: int, body: bytes) -> bool:
    """A 403/429 whose message names a secondary rate limit (octokit matches the same text)."""
    if status not in (403, 429):
        return False
    return bool(_SECONDARY.search(_describe(status, body).message))


# ── REST ─────────────────────────────────────────────────────────────────────────────────


def describe_error(status: int, body: bytes) -> ErrorText:
    """GitHub's error body: ``message`` plus ``errors[]`` (``field`` → ``code``/``message``).

    A 403/429 whose message names a secondary rate limit is marked as one, waiting 60 s
    unless a header says otherwise: GitHub may send it without ``retry-after``.
    """
    text = _describe(status, body)
    if status in (403, 429) and _SECONDARY.search(text.message):
        return replace(text, rate_limit_wait_s=float(SECONDARY_FALLBACK_S))
    return text


def _describe(status: int, body: bytes) -> ErrorText:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        text = body.decode("utf-8", "replace").strip()[:300]
        return ErrorText(text or httpx.codes.get_reason_phrase(status) or f"HTTP {status}")
    message = str(data.get("message") or httpx.codes.get_reason_phrase(status) or f"HTTP {status}")
    errors: dict[str, str] = {}
    for entry in data.get("errors") or ():
        if isinstance(entry, Mapping):
            key = str(entry.get("field") or entry.get("resource") or "error")
            errors[key] = str(entry.get("message") or entry.get("code") or "invalid")
    if errors:
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    return ErrorText(message, errors)


def build_list_issues_request(repo: str, *, state: str) -> ApiRequest:
    """The first page of ``GET /repos/{o}/{r}/issues``; later pages follow ``Link``."""
    return ApiRequest(
        "GET",
        f"/repos/{repo}/issues",
        "read",
        params={"state": state, "per_page": str(PER_PAGE), "sort": "created", "direction": "asc"},
    )


def build_get_issue_request(repo: str, number: int) -> ApiRequest:
    return ApiRequest("GET", f"/repos/{repo}/issues/{number}", "read")


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')


def next_link(headers: httpx.Headers) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or None on the last page."""
    for url, rel in _LINK.findall(headers.get("link", "")):
        if "next" in rel.split():
            return str(url)
    return None


def is_pull_request(issue: Mapping[str, Any]) -> bool:
    """Every PR is an issue too; the REST list marks them with ``pull_request`` (§3.2)."""
    return issue.get("pull_request") is not None


def build_issue_fields_request(org: str) -> ApiRequest:
    """``GET /orgs/{org}/issue-fields``: the organization's issue field definitions."""
    return ApiRequest("GET", f"/orgs/{org}/issue-fields", "read")


def build_set_issue_fields_request(
    repo: str, number: int, values: Sequence[Mapping[str, Any]]
) -> ApiRequest:
    """``PATCH /repos/{o}/{r}/issues/{n}`` with the whole set of issue field values.

    GitHub replaces the set with what is sent (§3.5), so ``values`` must already hold the
    fields priosync does not own.
    """
    body = {"issue_field_values": [dict(v) for v in values]}
    return ApiRequest("PATCH", f"/repos/{repo}/issues/{number}", "write", json=body)


def build_delete_issue_field_request(repo: str, number: int, field_id: int) -> ApiRequest:
    """``DELETE …/issue-field-values/{id}``: clear one value (an empty set clears nothing)."""
    return ApiRequest(
        "DELETE", f"/repos/{repo}/issues/{number}/issue-field-values/{field_id}", "write"
    )


def build_add_labels_request(repo: str, number: int, names: Sequence[str]) -> ApiRequest:
    """``POST …/issues/{n}/labels``: adds labels and keeps the others (never ``PUT``)."""
    return ApiRequest(
        "POST", f"/repos/{repo}/issues/{number}/labels", "write", json={"labels": sorted(names)}
    )


def build_remove_label_request(repo: str, number: int, name: str) -> ApiRequest:
    """``DELETE …/issues/{n}/labels/{name}`` with the name URL-encoded (``:``, ``/``, spaces)."""
    return ApiRequest(
        "DELETE", f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}", "write"
    )


def build_list_labels_request(repo: str) -> ApiRequest:
    """The first page of ``GET /repos/{o}/{r}/labels``; later pages follow ``Link``."""
    return ApiRequest("GET", f"/repos/{repo}/labels", "read", params={"per_page": str(PER_PAGE)})


def build_create_label_request(repo: str, name: str, *, color: str, description: str) -> ApiRequest:
    """``POST /repos/{o}/{r}/labels`` (colour is hex without ``#``)."""
    body = {"name": name, "color": color.removeprefix("#"), "description": description}
    return ApiRequest("POST", f"/repos/{repo}/labels", "write", json=body)


def build_app_token_request(api_url: str, installation_id: str) -> httpx.Request:
    """``POST /app/installations/{id}/access_tokens`` (the JWT is added by the caller)."""
    return httpx.Request(
        "POST",
        f"{api_url.rstrip('/')}/app/installations/{installation_id}/access_tokens",
        headers={"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION},
    )


def parse_app_token(body: Any) -> tuple[str, float]:
    """The installation token and its expiry (epoch seconds) from the exchange's answer."""
    if not isinstance(body, Mapping) or not isinstance(body.get("token"), str):
        raise AuthFailed(f"{TRACKER}: the installation token answer has no token", tracker=TRACKER)
    expires = datetime.fromisoformat(str(body.get("expires_at")).replace("Z", "+00:00"))
    return str(body["token"]), expires.timestamp()
