"""Jira Software's own order: read with ``ORDER BY Rank``, written with the agile rank call.

``PUT /rest/agile/1.0/issue/rank`` places up to 50 issues, in the order given, right after
``rankAfterIssue`` or right before ``rankBeforeIssue``. It answers 204 when every issue
moved, or 207 with one entry per issue (``issueId``, ``issueKey``, ``status``, ``errors``)
when some did not; Cloud and Data Center serve it at the same path (docs/tracker-apis.md
§4.1). Builders and parsers here are pure; ``RankWriter`` sends one request at a time.

Requests go one after another, not in parallel: a chain longer than 50 continues right after
the last issue of the request before it, which must have landed first. A request whose
anchor was an issue that failed to move is placed where that issue was to go instead, so a
refused issue does not drag the rest of its chain to its old place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from connectors.jira import protocol as p
from connectors.jira.client import JiraClient
from priosync.domain import Move, MoveResult, Place
from priosync.errors import (
    AuthFailed,
    ChangeRejected,
    NotFound,
    TrackerError,
    TrackerUnavailable,
)
from scoring.order import MOVES_PER_REQUEST, group_moves

RANK_PATH = "/rest/agile/1.0/issue/rank"
#: "At most 50 issues may be ranked at once" (docs/tracker-apis.md §4.1); the writer's
#: budget counts requests of this size.
RANK_MAX = MOVES_PER_REQUEST

NO_JIRA_SOFTWARE = (
    "the rank endpoint is part of Jira Software; reorder needs Jira Software on this site "
    "(or set reorder = false)"
)


def order_by_rank(jql: str) -> str:
    """The source's JQL with its own ``ORDER BY`` replaced by ``ORDER BY Rank ASC``."""
    where = p.split_order_by(jql)[0].strip()
    return f"{where} ORDER BY Rank ASC" if where else "ORDER BY Rank ASC"


def without_rank(exc: TrackerError) -> TrackerError:
    """A search refused for its ``ORDER BY Rank`` (a site without Jira Software has no Rank
    field) said so, with the fix; any other error as it was."""
    if exc.status != 400 or "rank" not in str(exc).casefold():
        return exc
    return TrackerError(
        f"{exc} (reorder reads the order with ORDER BY Rank: {NO_JIRA_SOFTWARE})",
        tracker=exc.tracker,
        status=exc.status,
    )


def build_rank_request(issues: Sequence[str], place: Place) -> p.ApiRequest:
    """One rank call: ``issues`` (ids or keys) right after or before the anchor."""
    if not 1 <= len(issues) <= RANK_MAX:
        raise ValueError(f"a rank request takes 1 to {RANK_MAX} issues, not {len(issues)}")
    body: dict[str, Any] = {"issues": list(issues)}
    if place.after is not None:
        body["rankAfterIssue"] = place.after
    elif place.before is not None:
        body["rankBeforeIssue"] = place.before
    else:
        raise ValueError("a rank request needs an issue to rank after or before")
    return p.ApiRequest("PUT", RANK_PATH, json=body, kind="write")


def parse_rank_answer(body: Any) -> dict[str, str]:
    """The issues a 207 says did not move (id and key alike → Jira's reason); {} for 204."""
    if body is None:
        return {}
    entries = body.get("entries") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise TrackerUnavailable("jira answered a rank call with a malformed body", tracker="jira")
    refused: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        status = entry.get("status")
        errors = [str(e) for e in entry.get("errors") or [] if e]
        if (isinstance(status, int) and status >= 400) or errors:
            reason = "; ".join(errors) or f"status {status}"
            for name in (entry.get("issueId"), entry.get("issueKey")):
                if name is not None:
                    refused[str(name)] = reason
    return refused


def issue_ref(move: Move) -> str:
    """The moved issue as the rank call names it: its id when read, else its key."""
    return str(move.item.handle) if move.item is not None and move.item.handle else move.key


def anchor_ref(move: Move, place: Place) -> Place:
    """``place`` naming its issue by id when the move carries the anchor's handle."""
    anchor = move.anchor
    if anchor is None or not anchor.handle:
        return place
    named = place.neighbour
    if named != anchor.key:
        return place
    ref = str(anchor.handle)
    return Place(after=ref) if place.after is not None else Place(before=ref)


class RankWriter:
    """Sends a source's moves as rank calls, one at a time, and reports each move."""

    def __init__(self, client: JiraClient) -> None:
        self.client = client
        #: Rank calls sent (a retried call counts once).
        self.requests = 0

    async def apply(self, moves: Sequence[Move]) -> AsyncIterator[MoveResult]:
        failed_to: dict[str, Place] = {}
        for group in group_moves(moves, RANK_MAX):
            head = group[0]
            place = redirected(head.to, failed_to)
            target = anchor_ref(head, place) if place == head.to else place
            try:
                refused = await self._send([issue_ref(m) for m in group], target)
            except AuthFailed:
                raise
            except TrackerError as exc:
                error = (
                    NotFound(f"{exc} ({NO_JIRA_SOFTWARE})", tracker="jira", status=exc.status)
                    if isinstance(exc, NotFound)
                    else exc
                )
                for move in group:
                    failed_to[move.key] = redirected(move.to, failed_to)
                    yield MoveResult(move, error=error)
                continue
            for move in group:
                reason = refused.get(issue_ref(move)) or refused.get(move.key)
                if reason is None:
                    yield MoveResult(move)
                    continue
                failed_to[move.key] = redirected(move.to, failed_to)
                yield MoveResult(
                    move,
                    error=ChangeRejected(
                        f"jira did not rank {move.key}: {reason}", tracker="jira", status=207
                    ),
                )

    async def _send(self, issues: Sequence[str], place: Place) -> dict[str, str]:
        self.requests += 1
        return parse_rank_answer(await self.client.call(build_rank_request(issues, place)))


def redirected(place: Place, failed_to: Mapping[str, Place]) -> Place:
    """Where ``place`` really points once issues that failed to move are skipped: right
    after a failed issue means where that issue was to go."""
    seen: set[str] = set()
    while place.after is not None and place.after in failed_to and place.after not in seen:
        seen.add(place.after)
        place = failed_to[place.after]
    return place
