"""Fixtures for the sandbox Jira tests: a small seeded site and a client bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.jira import JiraSandbox
from sandbox.jira.testing import asgi_client


@pytest.fixture
def sandbox() -> JiraSandbox:
    return JiraSandbox.seeded(issues=40, seed=7)


@pytest.fixture
async def client(sandbox: JiraSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(sandbox) as c:
        yield c
