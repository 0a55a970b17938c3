"""The schedule: full syncs on a trigger, never overlapping, reported in /metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped, unused-ignore]
from starlette.types import ASGIApp, Receive, Scope, Send

from priosync.errors import ConfigError
from service.schedule import build_cron_trigger, cron_weekdays

from .conftest import eventually, running_service


class SlowSearch:
    """An ASGI wrapper that delays the tracker's searches and records how many overlap."""

    def __init__(self, app: ASGIApp, *, delay_s: float) -> None:
        self.app = app
        self.delay_s = delay_s
        self.in_flight = 0
        self.most_at_once = 0
        self.searches = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/search" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        self.searches += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class TestSchedule:
    async def test_runs_never_overlap_a_slow_run_and_metrics_report_it(self) -> None:
        """Ticks every 0.2 s against a 0.6 s sync: runs happen one at a time, skips are counted."""
        wrappers: list[SlowSearch] = []

        def wrap(app: ASGIApp) -> ASGIApp:
            wrappers.append(SlowSearch(app, delay_s=0.6))
            return wrappers[0]

        async with running_service(
            wrap=wrap, sync_at_start=False, wait_for_snapshot=False,
            schedule_trigger=IntervalTrigger(seconds=0.2),
        ) as svc:  # fmt: skip
            await eventually(
                lambda: svc.metric("priosync_syncs_total", trigger="schedule", outcome="ok") >= 2,
                timeout_s=30,
                what="two scheduled syncs",
            )
            metrics = (await svc.client.get("/metrics")).text
            status = (await svc.client.get("/")).text
            slow = wrappers[0]
            assert slow.most_at_once == 1
            assert slow.searches >= 2
            assert svc.metric("priosync_syncs_skipped_total") >= 1
            assert 'priosync_syncs_total{outcome="ok",trigger="schedule"}' in metrics
            assert svc.metric("priosync_last_sync_duration_seconds") >= 0.6
            assert svc.metric("priosync_last_sync_timestamp_seconds") > 0
            assert svc.metric("priosync_next_sync_timestamp_seconds") > 0
            assert "next full sync at" in status

    def test_cron_trigger_fires_at_the_next_matching_minute(self) -> None:
        """A five-field cron in a named zone gives the next fire time in that zone."""
        trigger = build_cron_trigger("30 9 * * 1-5", "Europe/Berlin")
        friday = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
        fire = trigger.get_next_fire_time(None, friday)
        assert fire.isoformat() == "2026-03-09T09:30:00+01:00"


class TestCronWeekdays:
    def test_translates_cron_numbering_to_names(self) -> None:
        """0 and 7 are Sunday; ranges, lists and steps become explicit day names."""
        assert cron_weekdays("*") == "*"
        assert cron_weekdays("1-5") == "mon,tue,wed,thu,fri"
        assert cron_weekdays("0,6") == "sun,sat"
        assert cron_weekdays("7") == "sun"
        assert cron_weekdays("5-7") == "sun,fri,sat"
        assert cron_weekdays("*/2") == "sun,tue,thu,sat"
        assert cron_weekdays("MON-wed") == "mon,tue,wed"

    @pytest.mark.parametrize("bad", ["8", "funday", "5-2"])
    def test_refuses_nonsense(self, bad: str) -> None:
        """An unknown day or a backwards range is a ValueError (a ConfigError upstream)."""
        with pytest.raises(ValueError, match="weekday"):
            cron_weekdays(bad)

    def test_an_invalid_cron_is_a_config_error(self) -> None:
        """build_cron_trigger names the key when the expression cannot be used."""
        with pytest.raises(ConfigError) as caught:
            build_cron_trigger("61 * * * *", "UTC")
        assert caught.value.key == "schedule.cron"
