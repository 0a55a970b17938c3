"""`/healthz/ready` and `/healthz/live` tell readiness from liveness; `/healthz` stays."""

from __future__ import annotations

from .conftest import running_service


class TestHealth:
    async def test_one_process_is_ready_and_live_once_started(self) -> None:
        """With the SQLite file opened before the app, ready and live are both 200."""
        async with running_service() as svc:
            ready = await svc.client.get("/healthz/ready")
            live = await svc.client.get("/healthz/live")
            health = (await svc.client.get("/healthz")).json()
        assert (ready.status_code, ready.json()["ready"]) == (200, True)
        assert (live.status_code, live.json()["live"]) == (200, True)
        assert (health["status"], health["ready"], health["live"]) == ("ok", True, True)

    async def test_metrics_show_the_queue_and_the_store(self) -> None:
        """Queue depth, the oldest wait, and the store answering, on every scrape."""
        async with running_service() as svc:
            text = (await svc.client.get("/metrics")).text
        assert "priosync_queue_depth 0" in text
        assert "priosync_queue_oldest_seconds 0" in text
        assert "priosync_store_up 1" in text
