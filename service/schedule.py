"""The cron schedule of full syncs, with APScheduler 3 (``AsyncIOScheduler`` + ``CronTrigger``).

Runs never overlap (``max_instances=1``: a tick that fires while the previous sync still
runs is skipped and counted); ticks missed while the process was busy or suspended run once,
however late (``coalesce=True``, ``misfire_grace_time=None``). The next run time is logged
after every run and exposed for the status page and ``/metrics``.
https://apscheduler.readthedocs.io/en/3.x/userguide.html#limiting-the-number-of-concurrently-executing-instances-of-a-job
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.events import (  # type: ignore[import-untyped, unused-ignore]
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
)
from apscheduler.schedulers.asyncio import (  # type: ignore[import-untyped, unused-ignore]
    AsyncIOScheduler,
)

from config.schedule import build_cron_trigger, cron_weekdays

log = logging.getLogger("priosync.server")

__all__ = ["JOB_ID", "Schedule", "build_cron_trigger", "cron_weekdays"]

JOB_ID = "full-sync"


class Schedule:
    """Runs ``job`` on ``trigger`` in the running event loop, one run at a time."""

    def __init__(
        self,
        job: Callable[[], Awaitable[None]],
        trigger: Any,
        *,
        on_skip: Callable[[], None] | None = None,
        on_next: Callable[[datetime | None], None] | None = None,
    ) -> None:
        self._job = job
        self._trigger = trigger
        self._on_skip = on_skip
        self._on_next = on_next
        self._scheduler: Any = None

    def start(self) -> None:
        """Start in the running loop (call from async code, e.g. the app's lifespan)."""
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._job,
            self._trigger,
            id=JOB_ID,
            name="full sync",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES
        )
        scheduler.start()
        self._scheduler = scheduler
        self._announce_next()

    def next_run_at(self) -> datetime | None:
        """When the next tick fires; None when stopped."""
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(JOB_ID)
        return job.next_run_time if job is not None else None

    def shutdown(self) -> None:
        """Stop firing; a run in flight is not interrupted (the caller awaits it)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._on_next is not None:
            self._on_next(None)

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("scheduled sync skipped: the previous one is still running")
            if self._on_skip is not None:
                self._on_skip()
        elif event.code == EVENT_JOB_ERROR:
            log.error("scheduled sync crashed: %r", event.exception)
        self._announce_next()

    def _announce_next(self) -> None:
        when = self.next_run_at()
        if when is not None:
            log.info("next full sync at %s", when.isoformat())
        if self._on_next is not None:
            self._on_next(when)
