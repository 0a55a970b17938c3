"""Benchmark: webhook → write latency of `priosync serve` for 1, 10 and 100 concurrent edits.

Starts a sandbox Jira Cloud on loopback in this process (``--latency-ms`` per request) and
one ``priosync serve`` process (the real command, SQLite state, default pacing unless
``--writes-per-second``), waits for its start-up sync, then for each batch size makes that
many edits to distinct open issues at once (a person changing Reach), posts the signed
``jira:issue_updated`` delivery of each concurrently, and measures for each delivery the
time from its POST to priosync's first write to that issue (as the sandbox recorded it).

Prints two tables. The first: p50 / p95 / max per batch, the writes the batch caused (bot
writes in the sandbox's edit log after its first POST: to the edited issues, and ripple
writes to neighbours pushed across a tier or bucket boundary), their *paced floor* — how
long the write pacing alone needs for that many writes, ``max(0, writes - burst) / rate``
with Jira's burst of ``concurrency`` (8) — and p95 minus that floor, and minus the floor of
the edited items' writes alone (they are written before the ripple, so that is what is paced
ahead of them; the stricter of the two). One PUT per issue is the only way to give each
issue its own values (docs/tracker-apis.md §1.6), so the target is p95 ≤ debounce (the
service's quiet window, 1 s) + 1 s + the paced floor, judged on the stricter. The second:
where the time went, from the service's ``rescored …`` log lines: how long the deliveries
took to post, how long the batch waited in the queue, the re-read, the plan and the
writes of each rescore the batch became. ``--writes-per-second 1000`` lifts the pacing
(the sandbox allows it), so what is left is ours. Not part of the test suite; run with::

    PYTHONPATH=. .venv/bin/python bench/webhook_latency.py [--batches 1 10 100]
        [--issues 2000] [--latency-ms 20] [--writes-per-second 25] [--spread-s 0]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import child_env, markdown_table, percentile
from connectors.jira.connector import PACING
from sandbox.jira import EditRecord, Faults, JiraSandbox, catalog, create_jira_app
from sandbox.jira.webhooks import signed_edit
from sandbox.loopback import free_port, serve_in_thread
from tests.replicas.cluster import SECRET, Replica, service_config, wait_ready

#: The service's quiet window before a rescore (``service.queue``, ``quiet_s``).
DEBOUNCE_S = 1.0
#: Jira's default pacing: 25 writes/s after a burst of one per connection (8).
DEFAULT_WRITES_PER_S = PACING.writes_per_s
BURST = PACING.concurrency

#: The service's log line at the end of each rescore (``service.rescore``).
RESCORED = re.compile(
    r"rescored (?P<items>\d+) items: (?P<written>\d+) written, (?P<failed>\d+) failed; "
    r"waited (?P<waited>[\d.]+) s in the queue, re-read (?P<reread>[\d.]+) s, "
    r"plan (?P<plan>[\d.]+) s, writes (?P<writes>[\d.]+) s"
)


def paced_floor_s(writes: int, rate_per_s: float, burst: int = BURST) -> float:
    """How long the pacer alone needs to start ``writes`` writes from a full bucket."""
    return max(0, writes - burst) / rate_per_s


@dataclass(frozen=True, slots=True)
class Rescore:
    """One ``rescored …`` line of the service's log."""

    items: int
    written: int
    waited_s: float
    reread_s: float
    plan_s: float
    writes_s: float


@dataclass(frozen=True, slots=True)
class Measured:
    """What one batch of concurrent edits came to."""

    size: int
    latencies: list[float]
    #: From the first POST sent to the last delivery answered.
    posted_over_s: float
    #: Bot writes after the first POST: to the edited issues, and to others (ripple).
    edited_writes: int
    ripple_writes: int
    rescores: list[Rescore]

    @property
    def writes(self) -> int:
        return self.edited_writes + self.ripple_writes


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

    def bot_writes_from(self, start: int) -> tuple[list[EditRecord], int]:
        """priosync's writes in the edit log from index ``start`` on, and the next index.

        Only new entries are looked at: the sandbox answers priosync's writes in this
        process, so a poll that rescans the whole log for every key slows the very writes
        it waits for."""
        bot = self.sandbox.account.account_id
        log = self.sandbox.edit_log
        end = len(log)
        return [e for e in log[start:end] if e.actor_account_id == bot and e.changes], end


def rescores_logged(log: Path, offset: int) -> list[Rescore]:
    text = log.read_text(encoding="utf-8", errors="replace")[offset:]
    return [
        Rescore(
            items=int(m["items"]),
            written=int(m["written"]),
            waited_s=float(m["waited"]),
            reread_s=float(m["reread"]),
            plan_s=float(m["plan"]),
            writes_s=float(m["writes"]),
        )
        for m in RESCORED.finditer(text)
    ]


async def batch(
    site: Site, replica: Replica, keys: list[str], rng: random.Random, spread_s: float, seen: int
) -> tuple[dict[str, float], float]:
    """Edit ``keys`` at once, post their deliveries concurrently (evenly over ``spread_s``);
    seconds to each write (priosync's writes from edit log entry ``seen`` on), and how long
    the posting took."""
    posted: dict[str, datetime] = {}
    edits = [(key, *site.edit(key, rng.randrange(1, 5_000_000))) for key in keys]
    step_s = spread_s / max(1, len(keys) - 1)

    async with httpx.AsyncClient(timeout=30) as client:

        async def post(n: int, key: str, body: bytes, headers: dict[str, str]) -> None:
            await asyncio.sleep(n * step_s)
            posted[key] = datetime.now(UTC)
            response = await client.post(
                f"{replica.base}/webhooks/jira", content=body, headers=headers
            )
            assert response.status_code == 202, response.text

        began = time.monotonic()
        await asyncio.gather(*(post(n, k, b, h) for n, (k, b, h) in enumerate(edits)))
        posted_over = time.monotonic() - began
    # An edit whose item scores the same after it (an input still missing, say) is written
    # nothing: wait until no new write came for 10 s, then count what was written.
    latencies: dict[str, float] = {}
    last_new = time.monotonic()
    while len(latencies) < len(keys) and time.monotonic() - last_new < 10:
        new, seen = site.bot_writes_from(seen)
        for e in new:
            if e.key in posted and e.key not in latencies and e.at >= posted[e.key]:
                latencies[e.key] = (e.at - posted[e.key]).total_seconds()
                last_new = time.monotonic()
        await asyncio.sleep(0.05)
    assert latencies, "no delivery led to a write"
    return latencies, posted_over


