"""The sandbox's issue history: every edit that changed something, as Jira's changelog shows it.

Pure rendering. Cloud: ``POST /rest/api/3/changelog/bulkfetch`` answers ``issueChangeLogs``
(one entry per issue, its ``changeHistories`` oldest first), sorted by change date and issue
id and paged over changelogs by an opaque ``nextPageToken``; histories are filtered to the
requested ``fieldIds``. Data Center: ``expand=changelog`` adds ``changelog`` (``startAt``,
``maxResults``, ``total``, ``histories``) to an issue, whose items name the field but carry no
``fieldId`` (docs/tracker-apis.md §1.12, §2).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .edits import ChangeItem
from .render import jira_time

if TYPE_CHECKING:
    from .state import Account, EditRecord

#: ``BulkChangelogRequestBean`` limits.
MAX_ISSUES = 1000
MAX_FIELD_IDS = 10
MAX_RESULTS = 10_000
DEFAULT_RESULTS = 1000


@dataclass(frozen=True, slots=True)
class History:
    """One changelog entry: an edit that changed something, with its id."""

    id: int
    issue_id: int
    record: EditRecord


def render_author(account: Account, *, base_url: str, dc: bool) -> dict[str, Any]:
    """The ``author`` of a changelog: a Cloud user (``accountId``) or a DC user (``name``)."""
    avatars = {size: f"{base_url}/avatar/{size}.png" for size in ("16x16", "24x24", "32x32")}
    if dc:
        name = account.email.split("@")[0]
        return {
            "self": f"{base_url}/rest/api/2/user?username={name}",
            "name": name,
            "key": name,
            "emailAddress": account.email,
            "avatarUrls": avatars,
            "displayName": account.display_name,
            "active": True,
            "timeZone": "UTC",
        }
    return {
        "self": f"{base_url}/rest/api/3/user?accountId={account.account_id}",
        "accountId": account.account_id,
        "accountType": "atlassian",
        "emailAddress": account.email,
        "avatarUrls": avatars,
        "displayName": account.display_name,
        "active": True,
        "timeZone": "UTC",
    }


def render_history(
    history: History,
    *,
    author: dict[str, Any],
    dc: bool,
    field_ids: Collection[str] | None = None,
) -> dict[str, Any] | None:
    """One ``Changelog``; with ``field_ids`` only those items (None when none is left)."""
    items = [
        _render_item(c, dc=dc)
        for c in history.record.changes
        if field_ids is None or c.field_id in field_ids
    ]
    if not items:
        return None
    at = history.record.at
    return {
        "id": str(history.id),
        "author": author,
        # Cloud's Changelog.created is an RFC 3339 date-time; Data Center writes Jira's own
        # timestamp (2025-01-06T09:00:00.000+0000) as everywhere else.
        "created": jira_time(at) if dc else at.isoformat(timespec="milliseconds"),
        "items": items,
    }


def _render_item(change: ChangeItem, *, dc: bool) -> dict[str, Any]:
    rendered = change.to_json()
    if dc:
        del rendered["fieldId"]
        return rendered
    # ChangeDetails' properties are strings, none nullable: an empty side is left out.
    return {k: v for k, v in rendered.items() if v is not None}


def render_issue_changelog(histories: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An issue's ``changelog`` expansion: every history, oldest first (``PageOfChangelogs``)."""
    return {
        "startAt": 0,
        "maxResults": len(histories),
        "total": len(histories),
        "histories": list(histories),
    }


def page_bulk_changelog(
    entries: Sequence[tuple[int, dict[str, Any]]], *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """``issueChangeLogs`` for one page of (issue id, changelog) pairs, and the next offset.

    ``entries`` are sorted by change date, then issue id, as Jira sorts them.
    """
    page = entries[offset : offset + limit]
    grouped: dict[int, list[dict[str, Any]]] = {}
    for issue_id, changelog in page:
        grouped.setdefault(issue_id, []).append(changelog)
    logs = [{"issueId": str(i), "changeHistories": h} for i, h in grouped.items()]
    following = offset + len(page)
    return logs, following if following < len(entries) else None
