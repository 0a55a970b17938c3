"""`priosync history` and `priosync revert RUN`: showing the audit log and what a revert did."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sync.audit import AuditLog
from sync.revert import Reverted


def render_history(audit: AuditLog, console: Console, *, item: str | None, limit: int) -> None:
    if item is not None:
        table = Table(title=f"writes to {item}")
        for col in ("run", "at", "field", "old", "new", "status"):
            table.add_column(col, overflow="fold")
        for w in audit.writes(item=item):
            status = w.status if w.error is None else f"{w.status}: {w.error}"
            table.add_row(str(w.run_id), w.at, w.field, _show(w.old), _show(w.new), status)
        console.print(table)
        return
    table = Table(title="runs")
    for col in ("run", "command", "started", "finished", "sources", "outcome", "counts"):
        table.add_column(col, overflow="fold")
    for r in audit.runs(limit=limit):
        counts = ", ".join(f"{k} {v}" for k, v in r.counts.items() if v)
        table.add_row(
            str(r.id),
            r.command,
            r.started_at,
            r.finished_at or "—",
            ", ".join(r.sources),
            r.outcome or "unfinished",
            counts,
        )
    console.print(table)


def show_revert(reverted: Reverted, console: Console) -> None:
    """One line per restored, failed and kept field, then the totals."""
    report = reverted.applied.report
    for c in report.written:
        console.print(f"restored {c.key}", markup=False)
    for f in report.failed:
        console.print(f"failed {f.change.key}: {f.error}", markup=False)
    for conflict in reverted.conflicts:
        console.print(f"kept {conflict.describe()}", markup=False)
    console.print(
        f"run {reverted.run_id} reverted as run {reverted.applied.run_id}: "
        f"{len(report.written)} restored, {len(reverted.conflicts)} conflicts left alone, "
        f"{len(report.failed)} failed",
        markup=False,
    )


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
