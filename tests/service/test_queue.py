"""The coalescing queue and the delivery memory."""

from __future__ import annotations

import asyncio

from connectors.webhooks import Target
from service.queue import CoalescingQueue, RecentDeliveries


class FakeClock:
    """The queue's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestCoalescingQueue:
    async def test_a_burst_on_one_item_is_one_target(self) -> None:
        """Two hundred events on five items become one batch of five keys."""
        queue = CoalescingQueue(quiet_s=0.05)
        for n in range(200):
            queue.put([Target("web", f"WEB-{n % 5 + 1}")])
        batch = await asyncio.wait_for(queue.next_batch(), 2)
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1", "WEB-2", "WEB-3", "WEB-4", "WEB-5")}
        assert batch.events == 200
        assert queue.depth == 0

    async def test_events_within_the_window_join_one_batch(self) -> None:
        """Events arriving before the window of the first one closes join its batch."""
        queue = CoalescingQueue(quiet_s=0.3)
        queue.put([Target("web", "WEB-1")])
        taking = asyncio.create_task(queue.next_batch())
        for n in range(2, 6):
            await asyncio.sleep(0.02)
            queue.put([Target("web", f"WEB-{n}")])
        batch = await asyncio.wait_for(taking, 2)
        assert batch is not None
        assert len(batch.keys["web"]) == 5

    def test_a_stream_is_taken_one_window_after_its_first_target(self) -> None:
        """Puts every 0.5 s with a 1 s window: each batch is taken 1 s after its first put,
        not 1 s after the last (the stream never goes quiet), and later puts go to the
        next batch."""
        clock = FakeClock()
        queue = CoalescingQueue(quiet_s=1.0, clock=clock)
        taken: list[tuple[float, tuple[str, ...]]] = []
        for n in range(8):
            clock.now = n * 0.5
            batch = queue.take_due()
            if batch is not None:
                taken.append((clock.now, batch.keys["web"]))
            queue.put([Target("web", f"WEB-{n}")])
        assert taken == [
            (1.0, ("WEB-0", "WEB-1")),
            (2.0, ("WEB-2", "WEB-3")),
            (3.0, ("WEB-4", "WEB-5")),
        ]
        assert queue.due_at == 4.0

    def test_a_repeated_target_does_not_move_the_window(self) -> None:
        """The same item edited again and again: one batch, due one window after the first."""
        clock = FakeClock()
        queue = CoalescingQueue(quiet_s=1.0, clock=clock)
        for n in range(10):
            clock.now = n * 0.09
            queue.put([Target("web", "WEB-1")])
        assert queue.due_at == 1.0
        clock.now = 0.99
        assert queue.take_due() is None
        clock.now = 1.0
        batch = queue.take_due()
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1",)}
        assert batch.events == 10
        assert batch.waited_s == 1.0
        assert queue.due_at is None

    async def test_the_worker_takes_the_batch_when_the_window_closes(self) -> None:
        """A waiting worker is not released by a later put, only by the first one's window."""
        clock = FakeClock()
        queue = CoalescingQueue(quiet_s=1.0, clock=clock)
        queue.put([Target("web", "WEB-1")])
        clock.now = 0.95
        taking = asyncio.create_task(queue.next_batch())
        queue.put([Target("web", "WEB-2")])
        await asyncio.sleep(0.01)
        assert not taking.done()
        clock.now = 1.0
        batch = await asyncio.wait_for(taking, 1)
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1", "WEB-2")}

    async def test_a_batch_that_waited_for_the_worker_is_taken_at_once(self) -> None:
        """Targets put while the worker was busy: their window has passed, no more waiting."""
        clock = FakeClock()
        queue = CoalescingQueue(quiet_s=1.0, clock=clock)
        queue.put([Target("web", "WEB-1")])
        clock.now = 4.0  # the worker was rescoring the previous batch
        queue.put([Target("web", "WEB-2")])
        batch = await asyncio.wait_for(queue.next_batch(), 0.5)
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1", "WEB-2")}
        assert batch.waited_s == 4.0

    async def test_many_items_past_the_limit_become_a_whole_source_read(self) -> None:
        """More distinct items than max_keys turn into one whole-source re-read."""
        queue = CoalescingQueue(quiet_s=0.0, max_keys=3)
        queue.put([Target("web", f"WEB-{n}") for n in range(5)] + [Target("app", "a/b#1")])
        batch = await queue.next_batch()
        assert batch is not None
        assert batch.whole == frozenset({"web"})
        assert batch.keys == {"app": ("a/b#1",)}
        assert batch.sources == ["app", "web"]

    async def test_a_source_target_absorbs_its_items(self) -> None:
        """Once a source is to be re-read whole, its single items are not tracked."""
        queue = CoalescingQueue(quiet_s=0.0)
        queue.put([Target("web", "WEB-1"), Target("web"), Target("web", "WEB-2")])
        batch = await queue.next_batch()
        assert batch is not None
        assert batch.whole == frozenset({"web"})
        assert dict(batch.keys) == {}

    async def test_close_hands_out_the_rest_at_once_then_none(self) -> None:
        """After close, pending work comes out without waiting, then None ends the worker."""
        queue = CoalescingQueue(quiet_s=30.0)
        queue.put([Target("web", "WEB-1")])
        queue.close()
        batch = await asyncio.wait_for(queue.next_batch(), 1)
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1",)}
        assert await asyncio.wait_for(queue.next_batch(), 1) is None

    async def test_close_wakes_a_waiting_worker(self) -> None:
        """A worker waiting on an empty queue returns None when the queue closes."""
        queue = CoalescingQueue()
        taking = asyncio.create_task(queue.next_batch())
        await asyncio.sleep(0.01)
        queue.close()
        assert await asyncio.wait_for(taking, 1) is None


class TestRecentDeliveries:
    def test_remembers_and_recognises_a_replay(self) -> None:
        """The second sight of an id is a replay."""
        seen = RecentDeliveries(capacity=10)
        assert seen.check_and_remember("a") is False
        assert seen.check_and_remember("a") is True

    def test_memory_is_bounded(self) -> None:
        """Past the capacity the oldest ids are forgotten and the size stays put."""
        seen = RecentDeliveries(capacity=100)
        for n in range(1000):
            seen.check_and_remember(str(n))
        assert len(seen) == 100
        assert seen.check_and_remember("999") is True
        assert seen.check_and_remember("0") is False
