"""A GitHub Project's own order: items read in ``POSITION`` order, moved with
``updateProjectV2ItemPosition`` (docs/tracker-apis.md §4.2).

The mutation puts one item right after ``afterId``, or at the top when it is null. A move
"after A" names A's item; a move "before K" (the items ranked above everything already in
place) becomes "after whatever now sits right before K" in the whole Project — closed items,
pull requests and items the token cannot see included — so the items the source leaves out
keep their places. The connector remembers the Project's whole order from its last read and
updates it as it plans each move. Moves go as aliased mutations, up to 50 a document, one
document at a time, paced and budgeted like every other write; aliased mutations run in
order, so a chain can share a document.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.client import GitHubClient
from connectors.github.mapping import ItemHandle
from priosync.domain import Move, MoveResult, Place, WorkItem
from priosync.errors import ChangeRejected
from scoring.order import Order

Positioned = tuple[Move, g.Mutation]


def item_id_of(item: WorkItem | None) -> str | None:
    """A read item's Project item node id."""
    handle = item.handle if item is not None else None
    return handle.item_id if isinstance(handle, ItemHandle) else None


def position_mutations(
    project_id: str, moves: Sequence[Move], order: Order
) -> tuple[list[Positioned], list[MoveResult]]:
    """One mutation per move, with ``order`` (the Project's item ids, top first) updated as
    each would land; moves of items this connector did not read are refused."""
    planned: list[Positioned] = []
    refused: list[MoveResult] = []
    for move in moves:
        item_id, anchor_id = item_id_of(move.item), item_id_of(move.anchor)
        if item_id not in order or anchor_id not in order or item_id is None or anchor_id is None:
            refused.append(MoveResult(move, error=not_read(move)))
            continue
        if move.to.after is not None:
            after_id: str | None = anchor_id
        else:
            after_id = order.prev(anchor_id)
            if after_id == item_id:
                after_id = order.prev(item_id)
        order.move(item_id, Place(after=after_id) if after_id else Place(before=anchor_id))
        planned.append((move, g.update_position(project_id, item_id, after_id)))
    return planned, refused


async def send_positions(client: GitHubClient, batch: Sequence[Positioned]) -> list[MoveResult]:
    """One document of position mutations; each move's result by its alias's errors."""
    errors = await client.mutate([[m] for _, m in batch])
    return [MoveResult(move, error=e) for (move, _), e in zip(batch, errors, strict=True)]


def not_read(move: Move) -> ChangeRejected:
    return ChangeRejected(
        f"{move.key}: cannot place it {move.to.describe()}: the item or its neighbour was not "
        "read from the Project by this run",
        tracker=p.TRACKER,
        status=None,
    )
