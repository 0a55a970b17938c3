"""The coalescing queue and the delivery memory."""

from __future__ import annotations

import asyncio

from connectors.webhooks import Target
from service.queue import CoalescingQueue, RecentDeliveries


class TestCoalescingQueue:
    async def test_a_burst_on_one_item_is_one_target(self) -> None:
        """Two hundred events on five items become one batch of five keys."""
        queue = CoalescingQueue(quiet_s=0.05, max_delay_s=1.0)
        for n in range(200):
            queue.put([Target("web", f"WEB-{n % 5 + 1}")])
        batch = await asyncio.wait_for(queue.next_batch(), 2)
        assert batch is not None
        assert batch.keys == {"web": ("WEB-1", "WEB-2", "WEB-3", "WEB-4", "WEB-5")}
        assert batch.events == 200
        assert queue.depth == 0

    async def test_waits_for_the_burst_to_settle(self) -> None:
        """Events arriving within the quiet window join the same batch."""
        queue = CoalescingQueue(quiet_s=0.1, max_delay_s=2.0)
        queue.put([Target("web", "WEB-1")])
        taking = asyncio.create_task(queue.next_batch())
        for n in range(2, 6):
            await asyncio.sleep(0.03)
            queue.put([Target("web", f"WEB-{n}")])
        batch = await asyncio.wait_for(taking, 2)
        assert batch is not None
        assert len(batch.keys["web"]) == 5

    async def test_a_steady_stream_is_served_after_max_delay(self) -> None:
        """A stream that never goes quiet still yields a batch after max_delay_s."""
        queue = CoalescingQueue(quiet_s=0.2, max_delay_s=0.15)
        taking = asyncio.create_task(queue.next_batch())
        for n in range(40):
            queue.put([Target("web", f"WEB-{n}")])
            await asyncio.sleep(0.01)
            if taking.done():
                break
        assert taking.done()
        batch = taking.result()
        assert batch is not None
        assert 0 < batch.size < 40

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
        queue = CoalescingQueue(quiet_s=30.0, max_delay_s=30.0)
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
