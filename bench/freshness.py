"""Benchmark: what ``[scoring.freshness]`` costs a sync, in requests and time.

For each tracker (Jira Cloud, Jira Data Center, a GitHub Project) and size, two identical
sandbox sites are synced with the same config, once without and once with
``[scoring.freshness]``, through ``run_sync`` in this process (``httpx.ASGITransport``; no
injected latency, pacing lifted). Both run in this process, so the wall time of a sync is
split: **sandbox** is the time some request was inside the sandbox app (the union of their
intervals, mostly its JSON and GraphQL work), **priosync** is the rest. Each site goes through
a read-only plan and five syncs:

0. **plan, no state**: ``plan`` on a machine without the state file: nothing cached, history
   read for every issue, nothing written;
1. **first**: an empty state file, every issue written (history read for every issue);
2. **after first**: right after; the first sync's writes moved every issue's ``updated``
   time but no input, so the state's cached dates hold;
3. **1 % edited**: a person changed one input on 1 % of the issues (history read for those);
4. **after edit**: right after (sync 3 re-ranked and wrote other issues too);
5. **no-op**: nothing changed since the last sync.

GitHub Projects bring the dates in the pages priosync reads anyway, and writing a 10k
Project through the sandbox's secondary limits takes long, so the GitHub rows are reads only
(``plan``). Not part of the test suite; run with::

    .venv/bin/python bench/freshness.py [--sizes 1000 10000] [--trackers cloud dc github]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import count_requests, format_count, markdown_table
from starlette.types import ASGIApp, Receive, Scope, Send

from config import LoadedConfig, load_config
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from sync.audit import AuditLog
from sync.pipeline import run_sync

SCORING = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }
"""
FRESHNESS = """
[scoring.freshness]
review_after_days = 90
stale_label = "needs-review"
"""
OUTPUTS = """
[outputs]
score_field = "RICE score"
label_prefix = "roadmap:"
needs_input_label = "needs-scoring"
roadmap = [{ name = "now", top_percent = 10 }, { name = "next", top_percent = 30 }, { name = "later" }]
"""
FAST = "pacing = { concurrency = 16, reads_per_second = 5000, writes_per_second = 5000 }"
SOURCES = {
    "cloud": f'[[sources]]\nname = "web"\nkind = "jira"\nurl = "http://jira.test"\n'
    f'deployment = "cloud"\njql = "project = WEB"\n{FAST}\n',
    "dc": f'[[sources]]\nname = "web"\nkind = "jira"\nurl = "http://jira.test"\n'
    f'deployment = "dc"\njql = "project = WEB"\n{FAST}\n',
    "github": f'[[sources]]\nname = "web"\nkind = "github"\nproject = "acme/1"\n{FAST}\n',
}
ENV = {
    "JIRA_EMAIL": "demo@example.com",
    "JIRA_API_TOKEN": "sandbox-token",
    "JIRA_PAT": "sandbox-pat",
    "GITHUB_TOKEN": "sandbox-token",
}
PHASES = ("plan, no state", "first", "after first", "1 % edited", "after edit", "no-op")


@dataclass(frozen=True, slots=True)
class Measured:
    tracker: str
    size: int
    freshness: bool
    phase: str
    reads: int
    writes: int
    wall_s: float
    #: The part of ``wall_s`` some request spent inside the sandbox app.
    sandbox_s: float
    by_endpoint: str

    @property
    def own_s(self) -> float:
        return self.wall_s - self.sandbox_s


