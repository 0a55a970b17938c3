"""GitHub issue dependencies as blocking links; pure.

An issue's ``blockedBy`` connection lists the issues blocking it, any repository's
(https://docs.github.com/en/graphql/reference/objects#issue, docs/tracker-apis.md §3.8).
priosync reads only that side: an issue blocked by another is a link either way, and one
direction costs half the points of two. The REST issue carries only counts
(``issue_dependencies_summary``), which say which issues have open blockers to ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from priosync.domain import Link


def blocked_by_links(content: Mapping[str, Any]) -> tuple[tuple[Link, ...], bool]:
    """An issue's blockers from its ``blockedBy`` answer, and whether the list was cut short."""
    connection = content.get("blockedBy")
    if not isinstance(connection, Mapping):
        return (), False
    links = []
    for node in connection.get("nodes") or ():
        if not isinstance(node, Mapping):
            continue  # a blocker the token cannot see comes back as null
        repo = (node.get("repository") or {}).get("nameWithOwner")
        number = node.get("number")
        if isinstance(repo, str) and isinstance(number, int) and not isinstance(number, bool):
            links.append(Link(f"{repo}#{number}", done=bool(node.get("closed"))))
    total = connection.get("totalCount")
    cut = isinstance(total, int) and total > len(connection.get("nodes") or ())
    return tuple(links), cut


def has_open_blockers(issue: Mapping[str, Any]) -> bool:
    """Whether a REST issue's ``issue_dependencies_summary`` counts open blockers."""
    summary = issue.get("issue_dependencies_summary")
    if not isinstance(summary, Mapping):
        return False
    count = summary.get("blocked_by")
    return isinstance(count, int) and count > 0
