"""The audit log: every run and every write, with the value it replaced.

``revert`` reads it back to restore what a run replaced. Values are stored as JSON text so a
score (number), a priority (text) and a label change (add/remove) share one column shape.
Nothing secret is ever stored: changes carry item keys, field names and owned values only.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from priosync.domain import Change, Move, Outputs, Place
from priosync.errors import ConfigError
from sync.snapshot import SnapshotMeta

#: Versioned migrations, applied in order on open; ``PRAGMA user_version`` says how far a
#: file has come. A file written by an older priosync is upgraded in place.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        command TEXT NOT NULL,
        config_sha256 TEXT NOT NULL,
        sources TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        counts TEXT,
        outcome TEXT
    );
    CREATE TABLE IF NOT EXISTS writes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        source TEXT NOT NULL,
        item TEXT NOT NULL,
        url TEXT NOT NULL,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT,
        status TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS writes_item ON writes(item);
    CREATE INDEX IF NOT EXISTS writes_run ON writes(run_id);
    """,
    # Who runs a run, so a later run can tell one that died from one still going.
    """
    ALTER TABLE runs ADD COLUMN host TEXT;
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    CREATE INDEX IF NOT EXISTS writes_status ON writes(status);
    """,
    # [scoring.freshness]: what priosync saw of each item's inputs (sync.input_state).
    """
    CREATE TABLE IF NOT EXISTS input_sightings (
        source TEXT NOT NULL,
        item TEXT NOT NULL,
        digest TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        updated_at TEXT,
        changed_at TEXT,
        PRIMARY KEY (source, item)
    );
    """,
    # The read snapshot an incremental sync starts from (sync.snapshot).
    """
    CREATE TABLE IF NOT EXISTS read_snapshot_meta (
        source TEXT PRIMARY KEY,
        format INTEGER NOT NULL,
        signature TEXT NOT NULL,
        read_at DOUBLE PRECISION NOT NULL,
        full_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE IF NOT EXISTS read_snapshot_items (
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (source, id)
    );
    """,
)

#: A write's status. ``pending``: recorded before it was sent, outcome not yet known;
#: ``ok``: landed; ``failed``: the tracker refused it; ``not-sent``: never sent (interrupted)
#: or, found on a later read, not landed; ``unknown``: the tracker now holds neither the
#: old nor the new value, so whether it landed cannot be told (revert leaves it alone).
Status = Literal["pending", "ok", "failed", "not-sent", "unknown"]

#: The owned fields of ``Outputs``, in the order they are recorded.
FIELDS = ("score", "priority", "labels", "explanation", "rank")
#: The ``field`` of a move's row (``[outputs] reorder``): ``old`` is where the item was (its
#: neighbour then, ``{"after": key}`` or ``{"before": key}``), ``new`` where it was put.
POSITION = "position"

#: A source's input sightings, and one sighting kept (``sync.input_state``); the same
#: statements for SQLite and PostgreSQL, and for a read-only SQLite view.
SELECT_SIGHTINGS = (
    "SELECT item, digest, first_seen, updated_at, changed_at FROM input_sightings WHERE source = ?"
)
#: Items named in one ``IN (…)`` of ``sightings_queries``.
SIGHTINGS_PER_QUERY = 500


def sightings_queries(
    source: str, items: Sequence[str] | None
) -> list[tuple[str, tuple[str, ...]]]:
    """``SELECT_SIGHTINGS`` for the whole source, or narrowed to ``items`` a chunk at a time."""
    if items is None:
        return [(SELECT_SIGHTINGS, (source,))]
    chunks = [items[i : i + SIGHTINGS_PER_QUERY] for i in range(0, len(items), SIGHTINGS_PER_QUERY)]
    return [
        (f"{SELECT_SIGHTINGS} AND item IN ({', '.join('?' * len(c))})", (source, *c))
        for c in chunks
    ]