class Busy:
    """An ASGI wrapper timing the union of the intervals its requests are inside ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seconds = 0.0
        self._active = 0
        self._since = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._active == 0:
            self._since = time.perf_counter()
        self._active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._active -= 1
            if self._active == 0:
                self.seconds += time.perf_counter() - self._since


class Site:
    """One sandbox tracker of ``size`` issues, its transport, and a way to edit like a person."""

    def __init__(self, tracker: str, size: int) -> None:
        self.tracker = tracker
        self.rng = random.Random(11)
        if tracker == "github":
            self.github = GitHubSandbox.seeded(issues=size, seed=7)
            self.app = create_github_app(self.github)
        else:
            self.jira = JiraSandbox.seeded(issues=size, seed=7, dc=tracker == "dc")
            self.app = create_jira_app(self.jira)
        self.busy = Busy(self.app)
        self.transport = httpx.ASGITransport(app=self.busy)

    @property
    def log_size(self) -> int:
        return len(self.github.request_log if self.tracker == "github" else self.jira.request_log)

    def measured(
        self,
        since: int,
        *,
        size: int,
        freshness: bool,
        phase: str,
        wall: float,
        sandbox: float,
    ) -> Measured:
        """The requests logged since ``since``: reads, writes, and by endpoint."""
        if self.tracker != "github":
            counts = count_requests(self.jira.request_log[since:])
            reads, writes, described = counts.reads, counts.writes, counts.describe()
        else:
            entries = self.github.request_log[since:]
            writes = sum(1 for e in entries if e.kind == "rest-write" or e.mutations)
            reads = len(entries) - writes
            by_kind = Counter(
                f"{e.method} {e.path}" + (" (mutations)" if e.mutations else "") for e in entries
            )
            described = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
        return Measured(
            self.tracker, size, freshness, phase, reads, writes, wall, sandbox, described
        )

    def edit_one_percent(self) -> None:
        if self.tracker == "github":
            items = self.github.state.projects[1].items
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for item in self.rng.sample(items, max(1, len(items) // 100)):
                if item.kind != "DRAFT_ISSUE":
                    self.github.human_set_value(item.content_ref, "Reach", 4242.0, at=now)
            return
        issues = self.jira.stored_issues()
        for issue in self.rng.sample(issues, max(1, len(issues) // 100)):
            self.jira.human_edit(issue.key, fields={"customfield_10050": 4242})


def loaded(tracker: str, *, freshness: bool, workdir: Path) -> LoadedConfig:
    text = SCORING + (FRESHNESS if freshness else "") + OUTPUTS + SOURCES[tracker]
    path = workdir / f"{tracker}-{freshness}.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, environ=ENV)


async def measure(tracker: str, size: int, *, freshness: bool, workdir: Path) -> list[Measured]:
    site = Site(tracker, size)
    config = loaded(tracker, freshness=freshness, workdir=workdir)
    state = workdir / f"{tracker}-{size}-{freshness}.sqlite3"
    write = tracker != "github"
    rows = []
    for phase in PHASES:
        if phase == "1 % edited":
            site.edit_one_percent()
        before, busy = site.log_size, site.busy.seconds
        stateless = phase == "plan, no state"
        audit = None if stateless else AuditLog(state)
        started = time.perf_counter()
        outcome = await run_sync(
            config,
            write=write and not stateless,
            audit=audit,
            environ=ENV,
            transports={"web": site.transport},
        )
        wall = time.perf_counter() - started
        if audit is not None:
            audit.close()
        if outcome.reads.failures:
            raise SystemExit(f"{tracker} {size}: {outcome.reads.failures[0].error}")
        rows.append(
            site.measured(
                before,
                size=size,
                freshness=freshness,
                phase=phase,
                wall=wall,
                sandbox=site.busy.seconds - busy,
            )
        )
    return rows


def report(rows: Sequence[Measured]) -> str:
    plain = {(r.tracker, r.size, r.phase): r for r in rows if not r.freshness}
    table = []
    for r in rows:
        if not r.freshness:
            continue
        base = plain[(r.tracker, r.size, r.phase)]
        extra = r.reads - base.reads
        share = f"{extra / max(base.reads + base.writes, 1):+.1%}"
        table.append(
            [
                r.tracker,
                format_count(r.size),
                r.phase,
                f"{format_count(base.reads)} + {format_count(base.writes)} w",
                f"{format_count(r.reads)} + {format_count(r.writes)} w",
                f"{extra:+,} ({share})",
                f"{base.own_s:.1f} + {base.sandbox_s:.1f} s",
                f"{r.own_s:.1f} + {r.sandbox_s:.1f} s",
            ]
        )
    head = [
        "tracker",
        "issues",
        "sync",
        "plain: reads + writes",
        "freshness: reads + writes",
        "extra reads (of plain requests)",
        "plain time: priosync + sandbox",
        "freshness time: priosync + sandbox",
    ]
    endpoints = markdown_table(
        ["tracker", "issues", "sync", "freshness", "requests"],
        [
            [
                r.tracker,
                format_count(r.size),
                r.phase,
                "on" if r.freshness else "off",
                r.by_endpoint,
            ]
            for r in rows
        ],
    )
    return markdown_table(head, table) + "\n\nRequests by endpoint:\n\n" + endpoints


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--trackers", nargs="+", default=["cloud", "dc", "github"])
    args = parser.parse_args()
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory() as tmp:
        for tracker in args.trackers:
            for size in args.sizes:
                for freshness in (False, True):
                    rows += await measure(tracker, size, freshness=freshness, workdir=Path(tmp))
                print(f"{tracker} {size:,}: measured", file=sys.stderr, flush=True)
    print(report(rows))


if __name__ == "__main__":
    asyncio.run(main())
