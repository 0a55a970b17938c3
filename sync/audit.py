"""The audit log: every run and every write, with the value it replaced (SQLite).

``revert`` reads it back to restore what a run replaced. Values are stored as JSON text so a
score (number), a priority (text) and a label change (add/remove) share one column shape.
Nothing secret is ever stored: changes carry item keys, field names and owned values only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from priosync.domain import Change, Outputs
from priosync.errors import ConfigError

SCHEMA = """
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
"""

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


@dataclass(frozen=True, slots=True)
class WriteRecord:
    run_id: int
    source: str
    item: str
    url: str
    field: str
    old: Any
    new: Any
    status: str
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
    """(field, old, new) for each owned field the change alters; labels as their full owned sets."""
    out: list[tuple[str, Any, Any]] = []
    for name in FIELDS:
        old, new = getattr(change.before, name), getattr(change.after, name)
        if old != new:
            if name == "labels":
                old, new = sorted(old), sorted(new)
            out.append((name, old, new))
    return out


def outputs_with(base: Outputs, values: Mapping[str, Any]) -> Outputs:
    """``base`` with recorded field values applied (labels back to a frozenset)."""
    updates = {k: (frozenset(v) if k == "labels" else v) for k, v in values.items()}
    return Outputs(**{**{f: getattr(base, f) for f in FIELDS}, **updates})


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the audit log: {exc}",
                key="state",
                expected="a writable file path (--state or PRIOSYNC_STATE)",
                found=str(path),
            ) from None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    def start_run(self, *, command: str, config_sha256: str, sources: Sequence[str]) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (command, config_sha256, sources, started_at) VALUES (?, ?, ?, ?)",
                (command, config_sha256, json.dumps(list(sources)), _now()),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int, *, counts: Mapping[str, int], outcome: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, counts = ?, outcome = ? WHERE id = ?",
                (_now(), json.dumps(dict(counts)), outcome, run_id),
            )

    def record_write(self, run_id: int, change: Change, *, error: str | None) -> None:
        status = "ok" if error is None else "failed"
        at = _now()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO writes (run_id, source, item, url, field, old, new, status, error, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        change.source,
                        change.key,
                        change.url,
                        name,
                        json.dumps(old),
                        json.dumps(new),
                        status,
                        error,
                        at,
                    )
                    for name, old, new in field_changes(change)
                ],
            )

    def runs(self, *, limit: int = 20) -> list[RunRecord]:
        return self._select_runs("ORDER BY id DESC LIMIT ?", (limit,))

    def run(self, run_id: int) -> RunRecord | None:
        found = self._select_runs("WHERE id = ?", (run_id,))
        return found[0] if found else None

    def _select_runs(self, tail: str, args: tuple[int, ...]) -> list[RunRecord]:
        columns = "id, command, config_sha256, sources, started_at, finished_at, counts, outcome"
        # tail is one of two constants in this class, never user input.
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
            )
            for r in rows
        ]

    def writes(self, *, run_id: int | None = None, item: str | None = None) -> list[WriteRecord]:
        query = "SELECT run_id, source, item, url, field, old, new, status, error, at FROM writes"
        where: list[str] = []
        args: list[int | str] = []
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        if item is not None:
            where.append("item = ?")
            args.append(item)
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [
            WriteRecord(
                run_id=r[0],
                source=r[1],
                item=r[2],
                url=r[3],
                field=r[4],
                old=json.loads(r[5]),
                new=json.loads(r[6]),
                status=r[7],
                error=r[8],
                at=r[9],
            )
            for r in rows
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
