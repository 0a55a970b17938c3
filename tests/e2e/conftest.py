"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.jira_site import Site, serve_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from serve_site(tmp_path)
