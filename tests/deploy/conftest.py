"""Fixtures for the deployment tests: a realistic plan from the sandbox Jira, and Chromium."""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli.demo import DEMO_CONFIG
from config import validate_config
from priosync.domain import Plan, RawValue, WorkItem
from reports.overview import ReportSettings
from sandbox.jira import JiraSandbox, catalog, create_jira_app
from scoring import score_backlog
from sync.pipeline import run_sync
from sync.plan import PlanRules, plan_changes
from sync.standings import Standings, StandingsFile, standings_of

from .cdp import Page

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


@dataclass(frozen=True)
class Week:
    """A backlog a week after a full sync: some inputs edited, so items moved."""

    plan: Plan
    baseline: Standings
    settings: ReportSettings


async def week_after_sync(*, issues: int, seed: int, tmp: Path) -> Week:
    """Sync a seeded sandbox fully, edit the reach of one issue in seven, then plan."""
    sandbox = JiraSandbox.seeded(issues=issues, seed=seed)
    transports = {"web": httpx.ASGITransport(app=create_jira_app(sandbox))}
    loaded = validate_config(DEMO_CONFIG, file=Path("demo (built in)"), environ={})
    standings = StandingsFile(tmp / "audit.standings.json")
    await run_sync(
        loaded, environ=SANDBOX_ENV, transports=transports, write=True, standings=standings
    )
    for index, issue in enumerate(sandbox.stored_issues()[::7]):
        reach = issue.values.get(catalog.REACH)
        if isinstance(reach, int | float):
            issue.values[catalog.REACH] = float(reach) * (4 if index % 2 else 0.3)
    outcome = await run_sync(
        loaded, environ=SANDBOX_ENV, transports=transports, standings=standings
    )
    assert outcome.baseline is not None
    return Week(outcome.plan, outcome.baseline, ReportSettings.from_config(loaded.config))


@pytest.fixture(scope="session")
def week(tmp_path_factory: pytest.TempPathFactory) -> Week:
    """60 sandbox issues a week after their first sync."""
    tmp = tmp_path_factory.mktemp("week")
    return asyncio.run(week_after_sync(issues=60, seed=7, tmp=tmp))


def synthetic_week(issues: int, *, seed: int) -> Week:
    """A made-up backlog of ``issues`` items scored with the demo's RICE rules, and the
    standings of a week earlier (one input in seven different), built without a tracker:
    a sandbox sync of thousands of issues takes minutes, the report's scale does not need it."""
    loaded = validate_config(DEMO_CONFIG, file=Path("demo (built in)"), environ={})
    spec = loaded.config.scoring.to_model_spec()
    tiers = [c.to_cut() for c in loaded.config.outputs.priority]
    buckets = [c.to_cut() for c in loaded.config.outputs.roadmap]
    people = ("Ana Ruiz", "Ben Okafor", "Chen Wei", None)
    words = ("CSV import", "audit log", "dark mode", "SSO", "billing", "search", "exports")

    def backlog(edited: bool) -> list[WorkItem]:
        items = []
        for n in range(1, issues + 1):
            draw = random.Random(seed * 100_003 + n)
            reach = draw.choice((50, 100, 200, 500, 1000, 5000, 20000))
            if edited and n % 7 == 0:
                reach = reach * 4 if n % 2 else reach // 3
            inputs: dict[str, RawValue] = {
                "reach": reach,
                "impact": draw.choice(("Massive", "High", "Medium", "Low", "Minimal")),
                "confidence": draw.choice(("High", "Medium", "Low")),
                "effort": draw.choice((0.5, 1, 2, 3, 5, 8, 13)),
            }
            if n % 23 == 0:
                del inputs["reach"]
            items.append(
                WorkItem(
                    key=f"WEB-{n}",
                    title=f"{draw.choice(('Fix', 'Speed up', 'Add'))} {draw.choice(words)} {n}",
                    url=f"https://jira.example.com/browse/WEB-{n}",
                    source="web",
                    inputs=inputs,
                    assignee=draw.choice(people),
                )
            )
        return items

    before = score_backlog(backlog(edited=False), spec, tiers=tiers, buckets=buckets)
    now = score_backlog(backlog(edited=True), spec, tiers=tiers, buckets=buckets)
    rules = PlanRules.from_config(loaded.config.outputs, decimals=loaded.config.scoring.decimals)
    plan = plan_changes(now, rules)
    baseline = standings_of(before, at="2025-05-26T09:00:00+00:00", sources=["web"])
    return Week(plan, baseline, ReportSettings.from_config(loaded.config))


@pytest.fixture(scope="session")
def big_week() -> Week:
    """5,000 made-up items a week after a sync."""
    return synthetic_week(5_000, seed=11)


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

    def page(self) -> Page:
        """A page driven over the DevTools pipe (close it, or use it in a ``with``)."""
        self.opened += 1
        return Page(self.executable, self.workdir / f"profile-{self.opened}", CHROMIUM_FLAGS)

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
