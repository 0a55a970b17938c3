"""`priosync sandbox jira|github` as a user runs them: serve, answer, stop on SIGTERM, save."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.loopback import free_port


def wait_until_up(
    url: str, *, auth: httpx.Auth | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, auth=auth, headers=headers, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("tracker", ["jira", "github"])
def test_serves_then_saves_state_on_sigterm(tracker: str, tmp_path: Path) -> None:
    """The sandbox answers with its default credentials and saves its state when stopped."""
    port = free_port()
    state = tmp_path / "sandbox.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "priosync",
            "sandbox",
            tracker,
            "--port",
            str(port),
            "--issues",
            "15",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        if tracker == "jira":
            response = wait_until_up(
                f"http://127.0.0.1:{port}/rest/api/3/myself",
                auth=httpx.BasicAuth("demo@example.com", "sandbox-token"),
            )
        else:
            response = wait_until_up(
                f"http://127.0.0.1:{port}/repos/acme/app/issues",
                headers={"Authorization": "Bearer sandbox-token"},
            )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out
    assert "sandbox-token" in out
    assert json.loads(state.read_text())
