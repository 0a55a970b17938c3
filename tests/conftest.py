"""Suite-wide settings.

In CI (``CI`` set) hypothesis runs derandomized: the same examples every run, so a red CI
is never a dice roll, and no deadline, since the 2-core machine is shared by the whole
suite. Locally it explores new examples each run (and keeps failures in its database).

``postgres`` is a throwaway PostgreSQL server (``tests.postgres``) shared by the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import PostgresServer, start_server

settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL for the whole run, started on first use, stopped at the end."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
