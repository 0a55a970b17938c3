"""What priosync remembers about items' inputs between runs, for ``[scoring.freshness]``.

Per item: a digest of its input values, when priosync first saw those values, and the last
input change the tracker's history gave, cached with that digest (history is read again only
once the input values changed) and the item's ``updated`` time at that read. It lives in the audit log's store,
in the ``input_sightings`` table (``sync.audit.MIGRATIONS``, ``sync.postgres.MIGRATIONS``),
behind the narrow ``InputState`` interface.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from priosync.errors import ConfigError
from sync.audit import UPSERT_SIGHTINGS, AuditLog, sightings_queries

__all__ = [
    "AuditInputState",
    "InputState",
    "Sighting",
    "SqliteInputState",
    "open_input_state",
]


@dataclass(frozen=True, slots=True)
class Sighting:
    """One item's remembered inputs."""

    item: str
    #: A digest of the input values as read (``sync.freshness.inputs_digest``).
    digest: str
    #: When priosync first saw inputs with this digest.
    first_seen: datetime
    #: The item's ``updated`` time when the row was last written (kept to explain a cached
    #: date; the cache key is ``digest``, and an ``updated`` alone does not rewrite the row).
    updated_at: datetime | None = None
    #: The last input change by the tracker's record; None when it gave none.
    changed_at: datetime | None = None


class InputState(Protocol):
    """Where sightings are kept: read a source's, record new ones."""

    def sightings(self, source: str, items: Sequence[str] | None = None) -> dict[str, Sighting]:
        """Every remembered item of ``source`` (or of ``items`` only), by key."""
        ...

    def record(self, source: str, sightings: Sequence[Sighting]) -> None:
        """Remember these (replacing what was kept for the same items)."""
        ...

    def close(self) -> None: ...


class SqliteInputState:
    """``InputState`` in the audit log's SQLite file; ``readonly`` for plan and rank."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.readonly = readonly
        try:
            if readonly:
                self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            else:
                self._db = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open the state file: {exc}",
                key="state",
                expected="a readable audit log (--state or PRIOSYNC_STATE)",
                found=str(path),
            ) from None

    def sightings(self, source: str, items: Sequence[str] | None = None) -> dict[str, Sighting]:
        try:
            rows = [
                row
                for sql, args in sightings_queries(source, items)
                for row in self._db.execute(sql, args).fetchall()
            ]
        except sqlite3.OperationalError:
            return {}  # a read-only view of a file an older priosync wrote: nothing kept yet
        return {row[0]: _sighting(row) for row in rows}

    def record(self, source: str, sightings: Sequence[Sighting]) -> None:
        if self.readonly or not sightings:
            return
        with self._db:
            self._db.executemany(UPSERT_SIGHTINGS, [(source, *_row(s)) for s in sightings])

    def close(self) -> None:
        self._db.close()


class AuditInputState:
    """``InputState`` kept in an open audit log's own store (SQLite or PostgreSQL), through
    its connection: what ``sync`` and the service use (``plan`` and ``rank`` read a SQLite
    file read-only with ``SqliteInputState``)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def sightings(self, source: str, items: Sequence[str] | None = None) -> dict[str, Sighting]:
        return {row[0]: _sighting(row) for row in self.audit.input_sightings(source, items)}

    def record(self, source: str, sightings: Sequence[Sighting]) -> None:
        self.audit.record_input_sightings(source, [_row(s) for s in sightings])

    def close(self) -> None:
        """The audit log is its owner's to close."""


def open_input_state(path: Path, *, readonly: bool) -> InputState | None:
    """The state kept at ``path``; read-only and absent file: None (nothing remembered)."""
    if readonly and not path.is_file():
        return None
    return SqliteInputState(path, readonly=readonly)


Row = tuple[str, str, str, str | None, str | None]


def _sighting(row: Sequence[Any]) -> Sighting:
    """A stored ``(item, digest, first_seen, updated_at, changed_at)`` row."""
    item, digest, first, updated, changed = row
    return Sighting(item, digest, _time(first) or datetime.min, _time(updated), _time(changed))


def _row(s: Sighting) -> Row:
    return (s.item, s.digest, s.first_seen.isoformat(), _iso(s.updated_at), _iso(s.changed_at))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
