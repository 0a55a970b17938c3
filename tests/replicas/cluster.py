"""Several `priosync serve` processes on one PostgreSQL store against a sandbox Jira.

The sandbox is served on loopback in this process (so a test sees every request and edit);
each replica is a real process (``run_service``, as ``priosync serve`` runs it) with the
store's URL in its config file and the password in ``PGPASSWORD``. Deliveries are real
``jira:issue_updated`` bodies of real edits, signed, posted to the replica a test picks.
The schedule ticks every few seconds (a ``CronTrigger`` on seconds) so periods are short.

Used by ``test_replicas.py`` and by ``bench/replicas.py``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from sandbox.jira import JiraSandbox, catalog, create_jira_app
from sandbox.jira.faults import Faults
from sandbox.jira.webhooks import signed_edit
from sandbox.loopback import free_port, serve_in_thread
from tests.child_env import child_env
from tests.postgres import PASSWORD, PostgresServer

SECRET = "replica-webhook-s3cret"

CONFIG = """
state = "{state}"

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

#: Replicas write unpaced: what is measured is the store and the lock, not the pacing.
UNPACED = "pacing = { reads_per_second = 1000, writes_per_second = 1000, concurrency = 8 }"


def service_config(*, site: str, state: str, pacing: str = UNPACED) -> str:
    """The service's config against the sandbox at ``site``: RICE, score, priority tiers and
    roadmap labels; ``state`` a PostgreSQL URL (replicas) or a SQLite path; ``pacing`` a
    source ``pacing = …`` line, or empty for the connector's defaults."""
    return CONFIG.format(site=site, state=state, pacing=pacing)


RUN = (
    "import sys; from pathlib import Path; "
    "from apscheduler.triggers.cron import CronTrigger; "
    "from config import load_config; from service import run_service; "
    "sys.exit(run_service(load_config(Path(sys.argv[1])), host='127.0.0.1', "
    "port=int(sys.argv[2]), accept_unsigned=False, state_path=None, echo=print, "
    "schedule_trigger=CronTrigger(second=sys.argv[3], timezone='UTC')))"
)


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[str]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """The sandbox, the store and the replicas of one test."""

    sandbox: JiraSandbox
    site: str
    server: PostgresServer
    database: str
    tmp: Path
    every_s: int
    takeover_after_s: float
    replicas: list[Replica] = field(default_factory=list)
    _events: int = 0

    @property
    def url(self) -> str:
        return self.server.url(self.database, password=True)

    def env(self) -> dict[str, str]:
        return child_env(
            JIRA_EMAIL=self.sandbox.email,
            JIRA_API_TOKEN=self.sandbox.token,
            PRIOSYNC_JIRA_WEBHOOK_SECRET=SECRET,
            PRIOSYNC_SERVER__TAKEOVER_AFTER_S=str(self.takeover_after_s),
            PGPASSWORD=PASSWORD,
        )

    def start(self, count: int) -> None:
        """Start ``count`` more replicas at once and wait until each is ready."""
        config = self.tmp / "priosync.toml"
        config.write_text(
            service_config(site=self.site, state=self.server.url(self.database)), encoding="utf-8"
        )
        started = []
        for _ in range(count):
            port = free_port()
            log = self.tmp / f"replica-{port}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-c", RUN, str(config), str(port), f"*/{self.every_s}"],
                    env=self.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            started.append(Replica(port, process, log))
        self.replicas.extend(started)
        for replica in started:
            wait_ready(replica)

    def kill(self, replica: Replica) -> None:
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait(10)

    def stop_all(self) -> None:
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            try:
                replica.process.wait(30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()

    def alive(self) -> list[Replica]:
        return [r for r in self.replicas if r.process.poll() is None]

    def edit(self, key: str, reach: int) -> tuple[bytes, dict[str, str]]:
        """A person changes an issue's reach; the signed webhook Jira would send for it."""
        self._events += 1
        return signed_edit(
            self.sandbox,
            key,
            {catalog.REACH: reach},
            secret=SECRET,
            changelog_id=str(90000 + self._events),
        )

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True, options="-c search_path=priosync") as c:
            return c.execute(sql.encode(), args or None).fetchall()

    def idle(self) -> bool:
        """Nothing waits and no rescore runs (scheduled syncs may come and go)."""
        ((targets, jobs),) = self.query(
            "SELECT (SELECT count(*) FROM targets), (SELECT count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'priosync.rescore' AND status IN ('todo', 'doing'))"
        )
        return int(targets) == 0 and int(jobs) == 0

    def wait_idle(self, timeout_s: float) -> float:
        began = time.monotonic()
        while not self.idle():
            if time.monotonic() - began > timeout_s:
                raise AssertionError(f"the replicas did not finish within {timeout_s} s")
            time.sleep(0.1)
        return time.monotonic() - began

    def logs(self) -> str:
        return "\n".join(f"--- {r.log.name}\n{r.log.read_text()[-4000:]}" for r in self.replicas)


def wait_ready(replica: Replica, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"replica exited: {replica.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{replica.base}/healthz/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"replica never became ready: {replica.log.read_text()[-3000:]}")


@contextmanager
def cluster(
    server: PostgresServer,
    tmp: Path,
    *,
    issues: int = 120,
    seed: int = 11,
    every_s: int = 5,
    takeover_after_s: float = 3.0,
    latency_ms: float = 0.0,
) -> Iterator[Cluster]:
    sandbox = JiraSandbox.seeded(
        issues=issues, seed=seed, faults=Faults(seed=seed, latency_ms=latency_ms)
    )
    with serve_in_thread(create_jira_app(sandbox)) as site:
        made = Cluster(sandbox, site, server, server.database(), tmp, every_s, takeover_after_s)
        try:
            yield made
        finally:
            made.stop_all()
