"""Benchmark: webhook → write latency of `priosync serve` for 1, 10 and 100 concurrent edits.

Starts a sandbox Jira Cloud on loopback in this process (``--latency-ms`` per request) and
one ``priosync serve`` process (the real command, SQLite state, default pacing unless
``--writes-per-second``), waits for its start-up sync, then for each batch size makes that
many edits to distinct open issues at once (a person changing Reach), posts the signed
``jira:issue_updated`` delivery of each concurrently, and measures for each delivery the
time from its POST to priosync's first write to that issue (as the sandbox recorded it).
Prints p50 / p95 / max per batch against the target: p95 ≤ the debounce (the service's
quiet window, 1 s) + 1 s. Not part of the test suite; run with::

    PYTHONPATH=. .venv/bin/python bench/webhook_latency.py [--batches 1 10 100]
        [--issues 2000] [--latency-ms 20] [--writes-per-second 25]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import markdown_table
from sandbox.jira import Faults, JiraSandbox, catalog, create_jira_app
from sandbox.jira.webhooks import signed_edit
from sandbox.loopback import serve_in_thread
from tests.replicas.cluster import SECRET, Replica, free_port, wait_ready

#: The service's quiet window before a rescore (``service.queue``, ``quiet_s``).
DEBOUNCE_S = 1.0

CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
priority_field = "priority"
label_prefix = "roadmap:"
priority = [{{ name = "Highest", top = 5 }}, {{ name = "High", min_score = 100 }}, {{ name = "Low" }}]
roadmap = [{{ name = "now", capacity = 12 }}, {{ name = "later" }}]

[[sources]]
name = "web"
kind = "jira"
deployment = "cloud"
url = "{site}"
jql = "project = WEB AND statusCategory != Done"
{pacing}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Site:
    def __init__(self, sandbox: JiraSandbox) -> None:
        self.sandbox = sandbox
        self.events = 0

    def edit(self, key: str, reach: int) -> tuple[bytes, dict[str, str]]:
        """A person changes an issue's reach; the signed webhook Jira would send for it."""
        self.events += 1
        return signed_edit(
            self.sandbox,
            key,
            {catalog.REACH: reach},
            secret=SECRET,
            changelog_id=str(70000 + self.events),
        )

    def first_write_after(self, key: str, at: datetime) -> datetime | None:
        bot = self.sandbox.account.account_id
        times = [
            e.at
            for e in self.sandbox.edit_log
            if e.key == key and e.actor_account_id == bot and e.changes and e.at >= at
        ]
        return min(times) if times else None


async def batch(site: Site, replica: Replica, keys: list[str], rng: random.Random) -> list[float]:
    """Edit ``keys`` at once, post their deliveries concurrently; seconds to each write."""
    posted: dict[str, datetime] = {}
    edits = [(key, *site.edit(key, rng.randrange(1, 5_000_000))) for key in keys]

    async with httpx.AsyncClient(timeout=30) as client:

        async def post(key: str, body: bytes, headers: dict[str, str]) -> None:
            posted[key] = datetime.now(UTC)
            response = await client.post(
                f"{replica.base}/webhooks/jira", content=body, headers=headers
            )
            assert response.status_code == 202, response.text

        await asyncio.gather(*(post(k, b, h) for k, b, h in edits))
    # An edit whose item scores the same after it (an input still missing, say) is written
    # nothing: wait until no new write came for 10 s, then count what was written.
    latencies: dict[str, float] = {}
    last_new = time.monotonic()
    while len(latencies) < len(keys) and time.monotonic() - last_new < 10:
        for key in keys:
            if key not in latencies:
                written = site.first_write_after(key, posted[key])
                if written is not None:
                    latencies[key] = (written - posted[key]).total_seconds()
                    last_new = time.monotonic()
        await asyncio.sleep(0.05)
    assert latencies, "no delivery led to a write"
    return list(latencies.values())


def settle(sandbox: JiraSandbox, quiet_s: float = 3.0) -> None:
    """Wait until priosync has written nothing for ``quiet_s`` (the start-up sync is over)."""
    seen, since = len(sandbox.edit_log), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.2)
        if len(sandbox.edit_log) != seen:
            seen, since = len(sandbox.edit_log), time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--writes-per-second", type=float, default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sandbox = JiraSandbox.seeded(
        issues=args.issues, seed=args.seed, faults=Faults(latency_ms=args.latency_ms)
    )
    site = Site(sandbox)
    pacing = (
        f"pacing = {{ writes_per_second = {args.writes_per_second} }}"
        if args.writes_per_second
        else ""
    )
    rows = []
    with serve_in_thread(create_jira_app(sandbox)) as url, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "priosync.toml"
        config.write_text(CONFIG.format(site=url, pacing=pacing), encoding="utf-8")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRIOSYNC_", "JIRA_"))}
        env.update(
            JIRA_EMAIL=sandbox.email,
            JIRA_API_TOKEN=sandbox.token,
            PRIOSYNC_JIRA_WEBHOOK_SECRET=SECRET,
        )
        log = Path(tmp) / "serve.log"
        argv = [sys.executable, "-m", "priosync", "serve", "--config", str(config)]
        argv += ["--state", str(Path(tmp) / "state.sqlite3"), "--port", str(port)]
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - our own command line
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
            )
        replica = Replica(port, process, log)
        try:
            started = time.monotonic()
            wait_ready(replica, timeout_s=600)
            settle(sandbox)
            print(f"serve ready, start-up sync written, in {time.monotonic() - started:.1f} s")
            # open issues with every input set, so a new reach always moves the score
            inputs = ("Reach", "Impact", "Confidence", "Effort")
            open_keys = [
                i.key
                for i in sandbox.issues()
                if i.status_category != "Done"
                and all(i.fields_by_name.get(name) is not None for name in inputs)
            ]
            for size in args.batches:
                time.sleep(2 * DEBOUNCE_S)  # the previous batch's job is over
                found = asyncio.run(batch(site, replica, rng.sample(open_keys, size), rng))
                p95 = percentile(found, 0.95)
                rows.append(
                    [
                        str(size),
                        str(len(found)),
                        f"{percentile(found, 0.5):.2f} s",
                        f"{p95:.2f} s",
                        f"{max(found):.2f} s",
                        "yes" if p95 <= DEBOUNCE_S + 1 else "no",
                    ]
                )
        finally:
            process.terminate()
            process.wait(60)
    writes = args.writes_per_second or 25.0
    print(
        f"\n{args.issues:,} issues, {args.latency_ms:g} ms latency, {writes:g} writes/s, "
        f"debounce {DEBOUNCE_S:g} s"
    )
    print(
        markdown_table(
            [
                "concurrent edits",
                "edits written",
                "p50",
                "p95",
                "max",
                f"p95 ≤ {DEBOUNCE_S + 1:g} s",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
