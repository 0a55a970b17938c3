"""Jira issue links as blocking dependencies; pure.

An issue's ``issuelinks`` field lists each link once, from that issue's side: an entry with
``outwardIssue`` reads "this issue <outward> that one" ("blocks"), one with ``inwardIssue``
"this issue <inward> that one" ("is blocked by"); the linked issue carries its key and
status with the status category (https://developer.atlassian.com/cloud/jira/platform/issue-linking-model/,
docs/tracker-apis.md §1.10). Link types are matched by name, case-insensitively, because a
site can rename or add them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from priosync.domain import Link

#: The fields a read adds when dependencies are on: the links, and the issue's own status.
LINK_FIELDS = ("issuelinks", "status")
#: The status category key every "done" status has, whatever the status is called.
DONE_CATEGORY = "done"


def is_done(status: Any) -> bool:
    """Whether a status object (``fields.status``) is in the Done category."""
    if not isinstance(status, Mapping):
        return False
    category = status.get("statusCategory")
    return isinstance(category, Mapping) and category.get("key") == DONE_CATEGORY


def blocking_links(
    links: Any, *, link_types: Collection[str]
) -> tuple[tuple[Link, ...], tuple[Link, ...]]:
    """The issues this one blocks and the issues blocking it, from an ``issuelinks`` value.

    Entries of other link types, and malformed ones, are left out.
    """
    wanted = {name.casefold() for name in link_types}
    blocks: dict[str, Link] = {}
    blocked_by: dict[str, Link] = {}
    for entry in links if isinstance(links, list) else ():
        if not isinstance(entry, Mapping) or not _of_type(entry.get("type"), wanted):
            continue
        for side, into in (("outwardIssue", blocks), ("inwardIssue", blocked_by)):
            linked = entry.get(side)
            if isinstance(linked, Mapping) and isinstance(linked.get("key"), str):
                fields = linked.get("fields")
                status = fields.get("status") if isinstance(fields, Mapping) else None
                key = str(linked["key"])
                into[key] = Link(key, done=is_done(status))
    return tuple(blocks.values()), tuple(blocked_by.values())


def _of_type(link_type: Any, wanted: Collection[str]) -> bool:
    return (
        isinstance(link_type, Mapping)
        and isinstance(link_type.get("name"), str)
        and link_type["name"].casefold() in wanted
    )
