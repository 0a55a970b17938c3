"""The service's life: the rescoring worker, the first full sync, the schedule, draining.

``start`` (from the app's lifespan) starts one worker that takes coalesced batches from the
queue, a full sync that builds the snapshot, and the schedule. ``stop`` stops the schedule,
lets the worker drain what is queued, and waits for the run in flight (a write is never cut
in half) — bounded by ``drain_timeout_s``, after which what is left is cancelled and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any

from service.metrics import Metrics
from service.queue import Batch, CoalescingQueue, QueueStats
from service.rescore import Rescorer
from service.schedule import Schedule

log = logging.getLogger("priosync.server")


class Service:
    """Owns the background tasks of one running app."""

    def __init__(
        self,
        *,
        rescorer: Rescorer,
        queue: CoalescingQueue,
        metrics: Metrics,
        schedule_trigger: Any = None,
        sync_at_start: bool = True,
        drain_timeout_s: float = 60.0,
        first_sync_retry_s: Sequence[float] = (30.0, 60.0, 120.0, 300.0),
    ) -> None:
        self.rescorer = rescorer
        self.queue = queue
        self.metrics = metrics
        self.schedule_trigger = schedule_trigger
        self.sync_at_start = sync_at_start
        self.drain_timeout_s = drain_timeout_s
        self.first_sync_retry_s = tuple(first_sync_retry_s)
        self.schedule: Schedule | None = None
        self.next_sync_at: datetime | None = None
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._worker: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Start (from the app's lifespan); the replicas' service connects first."""
        self.start()

    async def ready(self) -> tuple[bool, str]:
        """Ready to take webhooks: the audit file was opened and migrated before the app."""
        return True, "ok"

    def alive(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def queue_stats(self) -> QueueStats:
        return QueueStats(depth=self.queue.depth, oldest_s=self.queue.oldest_s)

    def start(self) -> None:
        """Start the worker, the first full sync and the schedule in the running loop."""
        self._worker = asyncio.create_task(self._work(), name="priosync-rescore-worker")
        if self.sync_at_start:
            self._track(self._first_sync(), name="priosync-first-sync")
        if self.schedule_trigger is not None:
            self.schedule = Schedule(
                self._scheduled_sync,
                self.schedule_trigger,
                on_skip=self._count_skip,
                on_next=self._set_next,
            )
            self.schedule.start()

    async def stop(self) -> None:
        """Drain: no new ticks, finish the queue and the run in flight, then close."""
        if self.schedule is not None:
            self.schedule.shutdown()
        self._stopping.set()
        self.queue.close()
        pending = [t for t in (self._worker, *self._tasks) if t is not None]
        log.info("draining: %d queued items", self.queue.depth)
        try:
            async with asyncio.timeout(self.drain_timeout_s):
                await asyncio.gather(*pending, return_exceptions=True)
        except TimeoutError:
            log.error(
                "drain timed out after %.0f s; %d items left",
                self.drain_timeout_s,
                self.queue.depth,
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.rescorer.aclose()
        log.info("stopped")

    async def _work(self) -> None:
        while (batch := await self.queue.next_batch()) is not None:
            self.metrics.set("priosync_queue_depth", self.queue.depth)
            if not await self._snapshot_or_stopping():
                log.warning("dropped %d queued items: no full sync completed", batch.size)
                continue
            await self._rescore(batch)
        self.metrics.set("priosync_queue_depth", 0)

    async def _rescore(self, batch: Batch) -> None:
        try:
            await self.rescorer.rescore(batch)
        except Exception:
            # The worker is a process edge: log, count, and serve the next batch.
            self.metrics.inc("priosync_errors_total", stage="rescore")
            log.exception("rescore crashed")

    async def _snapshot_or_stopping(self) -> bool:
        """Wait for the first snapshot; False when stopping before one exists."""
        if self.rescorer.ready.is_set():
            return True
        ready = asyncio.create_task(self.rescorer.ready.wait())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (ready, stopping):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return self.rescorer.ready.is_set()

    async def _scheduled_sync(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._guarded_sync("schedule")
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _first_sync(self) -> None:
        """The first full sync, tried again with growing pauses until every source was read.

        Webhooks wait for it (they replan from its snapshot), and without a schedule nothing
        else would ever try again. The last pause repeats.
        """
        await self._guarded_sync("start")
        delays = iter(self.first_sync_retry_s)
        delay = 0.0
        while not self.rescorer.complete and not self._stopping.is_set():
            delay = next(delays, delay)
            log.warning("first sync did not read every source; trying again in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
            if not self._stopping.is_set():
                await self._guarded_sync("retry")

    async def _guarded_sync(self, trigger: str) -> None:
        try:
            await self.rescorer.full_sync(trigger)
        except Exception:
            # A process edge: tracker errors are handled inside; this is a bug. Log, go on.
            self.metrics.inc("priosync_errors_total", stage="sync")
            log.exception("full sync crashed", extra={"trigger": trigger})

    def _track(self, coro: Coroutine[Any, Any, Any], *, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _count_skip(self) -> None:
        self.metrics.inc("priosync_syncs_skipped_total")

    def _set_next(self, when: datetime | None) -> None:
        self.next_sync_at = when
        self.metrics.set("priosync_next_sync_timestamp_seconds", when.timestamp() if when else 0)
