"""Benchmark: a re-sync of a large Jira backlog with a few issues edited, incremental vs full.

Starts the sandbox Jira Cloud on loopback (50 ms injected latency by default), brings it to
the synced state (read once, planned, the plan applied to the sandbox directly, and a first
sync with a state store to take the snapshot), moves the clocks an hour on, edits ``--edits`` random issues as a person
would, then plans the re-sync twice from the same state: incremental (``[sync] incremental``,
the default) and full (``sync --full``), each with priosync's default pacing, in this process.
Prints requests by endpoint, wall time (and how much of it ranking and planning take, timed
again on the same reads) and whether both plans are identical. Not part of the
test suite; run with::

    .venv/bin/python bench/incremental.py [--issues 50000] [--edits 20] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import markdown_table
from cli.demo import DEMO_CONFIG
from config import validate_config
from config.loading import LoadedConfig
from connectors.jira import JiraConnector
from connectors.jira.mapping import edit_payload
from sandbox.jira import Faults, JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.loopback import serve_in_thread
from sync.audit import SqliteAuditLog
from sync.pipeline import SyncOutcome, open_connector, plan_reads, read_all, run_sync


def bench_config(url: str) -> LoadedConfig:
    raw: dict[str, Any] = copy.deepcopy(DEMO_CONFIG)
    raw["sources"][0]["url"] = url
    raw["sources"][0]["deployment"] = "cloud"
    return validate_config(raw, file=Path("bench-incremental.toml"), environ={})


async def apply_directly(
    sandbox: JiraSandbox, loaded: LoadedConfig, environ: dict[str, str]
) -> int:
    """Read and plan once, then apply the plan to the sandbox in process (no HTTP): the
    synced state in seconds instead of minutes of PUTs."""
    config = loaded.config
    connector = open_connector(config.sources[0], config, environ=environ)
    assert isinstance(connector, JiraConnector)
    try:
        reads = await read_all([connector])
        site = await connector.discover()
    finally:
        await connector.aclose()
    plan = plan_reads(config, reads)
    for change in plan.changes:
        payload = edit_payload(change, fields=site.fields, deployment="cloud")
        handle = str(change.item.handle) if change.item else change.key
        sandbox.edit(handle, payload, api="3", notify=False)
    return len(plan.changes)


def counted(sandbox: JiraSandbox) -> Counter[str]:
    found = Counter(f"{e.method} {e.path}" for e in sandbox.request_log)
    sandbox.request_log.clear()
    return found


def endpoint(path: str) -> str:
    return path.replace("/rest/api/3", "").replace("/rest/api/2", "")


async def timed(run: Any) -> tuple[SyncOutcome, float]:
    started = time.perf_counter()
    outcome = await run
    return outcome, time.perf_counter() - started


async def bench(issues: int, edits: int, latency_ms: float) -> None:
    sandbox = JiraSandbox.seeded(issues=issues, seed=7, faults=Faults(latency_ms=0.0))
    # An hour passes between the synced state and the re-sync (as between hourly runs):
    # the sandbox's clock and priosync's move together, an hour ahead of the real one.
    ahead_s = 0.0
    sandbox.now = lambda: datetime.now(UTC) + timedelta(seconds=ahead_s)

    def clock() -> float:
        return time.time() + ahead_s

    environ = {"JIRA_EMAIL": sandbox.email, "JIRA_API_TOKEN": sandbox.token}
    with serve_in_thread(create_jira_app(sandbox)) as url, tempfile.TemporaryDirectory() as tmp:
        loaded = bench_config(url)
        started = time.perf_counter()
        written = await apply_directly(sandbox, loaded, environ)
        audit = SqliteAuditLog(Path(tmp) / "audit.sqlite3")
        first = await run_sync(loaded, write=True, audit=audit, environ=environ, clock=clock)
        assert not first.plan.changes, f"{len(first.plan.changes)} changes left after preparing"
        # The sync an hour later re-reads what was written just before the first one's read
        # (the overlap), as the sync after a first sync re-reads what that one wrote.
        ahead_s = 3600.0
        await run_sync(loaded, write=True, audit=audit, environ=environ, clock=clock)
        print(
            f"prepared {issues:,} issues ({written:,} edits applied in process, latency off) "
            f"and the snapshot in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        ahead_s = 7200.0
        rng = random.Random(18)
        for key in rng.sample([i.key for i in sandbox.stored_issues()], edits):
            sandbox.human_edit(key, fields={c.REACH: rng.choice([5, 70, 900, 20_000])})
        sandbox.faults.latency_ms = latency_ms
        sandbox.request_log.clear()
        rows = []
        plans = {}
        for label, full in (("incremental", False), ("full", True)):
            outcome, seconds = await timed(
                run_sync(loaded, audit=audit, environ=environ, full=full, clock=clock)
            )
            requests = counted(sandbox)
            plans[label] = outcome.plan
            # the share of the wall time that is ranking and planning (the same work again)
            ranked = time.perf_counter()
            plan_reads(loaded.config, outcome.reads)
            planning_s = time.perf_counter() - ranked
            mode = outcome.read_modes[0]
            detail = ", ".join(
                f"{n} {method} {endpoint(path)}"
                for (method, path), n in sorted(
                    ((tuple(k.split(" ", 1)), n) for k, n in requests.items()),
                    key=lambda kv: -kv[1],
                )
            )
            rows.append(
                [
                    f"{issues:,}",
                    label,
                    f"{mode.fetched:,}",
                    f"{sum(requests.values()):,}",
                    f"{seconds:.1f} s",
                    f"{planning_s:.1f} s",
                    f"{len(outcome.plan.changes)}",
                    detail,
                ]
            )
        audit.close()
    same = plans["incremental"] == plans["full"]
    print(
        markdown_table(
            [
                "issues",
                "read",
                "read in full",
                "requests",
                "wall time",
                "of it rank + plan",
                "changes planned",
                "requests by endpoint",
            ],
            rows,
        )
    )
    print(f"\nplans identical: {'yes' if same else 'NO'}; {edits} issues edited in between")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(bench(args.issues, args.edits, args.latency_ms))


if __name__ == "__main__":
    main()
