"""What moved since the last sync: places up and down, new entrants, tier and bucket changes.

Pure: compares a ranking with the ``Standings`` recorded by an earlier sync. Only items of
sources that sync read are compared; an item of another source is neither new nor moved.
Places are compared within what the ranking ranks together (a source, or the portfolio), so
"↑3" means three places higher in the same list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from priosync.domain import RankedItem
from sync.standings import Standing, Standings

ItemId = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Move:
    """One item compared with where it stood: ``places`` > 0 is up the list."""

    ranked: RankedItem
    was: Standing | None

    @property
    def is_new(self) -> bool:
        """Not in the last sync's ranking: new to the backlog, or scored for the first time."""
        return self.ranked.rank is not None and (self.was is None or self.was.rank is None)

    @property
    def places(self) -> int:
        if self.ranked.rank is None or self.was is None or self.was.rank is None:
            return 0
        return self.was.rank - self.ranked.rank

    @property
    def tier_changed(self) -> bool:
        return (
            self.was is not None
            and self.was.rank is not None
            and (self.was.tier != self.ranked.tier)
        )

    @property
    def bucket_changed(self) -> bool:
        return (
            self.was is not None
            and self.was.rank is not None
            and (self.was.bucket != self.ranked.bucket)
        )

    @property
    def dropped(self) -> bool:
        """Ranked at the last sync, needs input now."""
        return self.ranked.rank is None and self.was is not None and self.was.rank is not None


@dataclass(frozen=True, slots=True)
class Gone:
    """An item ranked at the last sync that this ranking no longer holds (closed, moved out)."""

    source: str
    key: str
    was: Standing


@dataclass(frozen=True, slots=True)
class Movement:
    """Every compared item's move, and the summary lists the report shows first."""

    since: str
    moves: Mapping[ItemId, Move]
    gone: Sequence[Gone] = field(default_factory=tuple)

    @property
    def new(self) -> list[Move]:
        return [m for m in self._ordered() if m.is_new]

    @property
    def up(self) -> list[Move]:
        return sorted((m for m in self.moves.values() if m.places > 0), key=_biggest)

    @property
    def down(self) -> list[Move]:
        return sorted((m for m in self.moves.values() if m.places < 0), key=_biggest)

    @property
    def crossed(self) -> list[Move]:
        """Items whose tier or bucket changed, in rank order."""
        return [m for m in self._ordered() if m.tier_changed or m.bucket_changed]

    @property
    def dropped(self) -> list[Move]:
        return [m for m in self.moves.values() if m.dropped]

    def _ordered(self) -> list[Move]:
        return sorted(
            (m for m in self.moves.values() if m.ranked.rank is not None),
            key=lambda m: (m.ranked.item.source, m.ranked.rank or 0),
        )


def compare(ranking: Iterable[RankedItem], baseline: Standings) -> Movement:
    """Each item of a source the baseline covers, against where it stood then."""
    moves: dict[ItemId, Move] = {}
    for r in ranking:
        if baseline.covers(r.item.source):
            ident = (r.item.source, r.item.key)
            moves[ident] = Move(r, baseline.items.get(ident))
    # A ``--source`` run may leave a source out: its items are not gone, just not shown.
    present = {source for source, _ in moves}
    gone = [
        Gone(source, key, was)
        for (source, key), was in baseline.items.items()
        if was.rank is not None and (source, key) not in moves and source in present
    ]
    gone.sort(key=lambda g: (g.source, g.was.rank or 0))
    return Movement(since=baseline.at, moves=moves, gone=tuple(gone))


def _biggest(move: Move) -> tuple[int, int]:
    return (-abs(move.places), move.ranked.rank or 0)
