"""Plan the moves that make a tracker's own order follow the ranking (pure).

With ``[outputs] reorder = true`` the source's ranked items are to stand in the tracker's
own order (Jira's Rank, a GitHub Project's item positions) as priosync ranks them, rank 1
first. Only ranked items move: items missing input, pinned items (``pin_label``) and items
the source does not read (other projects on the board, done issues) keep their places, and
the ranked ones are ordered around them. The current order is the order the connector read
the items in (Jira: ``ORDER BY Rank ASC``; GitHub: the Project's ``POSITION`` order), one
order per source, also when the ranking is global. ``scoring.order`` picks the fewest moves.

A file source has no order to write, and a GitHub repository source has none at all (its
issues are not in a Project): with ``reorder`` on they are left alone, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from config.models import FileSource, GitHubSource, JiraSource
from priosync.domain import Move, RankedItem, WorkItem
from scoring import explain_ranked
from scoring.order import apply_steps, fewest_moves
from sync.plan import PlanRules


def has_order(source: JiraSource | GitHubSource | FileSource) -> bool:
    """Whether priosync can set this source's order: Jira, and GitHub Projects."""
    if isinstance(source, JiraSource):
        return True
    return isinstance(source, GitHubSource) and source.project is not None


def unordered_warning(source: GitHubSource | FileSource) -> str:
    """Why ``reorder`` leaves a source alone, one line."""
    if isinstance(source, FileSource):
        return f"reorder: source {source.name} is a file; its order is not written"
    return (
        f"reorder: source {source.name} is a repository, whose issues have no order of their "
        "own; reorder applies to Jira sources and GitHub Projects"
    )


def plan_moves(
    ranking: Sequence[RankedItem],
    orders: Mapping[str, Sequence[WorkItem]],
    rules: PlanRules,
) -> tuple[Move, ...]:
    """The moves, per source in ``orders`` (each its items in tracker order, top first),
    that put the source's ranked, unpinned items in rank order."""
    moves: list[Move] = []
    for source, items in orders.items():
        held = {item.key: item for item in items}
        ranked = sorted(
            (
                r
                for r in ranking
                if r.item.source == source
                and r.rank is not None
                and r.item.key in held
                and not rules.pins(r.item)
            ),
            key=lambda r: r.rank or 0,
        )
        by_key = {r.item.key: r for r in ranked}
        for step in fewest_moves(list(held), list(by_key)):
            r = by_key[step.key]
            anchor = step.to.neighbour
            moves.append(
                Move(
                    key=step.key,
                    source=source,
                    url=r.item.url,
                    to=step.to,
                    was=step.was,
                    reason=explain_ranked(r, with_tier=rules.writes_priority),
                    item=r.item,
                    anchor=held.get(anchor) if anchor is not None else None,
                )
            )
    return tuple(moves)


def with_landed_moves(items: Sequence[WorkItem], landed: Sequence[Move]) -> list[WorkItem]:
    """``items`` (one source, tracker order) reordered as the landed moves left them, so a
    plan made from a kept snapshot (the service) starts from the tracker's order."""
    by_key = {item.key: item for item in items}
    known = [m for m in landed if m.key in by_key and m.to.neighbour in by_key]
    return [by_key[key] for key in apply_steps(by_key, known)]
