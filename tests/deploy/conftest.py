"""Fixtures for the deployment tests: a realistic plan from the sandbox Jira, and Chromium."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from cli.demo import DEMO_CONFIG
from config import validate_config
from priosync.domain import Plan
from sandbox.jira import JiraSandbox, create_jira_app
from sync.pipeline import run_sync

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SANDBOX_ENV = {"JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "sandbox-token"}


async def plan_after_partial_sync(*, issues: int, seed: int, written: int) -> Plan:
    """Sync the top ``written`` changes of a seeded sandbox, then plan again.

    The result looks like a backlog on its second day: the top of the list is settled,
    the rest is highlighted as still to change, and a few items need input.
    """
    sandbox = JiraSandbox.seeded(issues=issues, seed=seed)
    transports = {"web": httpx.ASGITransport(app=create_jira_app(sandbox))}
    loaded = validate_config(DEMO_CONFIG, file=Path("demo (built in)"), environ={})
    await run_sync(
        loaded, environ=SANDBOX_ENV, transports=transports, write=True, max_writes=written
    )
    outcome = await run_sync(loaded, environ=SANDBOX_ENV, transports=transports)
    return outcome.plan


@pytest.fixture(scope="session")
def big_plan() -> Plan:
    """A plan over 3,000 sandbox issues, nothing written yet."""
    return asyncio.run(plan_after_partial_sync(issues=3_000, seed=11, written=0))


@pytest.fixture(scope="session")
def sandbox_plan() -> Plan:
    """A plan over 40 sandbox issues, the top 6 already written."""
    return asyncio.run(plan_after_partial_sync(issues=40, seed=7, written=6))


#: Headless, offline, no state shared between runs (a fresh profile is passed per call).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Console messages go to stderr as `INFO:CONSOLE:<line>] "<message>", source: …`.
    "--enable-logging=stderr",
    "--v=0",
)


class Browser:
    """Headless Chromium, one fresh profile per page."""

    def __init__(self, executable: Path, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self.opened = 0

    def open(self, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """Open ``page`` with ``extra`` flags (``--dump-dom``, ``--screenshot=…``)."""
        self.opened += 1
        profile = self.workdir / f"profile-{self.opened}"
        return subprocess.run(
            [
                str(self.executable),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                *extra,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    @staticmethod
    def console_messages(stderr: str) -> list[str]:
        """The page's console output (errors, uncaught exceptions) from Chromium's log."""
        return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    """Debian's Chromium, installed by scripts/ensure-chromium.sh when missing."""
    if not CHROMIUM.exists():
        # The test setup installs it; CI runs as root with Debian's registry reachable.
        subprocess.run([str(REPO / "scripts" / "ensure-chromium.sh")], check=True)
    assert shutil.which(str(CHROMIUM)), "scripts/ensure-chromium.sh did not install chromium"
    return Browser(CHROMIUM, tmp_path_factory.mktemp("chromium"))