def measure(
    site: Site, replica: Replica, keys: list[str], rng: random.Random, spread_s: float
) -> Measured:
    offset = len(replica.log.read_text(encoding="utf-8", errors="replace"))
    seen = len(site.sandbox.edit_log)
    latencies, posted_over = asyncio.run(batch(site, replica, keys, rng, spread_s, seen))
    settle(site.sandbox, quiet_s=2.0)  # the ripple writes after the edited ones, too
    written = [e.key for e in site.bot_writes_from(seen)[0]]
    edited = set(keys)
    return Measured(
        size=len(keys),
        latencies=list(latencies.values()),
        posted_over_s=posted_over,
        edited_writes=sum(1 for k in written if k in edited),
        ripple_writes=sum(1 for k in written if k not in edited),
        rescores=rescores_logged(replica.log, offset),
    )


def settle(sandbox: JiraSandbox, quiet_s: float = 3.0) -> None:
    """Wait until priosync has written nothing for ``quiet_s`` (the start-up sync is over)."""
    seen, since = len(sandbox.edit_log), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.2)
        if len(sandbox.edit_log) != seen:
            seen, since = len(sandbox.edit_log), time.monotonic()


def latency_row(m: Measured, rate: float) -> list[str]:
    p95 = percentile(m.latencies, 0.95)
    floor = paced_floor_s(m.writes, rate)
    # The edited items are written before the ripple, so only their own writes are paced
    # ahead of them: the stricter floor, and the one the target is judged on.
    edited_floor = paced_floor_s(m.edited_writes, rate)
    return [
        str(m.size),
        str(len(m.latencies)),
        f"{percentile(m.latencies, 0.5):.2f} s",
        f"{p95:.2f} s",
        f"{max(m.latencies):.2f} s",
        f"{m.writes} ({m.edited_writes} + {m.ripple_writes})",
        f"{floor:.2f} s",
        f"{p95 - floor:.2f} s",
        f"{p95 - edited_floor:.2f} s",
        "yes" if p95 - edited_floor <= DEBOUNCE_S + 1 else "no",
    ]


def phases_row(m: Measured) -> list[str]:
    def each(values: list[float]) -> str:
        return " + ".join(f"{v:.2f}" for v in values) + " s" if values else "—"

    r = m.rescores
    return [
        str(m.size),
        f"{m.posted_over_s:.2f} s",
        str(len(r)),
        " + ".join(str(x.items) for x in r) or "—",
        each([x.waited_s for x in r]),
        each([x.reread_s for x in r]),
        each([x.plan_s for x in r]),
        each([x.writes_s for x in r]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--writes-per-second", type=float, default=None)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--spread-s",
        type=float,
        default=0.0,
        help="post each batch's deliveries evenly over this many seconds (default: at once)",
    )
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
    rate = args.writes_per_second or DEFAULT_WRITES_PER_S
    measured: list[Measured] = []
    with serve_in_thread(create_jira_app(sandbox)) as url, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "priosync.toml"
        state = Path(tmp) / "state.sqlite3"
        config.write_text(service_config(site=url, state=str(state), pacing=pacing), "utf-8")
        port = free_port()
        env = child_env(
            JIRA_EMAIL=sandbox.email,
            JIRA_API_TOKEN=sandbox.token,
            PRIOSYNC_JIRA_WEBHOOK_SECRET=SECRET,
        )
        log = Path(tmp) / "serve.log"
        argv = [sys.executable, "-m", "priosync", "serve", "--config", str(config)]
        argv += ["--port", str(port)]
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
                keys = rng.sample(open_keys, size)
                measured.append(measure(site, replica, keys, rng, args.spread_s))
        finally:
            process.terminate()
            process.wait(60)
    print(
        f"\n{args.issues:,} issues, {args.latency_ms:g} ms latency, {rate:g} writes/s "
        f"(burst {BURST}), debounce {DEBOUNCE_S:g} s, deliveries posted "
        + (f"over {args.spread_s:g} s" if args.spread_s else "at once")
        + f"; target p95 ≤ {DEBOUNCE_S + 1:g} s + paced floor"
    )
    print(
        markdown_table(
            [
                "concurrent edits",
                "edits written",
                "p50",
                "p95",
                "max",
                "writes (edited + ripple)",
                "paced floor",
                "p95 − floor",
                "p95 − floor of the edited writes",
                f"that ≤ {DEBOUNCE_S + 1:g} s",
            ],
            [latency_row(m, rate) for m in measured],
        )
    )
    print("\nwhere the time went (one value per rescore the batch became)")
    print(
        markdown_table(
            [
                "concurrent edits",
                "deliveries posted in",
                "rescores",
                "items",
                "waited in the queue",
                "re-read",
                "plan",
                "writes",
            ],
            [phases_row(m) for m in measured],
        )
    )


if __name__ == "__main__":
    main()
