"""Where a verified delivery goes: the memory queue of one process, or the shared store.

The webhook endpoints ``put`` a delivery's targets together with its id (False: seen
before, nothing queued), or only ``remember`` the id of one that asks for nothing (a ping).
``MemoryIntake`` is today's single process: ``RecentDeliveries`` and the
``CoalescingQueue``. ``service.replicas.ReplicaIntake`` keeps both in PostgreSQL, in one
transaction, so that a redelivery to another replica is a duplicate exactly when the first
was queued. A store that does not answer is an error the endpoint answers with 503 (the
sender tries again later).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from connectors.webhooks import Target
from service.metrics import Metrics
from service.queue import CoalescingQueue, RecentDeliveries


class Intake(Protocol):
    async def remember(self, delivery: str) -> bool:
        """Record a delivery id; True when it was seen before."""
        ...

    async def put(self, targets: Iterable[Target], *, delivery: str | None) -> bool:
        """Queue targets unless ``delivery`` was seen before; False for a duplicate."""
        ...


class MemoryIntake:
    """One process: delivery ids and targets in memory."""

    def __init__(
        self, queue: CoalescingQueue, deliveries: RecentDeliveries, metrics: Metrics
    ) -> None:
        self.queue = queue
        self.deliveries = deliveries
        self.metrics = metrics

    async def remember(self, delivery: str) -> bool:
        return self.deliveries.check_and_remember(delivery)

    async def put(self, targets: Iterable[Target], *, delivery: str | None) -> bool:
        if delivery is not None and self.deliveries.check_and_remember(delivery):
            return False
        self.queue.put(targets)
        self.metrics.set("priosync_queue_depth", self.queue.depth)
        return True


def is_store_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the database driver's or the queue engine's (imported lazily:
    the single-process service has neither installed)."""
    module = type(exc).__module__.split(".")[0]
    return module in ("psycopg", "psycopg_pool", "procrastinate") or isinstance(exc, OSError)
