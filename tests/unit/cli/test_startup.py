"""What a priosync process loads at start: nothing it never uses."""

from __future__ import annotations

import json
import subprocess
import sys

#: The modules a ``sync`` imports, in the order ``cli.main`` reaches them.
SYNC_PATH = (
    "cli.main",
    "sync.pipeline",
    "connectors.jira.connector",
    "connectors.github.project",
    "connectors.github.repository",
)


def loaded_after_importing(*modules: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {list(modules)!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def test_httpx_command_line_and_its_highlighter_are_not_loaded() -> None:
    loaded = loaded_after_importing(*SYNC_PATH)
    assert "httpx" in loaded
    # httpx's __init__ would import its CLI, and with it pygments and rich.syntax (cli/__init__)
    assert not {"pygments", "rich.syntax", "rich.progress"} & loaded


def test_httpx_still_works_without_its_command_line() -> None:
    code = (
        "import cli, httpx\n"
        "t = httpx.MockTransport(lambda r: httpx.Response(200, json={'ok': True}))\n"
        "print(httpx.Client(transport=t).get('http://x/').json()['ok'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "True"
