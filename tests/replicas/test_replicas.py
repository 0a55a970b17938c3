"""Three `priosync serve` replicas on one PostgreSQL: 1,000 signed deliveries spread across
them, one replica SIGKILLed in the middle of a job. Every edited item ends rescored, no write
lands twice, each schedule period has exactly one full sync, and the audit log holds every
write the sandbox saw."""

from __future__ import annotations

import asyncio
import itertools
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from config import load_config
from sync.pipeline import run_sync
from tests.postgres import PostgresServer

from .cluster import Cluster, Replica, cluster

DELIVERIES = 1000
#: Within the bound the issue sets (the test takes about 40 s on the 2-core CI machine).
TIMEOUT_S = 150


def replica_in_a_job(c: Cluster, timeout_s: float = 15.0) -> Replica:
    """The replica whose process is running a webhook rescore right now."""
    deadline = time.monotonic() + timeout_s
    pids = {r.process.pid: r for r in c.alive()}
    while time.monotonic() < deadline:
        rows = c.query(
            "SELECT pid FROM runs WHERE finished_at IS NULL AND command = 'serve webhook' "
            "AND counts IS NULL"
        )
        for (pid,) in rows:
            if pid in pids:
                return pids[pid]
        time.sleep(0.005)
    raise AssertionError("no replica was in a job to kill")


async def post(
    client: httpx.AsyncClient, c: Cluster, replica: Replica, body: bytes, headers: dict[str, str]
) -> int:
    """POST a delivery; when the replica is gone, to another one, as a load balancer (and
    Jira's retries) would. A delivery the dead replica had queued is then a duplicate."""
    try:
        response = await client.post(f"{replica.base}/webhooks/jira", content=body, headers=headers)
    except httpx.TransportError:
        others = [r for r in c.alive() if r is not replica]
        return -await post(client, c, others[0], body, headers)
    return response.status_code


def metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


