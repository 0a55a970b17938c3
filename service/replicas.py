"""`priosync serve` as one of several replicas on a PostgreSQL state store (Procrastinate).

Every replica answers webhooks and runs a Procrastinate worker in its event loop; the work
itself is queued in PostgreSQL and each job runs once, on one replica:

- **A delivery** is verified, de-duplicated in the store (``shared_state.deliveries``), its
  items put in ``targets`` and a ``rescore`` job deferred ``quiet_s`` ahead with a
  *queueing lock*: while one job waits, later deliveries only add targets to what it will
  take, so a burst becomes one job. Its time is set by the first delivery and later ones
  do not move it: the fixed window of ``service.queue``, plus up to ``poll_s`` until a
  worker polls for it.
- **Every job holds one lock**, ``priosync``: rescores and full syncs run one at a time
  across all replicas, as they do in one process (each replans the whole ranking, and a
  neighbour pushed over a tier boundary must be planned from the latest state). A job loads
  the snapshot the previous job left in the store (only the rows that changed since this
  replica last loaded it), and stores what it changed.
- **The scheduled full sync** is deferred by every replica at each tick of the same
  ``CronTrigger`` (time zone included) through Procrastinate's ``defer_periodic_job``, whose
  unique (task, periodic id, timestamp) row lets exactly one job per period into the queue.
  Procrastinate's own ``@periodic`` would read the cron in UTC.
- **A replica that dies** stops its worker's heartbeat. Every replica sweeps for jobs of
  workers silent for ``takeover_after_s`` and puts them back in the queue, where another
  replica takes them with the targets they had taken. The new run first re-reads every item
  that the dead run's write-ahead intents name, and settles them from what the tracker now
  holds: a write that landed is not sent again.

https://procrastinate.readthedocs.io/ (locks, queueing locks, cron, retry stalled jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, ProcrastinateException
from procrastinate.jobs import Status

from config.loading import LoadedConfig
from connectors.webhooks import Target
from service.metrics import Metrics
from service.queue import QueueStats
from service.rescore import Rescorer
from service.shared_state import SharedState, Snapshot
from sync.postgres import CONNECT_KWARGS, MIGRATIONS
from sync.state import StateLocation

log = logging.getLogger("priosync.server")

#: The one lock every job holds: syncs and rescores never overlap, across replicas.
LOCK = "priosync"
RESCORE_TASK = "priosync.rescore"
SYNC_TASK = "priosync.full_sync"
PERIODIC_ID = "full-sync"


class ReplicaIntake:
    """Where the webhook endpoints put deliveries when the state is in PostgreSQL."""

    def __init__(self, service: ReplicaService) -> None:
        self.service = service

    async def remember(self, delivery: str) -> bool:
        return await self.service.shared.remember(delivery)

    async def put(self, targets: Iterable[Target], *, delivery: str | None) -> bool:
        if not await self.service.shared.put(targets, delivery=delivery):
            return False
        # Deferred after the targets are committed; if this replica dies in between, the
        # sweep of another defers a job for targets that no job will take.
        await self.service.defer_rescore()
        return True


class ReplicaService:
    """One replica's background work: the worker, the schedule's defers, the takeover sweep."""

    def __init__(
        self,
        *,
        loaded: LoadedConfig,
        location: StateLocation,
        rescorer: Rescorer,
        metrics: Metrics,
        schedule_trigger: Any = None,
        quiet_s: float = 1.0,
        drain_timeout_s: float = 60.0,
        takeover_after_s: float = 30.0,
        poll_s: float = 0.5,
    ) -> None:
        assert location.url is not None
        self.loaded = loaded
        self.location = location
        self.rescorer = rescorer
        self.metrics = metrics
        self.schedule_trigger = schedule_trigger
        self.quiet_s = quiet_s
        self.drain_timeout_s = drain_timeout_s
        self.takeover_after_s = takeover_after_s
        self.poll_s = poll_s
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self.next_sync_at: datetime | None = None
        self.intake = ReplicaIntake(self)
        self.connector = PsycopgConnector(
            conninfo=location.url, kwargs=dict(CONNECT_KWARGS), min_size=1, max_size=6
        )
        self.app = App(connector=self.connector)
        self.app.task(name=RESCORE_TASK, pass_context=True, lock=LOCK)(self._rescore_job)
        self.app.task(name=SYNC_TASK, lock=LOCK)(self._sync_job)
        self._shared: SharedState | None = None
        self._cached: Snapshot | None = None
        self._worker: asyncio.Task[None] | None = None
        self._side: list[asyncio.Task[None]] = []
        #: Jobs running in this replica (at most one; the refresh waits for none).
        self._jobs = 0

    @property
    def shared(self) -> SharedState:
        if self._shared is None:
            raise RuntimeError("the replica is not started")
        return self._shared

    # ── life ─────────────────────────────────────────────────────────────────────────

    async def open(self) -> None:
        """Connect, start the worker and the side loops; queue a first sync if none exists."""
        await self.app.open_async()
        self._shared = SharedState(self.connector.pool)
        beat = max(self.takeover_after_s / 3, 0.2)
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                name=self.name,
                concurrency=1,
                install_signal_handlers=False,
                update_heartbeat_interval=beat,
                stalled_worker_timeout=self.takeover_after_s,
                fetch_job_polling_interval=self.poll_s,
                abort_job_polling_interval=max(self.poll_s, 1.0),
                shutdown_graceful_timeout=self.drain_timeout_s,
                delete_jobs="successful",
            ),
            name="priosync-replica-worker",
        )
        self._side.append(asyncio.create_task(self._sweep(beat), name="priosync-takeover"))
        if self.schedule_trigger is not None:
            self._side.append(asyncio.create_task(self._schedule(), name="priosync-schedule"))
        snapshot = await self.shared.load(None)
        if self._usable(snapshot):
            assert snapshot is not None
            self._cached = snapshot
            self.rescorer.adopt(snapshot.reads(), snapshot.pending)
        else:
            await self._defer_sync("start", 0)
        log.info("replica %s started on %s", self.name, self.location.display)

    async def stop(self) -> None:
        """Stop deferring, let the job in flight finish (bounded), leave the rest queued."""
        for task in self._side:
            task.cancel()
        await asyncio.gather(*self._side, return_exceptions=True)
        self.next_sync_at = None
        if self._worker is not None:
            self._worker.cancel()  # the worker stops fetching and waits for its job
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.rescorer.aclose()
        await self.app.close_async()
        log.info("stopped")

    def alive(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def ready(self) -> tuple[bool, str]:
        """The store answers and its schema is the one this version needs."""
        try:
            async with asyncio.timeout(3):
                version = await self.shared.schema_version()
        except (TimeoutError, OSError, RuntimeError, ProcrastinateException) as exc:
            return False, f"state store unreachable: {type(exc).__name__}"
        except Exception as exc:  # psycopg's errors: a store that does not answer
            return False, f"state store unreachable: {type(exc).__name__}"
        if version < len(MIGRATIONS):
            return False, f"state store at migration {version} of {len(MIGRATIONS)}"
        return True, "ok"

    async def queue_stats(self) -> QueueStats:
        return await self.shared.stats()

    # ── deferring ────────────────────────────────────────────────────────────────────

    async def defer_rescore(self) -> None:
        # A job already waiting takes these targets too.
        with contextlib.suppress(AlreadyEnqueued):
            await self.app.configure_task(
                RESCORE_TASK, queueing_lock="rescore", schedule_in={"seconds": self.quiet_s}
            ).defer_async()

    async def _defer_sync(self, trigger: str, timestamp: int) -> int | None:
        deferrer = self.app.configure_task(
            SYNC_TASK,
            queueing_lock="full-sync",
            task_kwargs={"trigger": trigger, "timestamp": timestamp},
        )
        try:
            if timestamp:
                return await self.app.job_manager.defer_periodic_job(
                    deferrer.job, periodic_id=PERIODIC_ID, defer_timestamp=timestamp
                )
            return await deferrer.defer_async()
        except AlreadyEnqueued:
            if trigger == "schedule":
                log.warning("scheduled sync skipped: the previous one is still waiting")
                self.metrics.inc("priosync_syncs_skipped_total")
            return None

    async def _schedule(self) -> None:
        """Defer the full sync at each tick; the store keeps one job per tick for all replicas."""
        after = datetime.now(UTC)
        while True:
            fire: datetime | None = self.schedule_trigger.get_next_fire_time(None, after)
            self._set_next(fire)
            if fire is None:
                return
            await asyncio.sleep(max((fire - datetime.now(UTC)).total_seconds(), 0) + 0.01)
            try:
                await self._defer_sync("schedule", int(fire.timestamp()))
            except Exception:
                # The store went away for a moment: this tick is another replica's, or lost.
                self.metrics.inc("priosync_errors_total", stage="schedule")
                log.exception("could not defer the scheduled sync")
            after = max(datetime.now(UTC), fire + timedelta(microseconds=1))

    def _set_next(self, when: datetime | None) -> None:
        self.next_sync_at = when
        self.metrics.set("priosync_next_sync_timestamp_seconds", when.timestamp() if when else 0)
        if when is not None:
            log.info("next full sync at %s", when.isoformat())

    async def _sweep(self, every_s: float) -> None:
        """Put back the jobs of replicas that went silent; queue targets no job will take."""
        rounds = 0
        while True:
            await asyncio.sleep(every_s)
            try:
                await self._take_over()
                await self._refresh()
                if await self.shared.orphaned(RESCORE_TASK):
                    await self.defer_rescore()
                rounds += 1
                if rounds % 1000 == 1:
                    await self.shared.prune_deliveries()
            except Exception:
                self.metrics.inc("priosync_errors_total", stage="sweep")
                log.exception("takeover sweep failed")

    async def _refresh(self) -> None:
        """Between jobs, keep this replica's view (status page, /report) at the store's."""
        if self._jobs:
            return
        snapshot = await self.shared.load(self._cached)
        if snapshot is not None and snapshot is not self._cached and not self._jobs:
            self._cached = snapshot
            self.rescorer.adopt(snapshot.reads(), snapshot.pending)

    async def _take_over(self) -> None:
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.takeover_after_s)
        for job in stalled:
            try:
                await manager.retry_job(job)
                how = "put it back in the queue"
            except ProcrastinateException:
                # A newer job of its kind waits (its queueing lock) and will take its targets:
                # end this one. Or another replica was first, and this fails too.
                try:
                    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                except ProcrastinateException:
                    continue
                how = "left its targets to the job waiting"
            self.metrics.inc("priosync_jobs_taken_over_total")
            log.warning(
                "took over job %s (%s) from a replica that stopped answering: %s",
                job.id,
                job.task_name,
                how,
            )

    # ── the jobs ─────────────────────────────────────────────────────────────────────

    async def _rescore_job(self, context: JobContext) -> None:
        self._jobs += 1
        try:
            await self._rescore(context)
        finally:
            self._jobs -= 1

    async def _rescore(self, context: JobContext) -> None:
        job_id = context.job.id
        assert job_id is not None
        batch = await self.shared.claim(job_id)
        if batch is None:
            return  # an earlier job took these targets
        snapshot = await self.shared.load(self._cached)
        if snapshot is None or snapshot.config_sha256 != self.loaded.sha256:
            # No snapshot to replan from (or one planned with another config): read it all.
            await self._full_sync("webhook")
        else:
            self.rescorer.adopt(snapshot.reads(), snapshot.pending)
            try:
                await self.rescorer.rescore(batch)
            except Exception:
                # A bug must not stop the queue: log, count, drop the batch as one process does.
                self.metrics.inc("priosync_errors_total", stage="rescore")
                log.exception("rescore crashed")
            if self.rescorer.snapshot is not None:
                self._cached = await self.shared.save(
                    snapshot,
                    self.rescorer.snapshot,
                    self.rescorer.pending_changes,
                    config_sha256=self.loaded.sha256,
                    whole=False,
                )
        await self.shared.release(job_id)

    async def _sync_job(self, trigger: str, timestamp: int) -> None:
        self._jobs += 1
        try:
            await self._sync(trigger, timestamp)
        finally:
            self._jobs -= 1

    async def _sync(self, trigger: str, timestamp: int) -> None:
        if trigger == "start":
            snapshot = await self.shared.load(self._cached)
            if self._usable(snapshot):
                return  # replicas that started together: another one's first sync is done
        await self._full_sync(trigger, timestamp)

    def _usable(self, snapshot: Snapshot | None) -> bool:
        """A snapshot this replica can replan from: same config, every source read."""
        return (
            snapshot is not None
            and snapshot.config_sha256 == self.loaded.sha256
            and not snapshot.failures
        )

    async def _full_sync(self, trigger: str, timestamp: int = 0) -> None:
        # The audit log names the period, so each period's one sync can be told.
        command = f"serve sync {trigger}"
        if timestamp:
            command += " " + datetime.fromtimestamp(timestamp, UTC).isoformat()
        summary = await self.rescorer.full_sync(trigger, command=command)
        if summary.outcome == "error" or self.rescorer.snapshot is None:
            return  # nothing new to keep; the next sync tries again
        self._cached = await self.shared.save(
            None,
            self.rescorer.snapshot,
            self.rescorer.pending_changes,
            config_sha256=self.loaded.sha256,
            whole=True,
        )
