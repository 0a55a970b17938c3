"""Prometheus text exposition (format 0.0.4), written by hand.

Why not ``prometheus-client``: its default registry is process-global (two apps in one test
process would share counters), it pulls a dependency in for a dozen numbers, and the text
format is small and stable
(https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format). Each app
holds its own ``Metrics``; ``render`` is pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Labels = tuple[tuple[str, str], ...]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Family:
    """One metric name: its help, type and a value per label set."""

    name: str
    help: str
    kind: Literal["counter", "gauge"]
    values: dict[Labels, float] = field(default_factory=dict)


class Metrics:
    """The service's counters and gauges."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}
        for name, kind, text in _DECLARED:
            self._families[name] = Family(name, text, kind)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        family = self._family(name, "counter")
        key = _labels(labels)
        family.values[key] = family.values.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self._family(name, "gauge").values[_labels(labels)] = value

    def value(self, name: str, **labels: str) -> float:
        """The current value (0 when never touched); for the status page and tests."""
        return self._families[name].values.get(_labels(labels), 0.0)

    def total(self, name: str) -> float:
        """The sum over every label set of ``name``."""
        return sum(self._families[name].values.values())

    def render(self) -> str:
        return render_families(self._families.values())

    def _family(self, name: str, kind: str) -> Family:
        family = self._families[name]
        if family.kind != kind:
            raise TypeError(f"{name} is a {family.kind}, not a {kind}")
        return family


def render_families(families: Iterable[Family]) -> str:
    """The text exposition of ``families``; an unlabelled metric never touched reads 0."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        values = family.values or ({(): 0.0} if not _has_labels(family.name) else {})
        for labels, value in sorted(values.items()):
            lines.append(f"{family.name}{_render_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _render_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape_value(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _has_labels(name: str) -> bool:
    return name in _LABELLED


_DECLARED: tuple[tuple[str, Literal["counter", "gauge"], str], ...] = (
    (
        "priosync_webhook_events_total",
        "counter",
        "Webhook deliveries by tracker and outcome (accepted, ignored, duplicate, ping, rejected).",
    ),
    ("priosync_rescores_total", "counter", "Rescoring runs triggered by webhooks, by outcome."),
    ("priosync_rescored_items_total", "counter", "Items re-read by rescoring runs."),
    ("priosync_writes_total", "counter", "Item writes by trigger (webhook, sync) and outcome."),
    ("priosync_errors_total", "counter", "Errors by stage (read, write, sync, request)."),
    ("priosync_queue_depth", "gauge", "Distinct items waiting to be rescored."),
    ("priosync_syncs_total", "counter", "Full syncs by trigger (start, schedule) and outcome."),
    (
        "priosync_syncs_skipped_total",
        "counter",
        "Scheduled syncs skipped because the previous one was still running.",
    ),
    ("priosync_sync_running", "gauge", "1 while a full sync runs."),
    (
        "priosync_last_sync_timestamp_seconds",
        "gauge",
        "When the last full sync finished (Unix time).",
    ),
    ("priosync_last_sync_duration_seconds", "gauge", "How long the last full sync took."),
    (
        "priosync_next_sync_timestamp_seconds",
        "gauge",
        "When the next scheduled full sync runs (Unix time); 0 when none is scheduled.",
    ),
    ("priosync_snapshot_items", "gauge", "Items in the ranking kept from the last full sync."),
    (
        "priosync_queue_oldest_seconds",
        "gauge",
        "How long the oldest item waiting to be rescored has waited (from the store).",
    ),
    ("priosync_queue_jobs", "gauge", "Replicas: the store's jobs by status (todo, doing)."),
    ("priosync_store_up", "gauge", "1 when the state store answered this scrape."),
    (
        "priosync_jobs_taken_over_total",
        "counter",
        "Replicas: jobs of a silent replica this replica put back in the queue.",
    ),
)

_LABELLED = frozenset(
    {
        "priosync_webhook_events_total",
        "priosync_rescores_total",
        "priosync_writes_total",
        "priosync_errors_total",
        "priosync_syncs_total",
        "priosync_queue_jobs",
    }
)
