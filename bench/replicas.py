"""Benchmark: `priosync serve` as 1 and 3 replicas on one PostgreSQL, on loopback.

Starts a throwaway PostgreSQL (``tests/postgres.py``: Debian's server binaries) and a
sandbox Jira in this process, then for each replica count starts that many ``serve``
processes (``tests/replicas/cluster.py``, as the acceptance test does) and posts signed
``jira:issue_updated`` deliveries of real edits, round robin, ``--concurrency`` at a time.
Measures:

- **webhook answer**: p50 / p95 of the POST round trip (verify, de-duplicate and queue in
  the store, 202);
- **deliveries/s handled**: deliveries ÷ (first post → the store's queue empty and no
  rescore job left);
- **webhook → write**: for each delivery, from its POST to the first write priosync made to
  that item after it (p50 / p95), as the sandbox recorded it;
- **takeover**: with 3 replicas, one is SIGKILLed while it runs a job; the time until
  another replica starts the job again (its run marks the dead one ``crashed``), for
  ``--takeover-s``.

Not part of the test suite. Run::

    PYTHONPATH=. .venv/bin/python bench/replicas.py [--deliveries 1000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import markdown_table, percentile
from tests.postgres import PostgresServer, start_server
from tests.replicas.cluster import Cluster, cluster


async def send(
    c: Cluster, deliveries: int, concurrency: int, rng: random.Random
) -> tuple[list[float], list[tuple[str, datetime]]]:
    """Post the deliveries; each answer's latency, and (item, when posted) of each."""
    keys = sorted(i.key for i in c.sandbox.issues() if i.status_category != "Done")
    answers: list[float] = []
    posted: list[tuple[str, datetime]] = []
    gate = asyncio.Semaphore(concurrency)
    spread = itertools.cycle(c.alive())

    async def one(client: httpx.AsyncClient, key: str) -> None:
        async with gate:
            body, headers = c.edit(key, rng.randrange(1, 5_000_000))
            replica = next(spread)
            posted.append((key, datetime.now(UTC)))
            began = time.perf_counter()
            response = await client.post(
                f"{replica.base}/webhooks/jira", content=body, headers=headers
            )
            answers.append(time.perf_counter() - began)
            assert response.status_code == 202, response.text

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(one(client, rng.choice(keys)) for _ in range(deliveries)))
    return answers, posted


def write_latencies(c: Cluster, posted: list[tuple[str, datetime]]) -> list[float]:
    """For each delivery, seconds until priosync's first write to its item after it."""
    bot = c.sandbox.account.account_id
    writes: dict[str, list[datetime]] = {}
    for edit in c.sandbox.edit_log:
        if edit.actor_account_id == bot and edit.changes:
            writes.setdefault(edit.key, []).append(edit.at)
    found = []
    for key, at in posted:
        after = [w for w in writes.get(key, []) if w >= at]
        if after:
            found.append((min(after) - at).total_seconds())
    return found


def measure(
    server: PostgresServer, replicas: int, args: argparse.Namespace, takeover: bool
) -> list[str]:
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        cluster(
            server,
            Path(tmp),
            issues=args.issues,
            seed=args.seed,
            every_s=30,  # a full sync each 30 s, as a busy deployment might have
            takeover_after_s=args.takeover_s,
        ) as c,
    ):
        c.start(replicas)
        c.wait_idle(60)
        began = time.perf_counter()
        answers, posted = asyncio.run(send(c, args.deliveries, args.concurrency, rng))
        c.wait_idle(300)
        handled_s = time.perf_counter() - began
        latencies = write_latencies(c, posted)
        taken = "—"
        if takeover:
            taken = f"{kill_and_time(c, rng):.1f} s"
        return [
            str(replicas),
            str(args.deliveries),
            f"{1000 * percentile(answers, 0.5):.1f} / {1000 * percentile(answers, 0.95):.1f} ms",
            f"{args.deliveries / handled_s:.0f}",
            f"{percentile(latencies, 0.5):.2f} / {percentile(latencies, 0.95):.2f} s",
            f"{len(latencies)}",
            taken,
        ]


def kill_and_time(c: Cluster, rng: random.Random) -> float:
    """SIGKILL the replica running a job; seconds until another one runs it again."""
    keys = sorted(i.key for i in c.sandbox.issues())

    async def keep_busy(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                alive = c.alive()
                body, headers = c.edit(rng.choice(keys), rng.randrange(1, 5_000_000))
                await client.post(f"{alive[0].base}/webhooks/jira", content=body, headers=headers)
                await asyncio.sleep(0.01)

    async def strike() -> float:
        stop = asyncio.Event()
        busy = asyncio.create_task(keep_busy(stop))
        try:
            pids = {r.process.pid: r for r in c.alive()}
            while True:
                rows = c.query(
                    "SELECT pid FROM runs WHERE finished_at IS NULL AND command = 'serve webhook'"
                )
                victims = [pids[p] for (p,) in rows if p in pids and pids[p] is not c.alive()[0]]
                if victims:
                    break
                await asyncio.sleep(0.002)
            c.kill(victims[0])
            killed = time.perf_counter()
            while not c.query("SELECT id FROM runs WHERE outcome = 'crashed'"):
                await asyncio.sleep(0.02)
            return time.perf_counter() - killed
        finally:
            stop.set()
            await busy

    return asyncio.run(strike())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--takeover-s", type=float, default=5.0)
    args = parser.parse_args()
    server = start_server()
    try:
        rows = [measure(server, n, args, takeover=n > 1) for n in (1, 3)]
    finally:
        server.stop()
    print(
        markdown_table(
            [
                "replicas",
                "deliveries",
                "webhook answer p50 / p95",
                "deliveries/s handled",
                "webhook → write p50 / p95",
                "deliveries with a write",
                f"takeover (takeover_after_s {args.takeover_s:g})",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
