"""The audit log: every run and every write, with the value it replaced (SQLite).

``revert`` reads it back to restore what a run replaced. Values are stored as JSON text so a
score (number), a priority (text) and a label change (add/remove) share one column shape.
Nothing secret is ever stored: changes carry item keys, field names and owned values only.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from priosync.domain import Change, Outputs
from priosync.errors import ConfigError

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
)

#: A write's status. ``pending``: recorded before it was sent, outcome not yet known;
#: ``ok``: landed; ``failed``: the tracker refused it; ``not-sent``: never sent (interrupted)
#: or, found on a later read, not landed; ``unknown``: the tracker now holds neither the
#: old nor the new value, so whether it landed cannot be told (revert leaves it alone).
Status = Literal["pending", "ok", "failed", "not-sent", "unknown"]

#: The owned fields of ``Outputs``, in the order they are recorded.
FIELDS = ("score", "priority", "labels", "explanation", "rank")


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
    held = change.item.current if change.item is not None else change.before
    out: list[tuple[str, Any, Any]] = []
    for name in FIELDS:
        old, new = getattr(change.before, name), getattr(change.after, name)
        if old != new:
            if name == "labels":
                old, new = sorted(old), sorted(new)
            elif name != "priority" or change.item is not None:
                exact = getattr(held, name)
                old = exact if exact is not None else old
            out.append((name, old, new))
    return out


def outputs_with(base: Outputs, values: Mapping[str, Any]) -> Outputs:
    """``base`` with recorded field values applied (labels back to a frozenset)."""
    updates = {k: (frozenset(v) if k == "labels" else v) for k, v in values.items()}
    return Outputs(**{**{f: getattr(base, f) for f in FIELDS}, **updates})


class AuditLog:
    """The SQLite audit log: runs, and each write recorded before it is sent (write-ahead)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30)
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
        with self._db:
            # One writer migrates; others wait on the lock and then see the new version.
            self._db.execute("BEGIN IMMEDIATE")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number:d}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    def start_run(self, *, command: str, config_sha256: str, sources: Sequence[str]) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (command, config_sha256, sources, started_at, host, pid) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    command,
                    config_sha256,
                    json.dumps(list(sources)),
                    _now(),
                    socket.gethostname(),
                    os.getpid(),
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int, *, counts: Mapping[str, int], outcome: str) -> None:
        with self._tx() as db:
            db.execute(
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
        with self._tx() as db:
            db.executemany(
                "INSERT INTO writes (run_id, source, item, url, field, old, new, status, "
                "error, at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?)",
                rows,
            )

    def settle(self, run_id: int, change: Change, *, status: Status, error: str | None) -> None:
        """Set the outcome of a change whose intent was recorded (its pending rows)."""
        with self._tx() as db:
            db.execute(
                "UPDATE writes SET status = ?, error = ?, at = ? "
                "WHERE run_id = ? AND source = ? AND item = ? AND status = 'pending'",
                (status, error, _now(), run_id, change.source, change.key),
            )

    def record_write(self, run_id: int, change: Change, *, error: str | None) -> None:
        """Record a write and its outcome at once (for callers that have no intent phase)."""
        self.record_intents(run_id, [change])
        self.settle(run_id, change, status="ok" if error is None else "failed", error=error)

    def resolve(self, record: WriteRecord, status: Status) -> None:
        """Set the outcome of one pending write, found by reading the item afterwards."""
        with self._tx() as db:
            db.execute(
                "UPDATE writes SET status = ? WHERE id = ? AND status = 'pending'",
                (status, record.id),
            )

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

    def mark_dead_runs(self) -> list[int]:
        """Runs left unfinished by a process on this host that no longer exists: ``crashed``."""
        here = socket.gethostname()
        rows = self._db.execute(
            "SELECT id, pid FROM runs WHERE finished_at IS NULL AND host = ?", (here,)
        ).fetchall()
        dead = [run_id for run_id, pid in rows if pid is not None and not _alive(pid)]
        with self._tx() as db:
            db.executemany(
                "UPDATE runs SET outcome = 'crashed', finished_at = ? WHERE id = ?",
                [(_now(), run_id) for run_id in dead],
            )
        return dead

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
        rows = self._db.execute(f"SELECT {columns} FROM runs {tail}", args).fetchall()  # noqa: S608
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
        rows = self._db.execute(query + " ORDER BY id", list(args)).fetchall()
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
