"""The status page at ``/``: last runs, next scheduled run, recent changes (pure HTML).

No scripts, no external assets; every string that came from a tracker is escaped and only
``http(s)`` URLs become links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from service.rescore import RecentChange, RunSummary

_CSS = (
    "body{font:14px/1.4 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px 24px;"
    "color:#1d2430}h1{font-size:20px}h2{font-size:16px;margin-top:24px}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d8dee8;"
    "padding:4px 8px;text-align:left;vertical-align:top}.muted{color:#5b6575}"
)


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the page shows, gathered by the app."""

    now: datetime
    snapshot_items: int | None
    syncing: bool
    queue_depth: int
    next_sync_at: datetime | None
    cron: str | None
    runs: Sequence[RunSummary]
    changes: Sequence[RecentChange]
    report_available: bool


def render_status_page(view: StatusView) -> str:
    """The whole page as one HTML string."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>priosync serve</title>",
        f"<style>{_CSS}</style></head><body><h1>priosync serve</h1>",
        _render_summary(view),
        "<h2>Last runs</h2>",
        _render_runs(view.runs),
        "<h2>Recent changes</h2>",
        _render_changes(view.changes),
        "</body></html>",
    ]
    return "".join(parts)


def _render_summary(view: StatusView) -> str:
    snapshot = (
        "no full sync has completed yet"
        if view.snapshot_items is None
        else f"{view.snapshot_items} items in the ranking kept from the last full sync"
    )
    if view.next_sync_at is not None:
        next_run = f"next full sync at {_time(view.next_sync_at)} (cron {escape(view.cron or '')})"
    else:
        next_run = "no schedule configured ([schedule] cron)"
    report = (
        "<a href='/report'>the current ranking (HTML report)</a>"
        if view.report_available
        else "<span class='muted'>ranking report: available after the first full sync</span>"
    )
    items = [
        f"<li>{snapshot}</li>",
        f"<li>{next_run}</li>",
        f"<li>{'a full sync is running' if view.syncing else 'idle'}; "
        f"{view.queue_depth} items queued for rescoring</li>",
        f"<li>{report} · <a href='/metrics'>metrics</a> · <a href='/healthz'>health</a></li>",
    ]
    return f"<p class='muted'>as of {_time(view.now)}</p><ul>{''.join(items)}</ul>"


def _render_runs(runs: Sequence[RunSummary]) -> str:
    if not runs:
        return "<p class='muted'>none yet</p>"
    head = "<tr><th>started</th><th>trigger</th><th>items</th><th>changes</th><th>written</th><th>failed</th><th>took</th><th>outcome</th></tr>"
    rows = [
        f"<tr><td>{_time(r.started_at)}</td><td>{escape(r.trigger)}</td><td>{r.items}</td>"
        f"<td>{r.changes}</td><td>{r.written}</td><td>{r.failed}</td>"
        f"<td>{r.duration_s:.2f} s</td><td>{escape(r.outcome)}"
        f"{' · ' + escape(r.detail) if r.detail else ''}</td></tr>"
        for r in runs
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _render_changes(changes: Sequence[RecentChange]) -> str:
    if not changes:
        return "<p class='muted'>none yet</p>"
    head = "<tr><th>at</th><th>item</th><th>change</th><th>why</th><th>trigger</th></tr>"
    rows = [
        f"<tr><td>{_time(c.at)}</td><td>{_link(c.key, c.url)}</td><td>{escape(c.what)}</td>"
        f"<td>{escape(c.reason)}</td><td>{escape(c.trigger)}</td></tr>"
        for c in changes
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _link(text: str, url: str) -> str:
    if urlsplit(url).scheme in ("http", "https"):
        return f"<a href='{escape(url, quote=True)}'>{escape(text)}</a>"
    return escape(text)


def _time(when: datetime) -> str:
    return escape(when.isoformat(timespec="seconds"))
