"""When an issue's input fields last changed, from Jira's changelog: requests and parsers, no I/O.

Cloud: ``POST /rest/api/3/changelog/bulkfetch`` takes up to 1,000 issues and up to 10 field
ids a request and pages its answer by ``nextPageToken``; each issue's changelogs come oldest
first (docs/tracker-apis.md §1.12). Data Center has no bulk changelog: a search with
``expand: ["changelog"]`` returns each issue's history (``startAt``, ``maxResults``, ``total``,
``histories``), and an issue whose history came back cut short is read alone with
``GET /rest/api/2/issue/{key}?expand=changelog`` (§2).

Only changes to the input fields count: the filter asks Jira for them (Cloud) and every
history item is checked again here (Data Center items may carry the field's name, not its
id). An issue with no such change last changed its inputs when it was created.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.jira.mapping import parse_jira_time
from connectors.jira.protocol import ApiRequest, JsonObject, build_keys_jql

#: Issues per changelog bulk fetch (spec: ``BulkChangelogRequestBean.issueIdsOrKeys``).
CHANGELOG_ISSUES_MAX = 1000
#: Field ids per changelog bulk fetch (spec: ``BulkChangelogRequestBean.fieldIds``).
CHANGELOG_FIELDS_MAX = 10
#: Changelogs per page: the documented maximum of ``maxResults`` (default 1,000).
CHANGELOG_PAGE_MAX = 10_000
#: Issues per Data Center history search: one page of the default cap (1,000,
#: ``jira.search.views.default.max``); the JQL travels in the POST body, so its length is no
#: URL's. A server with a lower cap answers fewer a page, and the rest are paged by startAt.
DC_HISTORY_KEYS = 1000


@dataclass(frozen=True, slots=True)
class InputFields:
    """The input fields whose changes count, by id and by name (both compared casefolded)."""

    ids: frozenset[str]
    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pairs: Collection[tuple[str, str]]) -> InputFields:
        """From (id, name) pairs."""
        return cls(
            frozenset(i.casefold() for i, _ in pairs), frozenset(n.casefold() for _, n in pairs)
        )

    def touched_by(self, item: Mapping[str, Any]) -> bool:
        """Whether one changelog item (``ChangeDetails``) changed an input field."""
        field_id = item.get("fieldId")
        if isinstance(field_id, str) and field_id:
            return field_id.casefold() in self.ids
        name = item.get("field")
        return isinstance(name, str) and (
            name.casefold() in self.names or name.casefold() in self.ids
        )


# ── Cloud ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ChangelogPage:
    """Issue id → its latest input change on this page, and the next page's token."""

    latest: dict[str, datetime] = field(default_factory=dict)
    next_page_token: str | None = None


def build_changelog_bulkfetch_request(
    ids: Sequence[str], *, field_ids: Sequence[str], next_page_token: str | None = None
) -> ApiRequest:
    """``POST /rest/api/3/changelog/bulkfetch`` for these issues, filtered to these fields.

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post
    """
    if not ids or len(ids) > CHANGELOG_ISSUES_MAX:
        raise ValueError(f"a changelog bulk fetch takes 1 to {CHANGELOG_ISSUES_MAX} issues")
    if not field_ids or len(field_ids) > CHANGELOG_FIELDS_MAX:
        raise ValueError(f"a changelog bulk fetch filters by 1 to {CHANGELOG_FIELDS_MAX} fields")
    body: JsonObject = {
        "issueIdsOrKeys": list(ids),
        "fieldIds": list(dict.fromkeys(field_ids)),
        "maxResults": CHANGELOG_PAGE_MAX,
    }
    if next_page_token:
        body["nextPageToken"] = next_page_token
    return ApiRequest("POST", "/rest/api/3/changelog/bulkfetch", json=body)


def keep_later(latest: dict[str, datetime], issue: str, at: datetime) -> None:
    """Record ``at`` for ``issue`` unless a later change is recorded already."""
    if issue not in latest or at > latest[issue]:
        latest[issue] = at


def parse_changelog_bulkfetch(body: Any, wanted: InputFields) -> ChangelogPage:
    """The latest input change per issue id on one page (spec: ``BulkChangelogResponseBean``).

    The last page has no ``nextPageToken`` (null or absent).
    """
    if not isinstance(body, dict):
        raise ValueError("a changelog bulk fetch answers with an object")
    latest: dict[str, datetime] = {}
    for entry in body.get("issueChangeLogs") or ():
        if not isinstance(entry, dict) or entry.get("issueId") is None:
            continue
        at = latest_change(entry.get("changeHistories"), wanted)
        if at is not None:
            keep_later(latest, str(entry["issueId"]), at)
    token = body.get("nextPageToken")
    return ChangelogPage(latest, str(token) if isinstance(token, str) and token else None)


# ── Data Center ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class IssueHistory:
    """One issue's latest input change (None: none in the history read), and whether the
    history came back whole."""

    key: str
    latest: datetime | None
    complete: bool


def build_dc_history_request(keys: Sequence[str], *, start_at: int = 0) -> ApiRequest:
    """``POST /rest/api/2/search`` for named issues with their changelogs (Data Center).

    ``validateQuery: false``: with validation on, a key deleted since the read makes the
    whole search answer 400 ("An issue with key … does not exist"); without it the search
    returns the issues that still exist, and the missing one simply has no history.
    """
    body = {
        "jql": build_keys_jql(keys),
        "startAt": start_at,
        "maxResults": min(len(keys), DC_HISTORY_KEYS),
        "fields": ["created"],
        "expand": ["changelog"],
        "validateQuery": False,
    }
    return ApiRequest("POST", "/rest/api/2/search", json=body)


def build_dc_issue_history_request(key: str) -> ApiRequest:
    """``GET /rest/api/2/issue/{key}?expand=changelog``: one issue's whole history."""
    return ApiRequest(
        "GET", f"/rest/api/2/issue/{key}", params={"fields": "created", "expand": "changelog"}
    )


def parse_issue_history(issue: Mapping[str, Any], wanted: InputFields) -> IssueHistory:
    """An issue's latest input change from its ``changelog`` (a search or issue answer)."""
    changelog = issue.get("changelog")
    histories = changelog.get("histories") if isinstance(changelog, dict) else None
    listed = histories if isinstance(histories, list) else []
    total = changelog.get("total") if isinstance(changelog, dict) else None
    start = changelog.get("startAt") if isinstance(changelog, dict) else None
    shown = (start if isinstance(start, int) else 0) + len(listed)
    complete = not isinstance(total, int) or total <= shown
    return IssueHistory(str(issue.get("key") or ""), latest_change(listed, wanted), complete)


# ── shared ───────────────────────────────────────────────────────────────────────────────


def latest_change(histories: Any, wanted: InputFields) -> datetime | None:
    """The ``created`` time of the newest history with an item changing an input field."""
    latest: datetime | None = None
    for history in histories if isinstance(histories, list) else ():
        if not isinstance(history, dict):
            continue
        items = history.get("items")
        if not isinstance(items, list) or not any(
            wanted.touched_by(i) for i in items if isinstance(i, dict)
        ):
            continue
        at = change_time(history.get("created"))
        if at is not None and (latest is None or at > latest):
            latest = at
    return latest


def change_time(raw: Any) -> datetime | None:
    """A changelog's ``created``: Jira's timestamp text, or epoch seconds (or milliseconds),
    as the bulk fetch's published example shows it."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float) and math.isfinite(raw):
        seconds = raw / 1000 if raw > 10**11 else raw
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_jira_time(raw)
