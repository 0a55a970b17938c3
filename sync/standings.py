"""Where each item stood after a sync: its rank, tier, bucket and score.

The report's "since the last sync" compares today's ranking with these. The audit log keeps
only the fields a run changed (and a rank only when a rank field is configured), so it
cannot say that an item moved from 12th to 4th; a small file beside it keeps each sync's
standings instead: ``audit.sqlite3`` → ``audit.standings.json``. It holds the last few syncs
(newest first), so a page made right after a sync can still compare with the one before.

A missing or unreadable file means no earlier sync is known: the report says so and shows
no movement, never an error. Writes go to a temporary file renamed into place, so a crash
leaves the old standings or the new ones, never half of either.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from priosync.domain import RankedItem

#: Syncs kept in the file: the newest, and the one before it for a report made right after.
KEEP = 3
#: A file larger than this is not read (a corrupt or hostile file must not exhaust memory).
MAX_BYTES = 64 * 1024 * 1024
VERSION = 2

ItemId = tuple[str, str]
Row = tuple[ItemId, "Standing"]


@dataclass(frozen=True, slots=True)
class Standing:
    """One item after one sync; rank, tier and bucket are None when it needed input."""

    rank: int | None
    tier: str | None
    bucket: str | None
    score: float | None


@dataclass(frozen=True, slots=True)
class Standings:
    """Every item of the sources one sync read, by (source, key)."""

    #: When the sync ran (ISO 8601, UTC).
    at: str
    #: The sources it read: an item of another source is not "new" for it, just not covered.
    sources: frozenset[str]
    items: Mapping[ItemId, Standing]
    run_id: int | None = None

    def covers(self, source: str) -> bool:
        return source in self.sources


def standings_of(
    ranking: Iterable[RankedItem], *, at: str, sources: Iterable[str], run_id: int | None = None
) -> Standings:
    """The standings of ``ranking`` for the named sources (items of others are left out)."""
    names = frozenset(sources)
    return Standings(at=at, sources=names, items=dict(_rows(ranking, names)), run_id=run_id)


def _rows(ranking: Iterable[RankedItem], sources: frozenset[str]) -> Iterator[Row]:
    for r in ranking:
        if r.item.source in sources:
            yield (r.item.source, r.item.key), Standing(r.rank, r.tier, r.bucket, r.score.value)


class StandingsFile:
    """The standings of the last few syncs, one JSON object a line, newest first.

    A line is read only when it is needed (``latest`` parses lines until one fits) and a
    new sync is written row by row, the older lines copied as they are: 50,000 items'
    standings never sit in memory more than once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside(cls, state: Path) -> StandingsFile:
        """The file next to an audit log: ``<dir>/<stem>.standings.json``."""
        return cls(state.with_name(f"{state.stem}.standings.json"))

    def load(self) -> list[Standings]:
        """Every sync recorded, newest first; [] when there is no readable file."""
        return list(self._each())

    def latest(self, *, before: str | None = None) -> Standings | None:
        """The newest standings, or the newest recorded strictly before ``before``."""
        for standings in self._each():
            if before is None or standings.at < before:
                return standings
        return None

    def before_run(self, run_id: int | None) -> Standings | None:
        """What stood before run ``run_id`` recorded its standings: the line after its own
        (a sync that ran since may have added a newer one). The newest when ``run_id`` is
        None; None when the run's standings are not in the file or nothing came before."""
        if run_id is None:
            return self.latest()
        lines = self._lines()
        for line in lines:
            if _run_id_of(line) == run_id:
                return next(_parsed(lines), None)
        return None

    def record(
        self,
        ranking: Iterable[RankedItem],
        *,
        at: str,
        sources: Iterable[str],
        run_id: int | None = None,
    ) -> None:
        """Add the standings of ``ranking`` (``standings_of``) as the newest and keep the last
        ``KEEP``; atomic. Written straight from the ranking, row by row: a sync never holds
        50,000 standings beside its 50,000 ranked items."""
        names = frozenset(sources)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                _write_line(file, at=at, run_id=run_id, sources=names, rows=_rows(ranking, names))
                for line in self._lines(limit=KEEP - 1):
                    file.write(line if line.endswith("\n") else line + "\n")
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _lines(self, *, limit: int = KEEP) -> Iterator[str]:
        """Up to ``limit`` lines of this version, as written; none from a missing, too
        large or unreadable file."""
        try:
            if not self.path.is_file() or self.path.stat().st_size > MAX_BYTES:
                return
            with self.path.open(encoding="utf-8") as file:
                kept = 0
                for line in file:
                    if kept >= limit:
                        return
                    if line.startswith(_LINE_START):
                        kept += 1
                        yield line
        except (OSError, ValueError):
            return

    def _each(self) -> Iterator[Standings]:
        return _parsed(self._lines())


def _parsed(lines: Iterable[str]) -> Iterator[Standings]:
    """The standings of each line that parses; a broken line is passed over."""
    for line in lines:
        try:
            yield _from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, IndexError, RecursionError):
            continue


#: Every line this version writes starts so; anything else (an older file) is not read.
_LINE_START = f'{{"version":{VERSION},'


def _run_id_of(line: str) -> int | None:
    """The ``run_id`` of a line, read from its head (written before the items) alone."""
    head, found, _ = line.partition(',"items":[')
    try:
        run_id = json.loads(head + "}").get("run_id") if found else None
    except ValueError:
        return None
    return run_id if isinstance(run_id, int) else None


def _write_line(
    file: IO[str], *, at: str, run_id: int | None, sources: frozenset[str], rows: Iterable[Row]
) -> None:
    """One sync as one line, its items written row by row."""
    head = json.dumps(
        {"version": VERSION, "at": at, "run_id": run_id, "sources": sorted(sources)},
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    file.write(head[:-1] + ',"items":[')
    for n, ((source, key), s) in enumerate(rows):
        row = [source, key, s.rank, s.tier, s.bucket, s.score]
        file.write(("," if n else "") + json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    file.write("]}\n")


def _from_json(entry: Mapping[str, Any]) -> Standings:
    rows: Sequence[Sequence[Any]] = entry["items"]
    items = {
        (str(row[0]), str(row[1])): Standing(
            rank=_int(row[2]), tier=_str(row[3]), bucket=_str(row[4]), score=_float(row[5])
        )
        for row in rows
    }
    run_id = entry.get("run_id")
    return Standings(
        at=str(entry["at"]),
        sources=frozenset(str(s) for s in entry["sources"]),
        items=items,
        run_id=run_id if isinstance(run_id, int) else None,
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