class TestReplicas:
    def test_three_replicas_share_the_work_and_survive_a_kill(
        self, postgres: PostgresServer, tmp_path: Path
    ) -> None:
        """The issue's acceptance test, bounded in time."""
        began = time.monotonic()
        rng = random.Random(19)
        with cluster(postgres, tmp_path, latency_ms=3.0) as c:
            c.start(3)
            c.wait_idle(30)
            keys = sorted(i.key for i in c.sandbox.issues() if i.status_category != "Done")
            edited: set[str] = set()
            killed: list[Replica] = []
            statuses: Counter[int] = Counter()

            async def send_all() -> None:
                async with httpx.AsyncClient(timeout=30) as client:
                    spread = itertools.cycle(range(3))
                    pending: list[asyncio.Task[int]] = []
                    strike: asyncio.Task[None] | None = None
                    for n in range(DELIVERIES):
                        if n == DELIVERIES // 2:
                            strike = asyncio.create_task(asyncio.to_thread(kill_one))
                        key = rng.choice(keys)
                        edited.add(key)
                        body, headers = c.edit(key, rng.randrange(1, 5_000_000))
                        alive = [r for r in c.alive() if r not in killed]
                        target = alive[next(spread) % len(alive)]
                        pending.append(asyncio.create_task(post(client, c, target, body, headers)))
                        if n % 10 == 0:  # the same delivery again, to another replica
                            other = alive[(alive.index(target) + 1) % len(alive)]
                            pending.append(
                                asyncio.create_task(post(client, c, other, body, headers))
                            )
                        if len(pending) >= 16:
                            statuses.update(await asyncio.gather(*pending))
                            pending = []
                        await asyncio.sleep(0.002)
                    statuses.update(await asyncio.gather(*pending))
                    assert strike is not None
                    await strike

            def kill_one() -> None:
                victim = replica_in_a_job(c)
                c.kill(victim)
                killed.append(victim)

            asyncio.run(send_all())
            # The killed replica's job waits out the takeover timeout, then runs elsewhere.
            c.wait_idle(60)
            time.sleep(c.every_s + 1)  # one more schedule period, with two replicas
            c.wait_idle(30)
            history = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "priosync",
                    "history",
                    "--config",
                    str(tmp_path / "priosync.toml"),
                ],
                env=c.env(),
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert history.returncode == 0, history.stderr

            # Deliveries: each accepted once, each repeat a duplicate. One sent again because
            # its replica died (negative) is a duplicate when that replica had queued it.
            assert set(statuses) <= {200, 202, -200, -202}, (statuses, c.logs())
            assert sum(statuses.values()) == DELIVERIES + DELIVERIES // 10
            assert statuses[202] + statuses[-202] + statuses[-200] >= DELIVERIES
            assert statuses[200] <= DELIVERIES // 10

            # Every edited item is rescored: a plan from what the tracker holds changes nothing.
            loaded = load_config(tmp_path / "priosync.toml", environ=c.env())
            plan = asyncio.run(run_sync(loaded, environ=c.env())).plan
            assert plan.changes == (), [c.key for c in plan.changes][:10]
            assert edited

            # No write applied twice: every write priosync sent changed what the item held.
            bot = c.sandbox.account.account_id
            writes = [e for e in c.sandbox.edit_log if e.actor_account_id == bot]
            assert writes
            assert [e.key for e in writes if not e.changes] == []

            # The audit is complete: each item's writes in the sandbox are its ok writes in
            # the log, none is left pending, and the killed replica's run is crashed.
            rows = c.query("SELECT run_id, item, status FROM writes")
            assert [r for r in rows if r[2] == "pending"] == []
            logged = Counter(item for _, item, _ in {(r, i, s) for r, i, s in rows if s == "ok"})
            landed = Counter(e.key for e in writes)
            assert logged == landed
            (killed_replica,) = killed
            crashed = c.query("SELECT pid, command FROM runs WHERE outcome = 'crashed'")
            assert (killed_replica.process.pid, "serve webhook") in crashed
            taken = c.query("SELECT count(*) FROM runs WHERE finished_at IS NULL")
            assert taken == [(0,)]

            # Exactly one scheduled sync per period. A tick while the previous period's sync
            # still waits (behind the killed replica's job, until it is taken over) is
            # skipped, as one process skips a tick while its sync runs: every replica
            # counts that skip.
            syncs = c.query(
                "SELECT command FROM runs WHERE command LIKE 'serve sync schedule %%' "
                "AND outcome <> 'crashed'"
            )
            per_period = Counter(cmd.rsplit(" ", 1)[1] for (cmd,) in syncs)
            assert per_period
            assert set(per_period.values()) == {1}, per_period
            times = sorted(datetime.fromisoformat(p) for p in per_period)
            gaps = [int((b - a).total_seconds()) for a, b in itertools.pairwise(times)]
            assert all(g % c.every_s == 0 for g in gaps), times
            missing = sum(g // c.every_s - 1 for g in gaps)

            # Each surviving replica reports the store's queue, per replica; one took over.
            taken_over = 0.0
            skipped: list[float] = []
            for replica in c.alive():
                metrics = httpx.get(f"{replica.base}/metrics", timeout=5).text
                assert "priosync_queue_depth 0" in metrics
                assert "priosync_store_up 1" in metrics
                assert httpx.get(f"{replica.base}/healthz/live", timeout=5).status_code == 200
                taken_over += metric(metrics, "priosync_jobs_taken_over_total")
                skipped.append(metric(metrics, "priosync_syncs_skipped_total"))
            assert taken_over >= 1
            assert missing <= min(skipped), (times, skipped)
            runs = len(c.query("SELECT id FROM runs"))
            print(  # the figures, for -s runs
                f"deliveries {DELIVERIES}, items edited {len(edited)}, writes {len(writes)}, "
                f"runs {runs}, periods {len(per_period)}, skipped {missing}, crashed {crashed}"
            )
        assert time.monotonic() - began < TIMEOUT_S