UPSERT_SIGHTINGS = (
    "INSERT INTO input_sightings (source, item, digest, first_seen, updated_at, changed_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, item) DO UPDATE SET "
    "digest = excluded.digest, first_seen = excluded.first_seen, "
    "updated_at = excluded.updated_at, changed_at = excluded.changed_at"
)


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    command: str
    config_sha256: str
    sources: tuple[str, ...]
    started_at: str
    finished_at: str | None
    counts: Mapping[str, int]
    outcome: str | None
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class WriteRecord:
    id: int
    run_id: int
    source: str
    item: str
    url: str
    field: str
    old: Any
    new: Any
    status: Status
    error: str | None
    at: str


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$PRIOSYNC_STATE``, else ``$XDG_STATE_HOME/priosync/audit.sqlite3`` (~/.local/state)."""
    env = os.environ if environ is None else environ
    if env.get("PRIOSYNC_STATE"):
        return Path(env["PRIOSYNC_STATE"])
    base = (
        Path(env["XDG_STATE_HOME"])
        if env.get("XDG_STATE_HOME")
        else Path.home() / ".local" / "state"
    )
    return base / "priosync" / "audit.sqlite3"


def field_changes(change: Change) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for each owned field the change alters; labels as their full owned sets.

    The old value is what the tracker held, exactly: the plan compares rounded scores, but
    revert must restore 12.34, not 12.3.
    """
    item = change.item
    out: list[tuple[str, Any, Any]] = []
    for name in FIELDS:
        old, new = getattr(change.before, name), getattr(change.after, name)
        if old != new:
            if name == "labels":
                old, new = sorted(old), sorted(new)
            elif item is not None and name in item.held:
                old = item.held[name]  # what the field held, though it was not a number
            elif item is not None and getattr(item.current, name) is not None:
                old = getattr(item.current, name)  # unrounded
            out.append((name, old, new))
    return out


def place_json(place: Place) -> dict[str, str | None]:
    """A ``Place`` as recorded: ``{"after": key}``, or ``{"before": key}`` at the top."""
    return {"after": place.after} if place.after is not None else {"before": place.before}


def place_from(value: Any) -> Place | None:
    """A recorded place back as a ``Place``; None for a value that is not one."""
    if not isinstance(value, dict):
        return None
    after, before = value.get("after"), value.get("before")
    if isinstance(after, str):
        return Place(after=after)
    return Place(before=before) if isinstance(before, str) else None


def outputs_with(base: Outputs, values: Mapping[str, Any]) -> Outputs:
    """``base`` with recorded field values applied (labels back to a frozenset)."""
    updates = {k: (frozenset(v) if k == "labels" else v) for k, v in values.items()}
    return Outputs(**{**{f: getattr(base, f) for f in FIELDS}, **updates})


