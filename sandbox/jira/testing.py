"""Helpers for tests that talk to a sandbox Jira in-process."""

from __future__ import annotations

import httpx

from .app import create_jira_app
from .state import JiraSandbox

TEST_BASE_URL = "http://jira.test"


def asgi_client(
    sandbox: JiraSandbox,
    *,
    base_url: str = TEST_BASE_URL,
    signed_in: bool = True,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.AsyncClient:
    """Return an httpx client bound to ``sandbox`` through ``httpx.ASGITransport``.

    Signed in with the sandbox's own credentials (basic email + token in Cloud mode, bearer
    PAT in DC mode) unless ``signed_in`` is False or ``auth``/``headers`` say otherwise.
    """
    all_headers = dict(headers or {})
    basic: tuple[str, str] | None = auth
    if signed_in and auth is None and "Authorization" not in all_headers:
        if sandbox.dc:
            all_headers["Authorization"] = f"Bearer {sandbox.pat}"
        else:
            basic = (sandbox.email, sandbox.token)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_jira_app(sandbox)),
        base_url=base_url,
        auth=basic,
        headers=all_headers,
    )
