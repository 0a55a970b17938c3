"""The coalescing work queue between the webhook endpoints and the rescoring worker.

Endpoints ``put`` targets and answer at once; one worker takes ``Batch``es. A batch is taken
``quiet_s`` after its *first* target was put — a fixed window that later deliveries do not
move — and holds every target put until it is taken. So a burst that arrives within the
window (the several deliveries of one edit, a bulk change of many issues) becomes one
rescore, and no delivery waits more than ``quiet_s`` for its batch to start, however many
follow it. A burst on one issue longer than the window becomes more than one rescore; each
re-reads the issue as it then is. Targets put while the worker is busy with the previous
batch wait for the next one, which is taken as soon as the worker is free once its window
has passed. Targets are sets, so any number of events on one item cost one re-read, and
all the items of one source in a batch are re-read in one call.

Memory is bounded: past ``max_keys`` distinct items of one source, that source is marked for
a whole re-read instead. ``RecentDeliveries`` remembers delivery ids for de-duplication,
the oldest forgotten first.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from connectors.webhooks import Target


@dataclass(frozen=True, slots=True)
class Batch:
    """What one rescore re-reads: named items per source, and sources to re-read whole."""

    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    whole: frozenset[str] = frozenset()
    #: How many targets were put to make this batch (before coalescing).
    events: int = 0
    #: How long its oldest target had waited when the batch was taken.
    waited_s: float = 0.0

    @property
    def sources(self) -> list[str]:
        return sorted(set(self.keys) | self.whole)

    @property
    def size(self) -> int:
        return sum(len(k) for k in self.keys.values()) + len(self.whole)


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What waits, for ``/metrics`` and ``/healthz``: distinct items (and whole sources), how
    long the oldest has waited, and (replicas) the store's jobs by status."""

    depth: int
    oldest_s: float
    jobs: Mapping[str, int] = field(default_factory=dict)


class CoalescingQueue:
    """A set of pending targets with windowed, batched takes. Single consumer."""

    def __init__(
        self,
        *,
        quiet_s: float = 1.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet_s = quiet_s
        self.max_keys = max_keys
        self._clock = clock
        self._keys: dict[str, dict[str, None]] = {}
        self._whole: set[str] = set()
        self._events = 0
        self._first_put = 0.0
        self._closed = False
        self._wake = asyncio.Event()

    @property
    def depth(self) -> int:
        """Distinct items (and whole sources) waiting."""
        return sum(len(k) for k in self._keys.values()) + len(self._whole)

    @property
    def oldest_s(self) -> float:
        """How long the oldest waiting target has waited; 0 when none waits."""
        return self._clock() - self._first_put if self.depth else 0.0

    @property
    def due_at(self) -> float | None:
        """When the pending batch is to be taken (on the queue's clock); None when empty."""
        return self._first_put + self.quiet_s if self.depth else None

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, targets: Iterable[Target]) -> None:
        """Add targets; a duplicate of a pending one costs nothing and moves no window."""
        now = self._clock()
        for target in targets:
            if self.depth == 0:
                self._first_put = now
            self._events += 1
            self._add(target)
        self._wake.set()

    def _add(self, target: Target) -> None:
        if target.source in self._whole:
            return
        if target.key is None:
            self._whole.add(target.source)
            self._keys.pop(target.source, None)
            return
        keys = self._keys.setdefault(target.source, {})
        keys[target.key] = None
        if len(keys) > self.max_keys:
            # Too many single items to track: re-reading the source whole is cheaper anyway.
            self._whole.add(target.source)
            del self._keys[target.source]

    def close(self) -> None:
        """Stop waiting for windows to pass: what is pending is handed out at once."""
        self._closed = True
        self._wake.set()

    def take_due(self) -> Batch | None:
        """The pending batch if its window has passed (or the queue is closed), else None."""
        due = self.due_at
        if due is None or (not self._closed and self._clock() < due):
            return None
        return self._take()

    async def next_batch(self) -> Batch | None:
        """The next batch once its window has passed; None when closed and empty."""
        while (batch := self.take_due()) is None:
            due = self.due_at
            if due is None and self._closed:
                return None
            await self._wait(None if due is None else due - self._clock())
        return batch

    async def _wait(self, timeout_s: float | None) -> None:
        self._wake.clear()
        try:
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
        except TimeoutError:
            pass

    def _take(self) -> Batch:
        batch = Batch(
            keys={s: tuple(k) for s, k in self._keys.items()},
            whole=frozenset(self._whole),
            events=self._events,
            waited_s=self.oldest_s,
        )
        self._keys, self._whole, self._events = {}, set(), 0
        return batch


class RecentDeliveries:
    """A bounded memory of delivery ids; the oldest are forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_remember(self, delivery_id: str) -> bool:
        """True when ``delivery_id`` was seen before (a redelivery or replay); else remember it."""
        if delivery_id in self._seen:
            self._seen.move_to_end(delivery_id)
            return True
        self._seen[delivery_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False