class AuditLog(ABC):
    """The audit log: runs, and each write recorded before it is sent (write-ahead).

    One set of statements and semantics over two stores: ``SqliteAuditLog`` (a file, the
    default) and ``sync.postgres.PostgresAuditLog`` (shared by replicas). The statements are
    written with ``?`` placeholders; each store runs them its own way. What differs is how
    a store is opened and migrated, and how it tells a run whose process died
    (``mark_dead_runs``).
    """

    #: Where the log lives, fit to print: a path, or a URL without its password.
    location: str

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _tx(self) -> AbstractContextManager[None]:
        """One transaction: every statement inside commits together, or none does."""

    @abstractmethod
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; the rows it returns (none for most writes)."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per row; ``rows`` may be made as they are consumed."""

    def _iterate(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of one query as they are read (by default: all of them at once)."""
        return iter(self._execute(sql, args))

    @abstractmethod
    def _insert(self, sql: str, args: Sequence[Any]) -> int:
        """Run one INSERT; the id of the row it made."""

    @abstractmethod
    def _owner(self) -> Mapping[str, Any]:
        """The columns that say who runs a run, so a later run can tell it died."""

    @abstractmethod
    def mark_dead_runs(self) -> list[int]:
        """Runs left unfinished by a process that no longer exists: ``crashed``."""

    def start_run(self, *, command: str, config_sha256: str, sources: Sequence[str]) -> int:
        owner = self._owner()
        columns = ", ".join(("command", "config_sha256", "sources", "started_at", *owner))
        marks = ", ".join("?" * (4 + len(owner)))
        with self._tx():
            # columns are this class's constants and the store's own owner columns.
            return self._insert(
                f"INSERT INTO runs ({columns}) VALUES ({marks})",  # noqa: S608
                (command, config_sha256, json.dumps(list(sources)), _now(), *owner.values()),
            )

    def finish_run(self, run_id: int, *, counts: Mapping[str, int], outcome: str) -> None:
        with self._tx():
            self._execute(
                "UPDATE runs SET finished_at = ?, counts = ?, outcome = ? WHERE id = ?",
                (_now(), json.dumps(dict(counts)), outcome, run_id),
            )

    def record_intents(self, run_id: int, changes: Sequence[Change]) -> None:
        """Record each change's field writes as ``pending``, before any of them is sent.

        One transaction: once this returns, a crash at any later point leaves a row for
        every write that may have landed, with the exact value it replaced.
        """
        at = _now()
        rows = [
            (run_id, c.source, c.key, c.url, name, json.dumps(old), json.dumps(new), at)
            for c in changes
            for name, old, new in field_changes(c)
        ]
        if not rows:
            return
        with self._tx():
            self._executemany(
                "INSERT INTO writes (run_id, source, item, url, field, old, new, status, "
                "error, at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?)",
                rows,
            )

    def settle(self, run_id: int, change: Change, *, status: Status, error: str | None) -> None:
        """Set the outcome of a change whose intent was recorded (its pending rows)."""
        with self._tx():
            self._execute(
                "UPDATE writes SET status = ?, error = ?, at = ? "
                "WHERE run_id = ? AND source = ? AND item = ? AND status = 'pending' "
                "AND field != ?",
                (status, error, _now(), run_id, change.source, change.key, POSITION),
            )

    def record_move_intents(self, run_id: int, moves: Sequence[Move]) -> None:
        """Record each move as ``pending`` before it is sent, with the item's place before
        the move (its neighbour then), so ``revert`` can put it back."""
        at = _now()
        rows = [
            (
                run_id,
                m.source,
                m.key,
                m.url,
                POSITION,
                json.dumps(place_json(m.was)),
                json.dumps(place_json(m.to)),
                at,
            )
            for m in moves
        ]
        with self._tx():
            self._executemany(
                "INSERT INTO writes (run_id, source, item, url, field, old, new, status, "
                "error, at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?)",
                rows,
            )

    def settle_move(self, run_id: int, move: Move, *, status: Status, error: str | None) -> None:
        """Set the outcome of a move whose intent was recorded."""
        with self._tx():
            self._execute(
                "UPDATE writes SET status = ?, error = ?, at = ? WHERE run_id = ? AND source = ? "
                "AND item = ? AND status = 'pending' AND field = ?",
                (status, error, _now(), run_id, move.source, move.key, POSITION),
            )

    def record_write(self, run_id: int, change: Change, *, error: str | None) -> None:
        """Record a write and its outcome at once (for callers that have no intent phase)."""
        self.record_intents(run_id, [change])
        self.settle(run_id, change, status="ok" if error is None else "failed", error=error)

    def resolve(self, record: WriteRecord, status: Status) -> None:
        """Set the outcome of one pending write, found by reading the item afterwards."""
        with self._tx():
            self._execute(
                "UPDATE writes SET status = ? WHERE id = ? AND status = 'pending'",
                (status, record.id),
            )

    # ── what was seen of items' inputs ([scoring.freshness], sync.input_state) ───────

    def input_sightings(
        self, source: str, items: Sequence[str] | None = None
    ) -> list[tuple[str, str, str, str | None, str | None]]:
        """``(item, digest, first_seen, updated_at, changed_at)`` rows kept for ``source``
        (only those of ``items`` when given: a rescore dates a few)."""
        rows: list[tuple[Any, ...]] = []
        for sql, args in sightings_queries(source, items):
            rows += self._execute(sql, args)
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def record_input_sightings(
        self, source: str, rows: Sequence[tuple[str, str, str, str | None, str | None]]
    ) -> None:
        """Keep these rows for ``source``, replacing what was kept for the same items."""
        if not rows:
            return
        with self._tx():
            self._executemany(UPSERT_SIGHTINGS, [(source, *row) for row in rows])

    def pending(
        self, *, sources: Sequence[str] | None = None, run_id: int | None = None
    ) -> list[WriteRecord]:
        """Writes of finished runs whose outcome is not known (a crash, a drain that timed
        out). Writes of a run still going are its own business: their answers may be on the
        way."""
        where = (
            "status = 'pending' AND run_id IN (SELECT id FROM runs WHERE finished_at IS NOT NULL)"
        )
        args: list[int | str] = []
        if run_id is not None:
            where += " AND run_id = ?"
            args.append(run_id)
        found = self._select_writes(where, args)
        return [w for w in found if sources is None or w.source in sources]

    def _mark_crashed(self, run_ids: Sequence[int]) -> None:
        with self._tx():
            self._executemany(
                "UPDATE runs SET outcome = 'crashed', finished_at = ? "
                "WHERE id = ? AND finished_at IS NULL",
                [(_now(), run_id) for run_id in run_ids],
            )

    # ── the read snapshot (sync.snapshot) ───────────────────────────────────────────────

    def load_snapshot(self, source: str) -> tuple[SnapshotMeta, Iterator[str]] | None:
        """One source's snapshot: its meta and each item's JSON form, read as it is iterated
        (50,000 items' JSON is more than the items); None when there is none."""
        rows = self._execute(
            "SELECT format, signature, read_at, full_at FROM read_snapshot_meta WHERE source = ?",
            (source,),
        )
        if not rows:
            return None
        fmt, signature, read_at, full_at = rows[0]
        meta = SnapshotMeta(source, int(fmt), str(signature), float(read_at), float(full_at))
        items = self._iterate("SELECT item FROM read_snapshot_items WHERE source = ?", (source,))
        return meta, (str(r[0]) for r in items)

    def save_snapshot(
        self,
        meta: SnapshotMeta | None,
        source: str,
        *,
        items: Iterable[tuple[str, str]],
        gone: Sequence[str] = (),
        whole: bool = False,
    ) -> None:
        """Store items ((id, JSON form) pairs, made as they are stored) and drop ``gone``
        ids, in one transaction.

        ``whole`` replaces the source's every row first (after a full read); ``meta`` None
        keeps the meta as it is (priosync's own writes folded in after a run).
        """
        with self._tx():
            if whole:
                self._execute("DELETE FROM read_snapshot_items WHERE source = ?", (source,))
            elif gone:
                self._executemany(
                    "DELETE FROM read_snapshot_items WHERE source = ? AND id = ?",
                    [(source, i) for i in gone],
                )
            self._executemany(
                "INSERT INTO read_snapshot_items (source, id, item) VALUES (?, ?, ?) "
                "ON CONFLICT (source, id) DO UPDATE SET item = excluded.item",
                ((source, i, text) for i, text in items),
            )
            if meta is not None:
                self._execute(
                    "INSERT INTO read_snapshot_meta (source, format, signature, read_at, full_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
                    "format = excluded.format, signature = excluded.signature, "
                    "read_at = excluded.read_at, full_at = excluded.full_at",
                    (meta.source, meta.format, meta.signature, meta.read_at, meta.full_at),
                )

    def has_snapshot(self, source: str) -> bool:
        return bool(self._execute("SELECT 1 FROM read_snapshot_meta WHERE source = ?", (source,)))

    def drop_snapshot(self, source: str) -> None:
        """Forget a source's snapshot (its next sync reads it in full)."""
        with self._tx():
            self._execute("DELETE FROM read_snapshot_items WHERE source = ?", (source,))
            self._execute("DELETE FROM read_snapshot_meta WHERE source = ?", (source,))

    def reverts_of(self, run_id: int) -> list[RunRecord]:
        """Finished runs that reverted ``run_id``."""
        return [
            r
            for r in self._select_runs("WHERE command = ? ORDER BY id", (f"revert {run_id}",))
            if r.finished_at is not None
        ]

    def runs(self, *, limit: int = 20) -> list[RunRecord]:
        return self._select_runs("ORDER BY id DESC LIMIT ?", (limit,))

    def run(self, run_id: int) -> RunRecord | None:
        found = self._select_runs("WHERE id = ?", (run_id,))
        return found[0] if found else None

    def _select_runs(self, tail: str, args: tuple[int | str, ...]) -> list[RunRecord]:
        columns = (
            "id, command, config_sha256, sources, started_at, finished_at, counts, outcome, "
            "host, pid"
        )
        # tail is one of the constants in this class, never user input.
        rows = self._execute(f"SELECT {columns} FROM runs {tail}", args)  # noqa: S608
        return [
            RunRecord(
                id=r[0],
                command=r[1],
                config_sha256=r[2],
                sources=tuple(json.loads(r[3])),
                started_at=r[4],
                finished_at=r[5],
                counts=json.loads(r[6] or "{}"),
                outcome=r[7],
                host=r[8],
                pid=r[9],
            )
            for r in rows
        ]

    def writes(self, *, run_id: int | None = None, item: str | None = None) -> list[WriteRecord]:
        where: list[str] = []
        args: list[int | str] = []
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        if item is not None:
            where.append("item = ?")
            args.append(item)
        return self._select_writes(" AND ".join(where), args)

    def _select_writes(self, where: str, args: Sequence[int | str]) -> list[WriteRecord]:
        query = (
            "SELECT id, run_id, source, item, url, field, old, new, status, error, at FROM writes"
        )
        if where:
            query += " WHERE " + where  # built from constants above, never user input
        rows = self._execute(query + " ORDER BY id", list(args))
        return [
            WriteRecord(
                id=r[0],
                run_id=r[1],
                source=r[2],
                item=r[3],
                url=r[4],
                field=r[5],
                old=json.loads(r[6]),
                new=json.loads(r[7]),
                status=r[8],
                error=r[9],
                at=r[10],
            )
            for r in rows
        ]


class SqliteAuditLog(AuditLog):
    """The audit log in one SQLite file: the default, for one process at a time per host."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._depth = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level None: transactions are ours (``_tx``), not the module's guesses.
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the audit log: {exc}",
                key="state",
                expected="a writable file path (--state or PRIOSYNC_STATE)",
                found=str(path),
            ) from None

    def _migrate(self) -> None:
        # One writer migrates; others wait on the lock and then see the new version.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number:d}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self._depth += 1
        if self._depth == 1:
            self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._db.execute("COMMIT")

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, tuple(args)).fetchall()

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, (tuple(r) for r in rows))

    def _iterate(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(sql, tuple(args))
        while rows := cursor.fetchmany(500):
            yield from rows

    def _insert(self, sql: str, args: Sequence[Any]) -> int:
        row_id = self._db.execute(sql, tuple(args)).lastrowid
        assert row_id is not None
        return row_id

    def _owner(self) -> Mapping[str, Any]:
        return {"host": socket.gethostname(), "pid": os.getpid()}

    def mark_dead_runs(self) -> list[int]:
        """Runs left unfinished by a process on this host that no longer exists: ``crashed``."""
        here = socket.gethostname()
        rows = self._execute(
            "SELECT id, pid FROM runs WHERE finished_at IS NULL AND host = ?", (here,)
        )
        dead = [run_id for run_id, pid in rows if pid is not None and not _alive(pid)]
        if dead:
            self._mark_crashed(dead)
        return dead


def _alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
