"""Five-field cron expressions and IANA time zones, read the way the service will run them.

``build_cron_trigger`` is what ``priosync serve`` schedules with, and what config validation
calls, so ``check`` refuses exactly the schedules ``serve`` would refuse
(APScheduler 3's ``CronTrigger``; https://apscheduler.readthedocs.io/en/3.x/modules/triggers/cron.html).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from priosync.errors import ConfigError

#: Cron's weekday numbering: 0 (and 7) is Sunday.
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def build_cron_trigger(cron: str, timezone: str) -> Any:
    """A ``CronTrigger`` for a five-field cron expression; ``ConfigError`` when invalid."""
    # Imported here: a config without a schedule (every cron job's) needs none of it.
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped, unused-ignore]

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "unknown time zone",
            key="schedule.timezone",
            expected='an IANA name such as "UTC"',
            found=repr(timezone),
        ) from None
    try:
        minute, hour, day, month, weekday = cron.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=cron_weekdays(weekday),
            timezone=zone,
        )
    except ValueError as exc:
        raise ConfigError(
            f"invalid cron expression: {exc}",
            key="schedule.cron",
            expected="five fields (minute hour day month weekday)",
            found=repr(cron),
        ) from None


def cron_weekdays(field: str) -> str:
    """A cron weekday field (0 or 7 = Sunday) as APScheduler 3 day names.

    APScheduler 3 numbers weekdays from Monday = 0, and its ``from_crontab`` does not
    translate, so ``1-5`` would mean Tuesday to Saturday. Names are unambiguous.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _weekday(low), _weekday(high)
            last = 7 if last == 0 and first > 0 else last
        else:
            first = _weekday(span)
            last = 6 if step else first
        if first > last:
            raise ValueError(f"weekday range {span} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text[:3] in WEEKDAYS:
        return WEEKDAYS.index(text[:3])
    raise ValueError(f"unknown weekday {text!r}")
