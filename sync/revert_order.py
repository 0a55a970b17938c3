"""Undo one run's moves: put each item back next to the neighbour it had (pure).

The audit log records every move with where the item was just before it (``old``) and where
it went (``new``). ``plan_unmoves`` walks a run's landed moves newest first over the order
as read now, the way an undo stack does: when the item still sits where the move put it,
it goes back to where it was; the order is updated as if that landed, so the move before it
finds the order it left. When nobody touched the order since, the result is the order before
the run, exactly. An item moved since (by a person, or a later run), or whose old neighbour
is no longer in the source, stays where it is and is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from priosync.domain import Move, WorkItem
from scoring.order import Order
from sync.audit import POSITION, WriteRecord, place_from


@dataclass(frozen=True, slots=True)
class Unmovable:
    """A move revert leaves alone, and why, one line."""

    key: str
    why: str

    def describe(self) -> str:
        return f"{self.key}: {self.why}; left where it is"


def plan_unmoves(
    run_id: int,
    writes: Sequence[WriteRecord],
    orders: Mapping[str, Sequence[WorkItem]],
) -> tuple[list[Move], list[Unmovable]]:
    """The moves that undo the run's landed moves (in the order to apply them), and the
    ones that cannot be undone. ``orders``: each source's items as read now, top first."""
    moves: list[Move] = []
    refused: list[Unmovable] = []
    landed = [w for w in writes if w.field == POSITION and w.status == "ok"]
    for source, items in orders.items():
        order = Order(item.key for item in items)
        by_key = {item.key: item for item in items}
        for write in reversed([w for w in landed if w.source == source]):
            to, was = place_from(write.new), place_from(write.old)
            if write.item not in order:
                refused.append(Unmovable(write.item, "no longer in the source"))
                continue
            if to is None or was is None:
                refused.append(Unmovable(write.item, "its move is not recorded in full"))
                continue
            if not order.holds(write.item, to):
                refused.append(
                    Unmovable(
                        write.item,
                        f"it is no longer {to.describe()} as the run put it; someone moved "
                        "it since",
                    )
                )
                continue
            neighbour = was.neighbour
            if neighbour not in order or neighbour == write.item:
                refused.append(
                    Unmovable(write.item, f"its old neighbour {neighbour} is no longer there")
                )
                continue
            moves.append(
                Move(
                    key=write.item,
                    source=source,
                    url=write.url,
                    to=was,
                    was=order.place_of(write.item),
                    reason=f"revert run {run_id}",
                    item=by_key[write.item],
                    anchor=by_key.get(neighbour) if neighbour is not None else None,
                )
            )
            order.move(write.item, was)
    for write in landed:
        if write.source not in orders:
            refused.append(Unmovable(write.item, f"source {write.source} was not read"))
    return moves, refused
