"""Both state stores for the audit tests: the same tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.audit import AuditLog
from sync.state import StateLocation, open_audit, parse_state
from tests.postgres import PostgresServer

OpenStore = Callable[[], AuditLog]


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> StateLocation:
    """A fresh, empty store of each kind: a file, or a new database on the test server."""
    if request.param == "sqlite":
        return parse_state(tmp_path / "audit.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return parse_state(server.url(server.database(), password=True))


@pytest.fixture
def open_store(location: StateLocation) -> Iterator[OpenStore]:
    """Opens the store (as a process would: each call is one more open log); closes them all."""
    opened: list[AuditLog] = []

    def open_one() -> AuditLog:
        audit = open_audit(location)
        opened.append(audit)
        return audit

    yield open_one
    for audit in opened:
        audit.close()
