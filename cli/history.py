"""`priosync history` and `priosync revert RUN`: showing the audit log and what a revert did."""

from __future__ import annotations

from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from reports.literal import literal
from reports.text import write_json
from sync.audit import AuditLog, WriteRecord
from sync.revert import Reverted


def render_history(
    audit: AuditLog,
    console: Console,
    *,
    item: str | None,
    limit: int,
    fmt: Literal["table", "json"] = "table",
) -> None:
    """The last ``limit`` runs with their outcome and counts, or every write to ``item``.

    JSON (a stable shape for scripts): ``{"runs": [{"id", "command", "started_at",
    "finished_at", "sources", "outcome", "counts", "writes": [{"source", "item", "url",
    "field", "old", "new", "status", "error", "at"}]}]}``; with ``--item``:
    ``{"item", "writes": [{"run", …the same keys}]}``. ``outcome`` is null while a run has
    not finished.
    """
    if item is not None:
        writes = audit.writes(item=item)
        if fmt == "json":
            write_json(console, {"item": item, "writes": [write_json_row(w) for w in writes]})
            return
        table = Table(title=literal(f"writes to {item}"))
        for col in ("run", "at", "field", "old", "new", "status"):
            table.add_column(col, overflow="fold")
        for w in writes:
            status = w.status if w.error is None else f"{w.status}: {w.error}"
            cells = (str(w.run_id), w.at, w.field, _show(w.old), _show(w.new), status)
            table.add_row(*(literal(c) for c in cells))
        console.print(table)
        return
    runs = audit.runs(limit=limit)
    if fmt == "json":
        write_json(
            console,
            {
                "runs": [
                    {
                        "id": r.id,
                        "command": r.command,
                        "started_at": r.started_at,
                        "finished_at": r.finished_at,
                        "sources": list(r.sources),
                        "outcome": r.outcome,
                        "counts": dict(r.counts),
                        "writes": [write_json_row(w) for w in audit.writes(run_id=r.id)],
                    }
                    for r in runs
                ]
            },
        )
        return
    table = Table(title="runs")
    for col in ("run", "command", "started", "finished", "sources", "outcome", "counts"):
        table.add_column(col, overflow="fold")
    for r in runs:
        counts = ", ".join(f"{k} {v}" for k, v in r.counts.items() if v)
        row = (
            str(r.id),
            r.command,
            r.started_at,
            r.finished_at or "—",
            ", ".join(r.sources),
            r.outcome or "unfinished",
            counts,
        )
        table.add_row(*(literal(c) for c in row))
    console.print(table)


def write_json_row(w: WriteRecord) -> dict[str, Any]:
    """One recorded write as JSON: the values exactly as the audit log holds them."""
    return {
        "run": w.run_id,
        "source": w.source,
        "item": w.item,
        "url": w.url,
        "field": w.field,
        "old": w.old,
        "new": w.new,
        "status": w.status,
        "error": w.error,
        "at": w.at,
    }


def show_revert(reverted: Reverted, console: Console) -> None:
    """One line per restored, failed and kept field, then the totals."""
    report = reverted.applied.report
    for c in report.written:
        console.print(f"restored {c.key}", markup=False)
    for f in report.failed:
        console.print(literal(f"failed {f.change.key}: {f.error}", limit=None))
    for conflict in reverted.conflicts:
        console.print(literal(f"kept {conflict.describe()}", limit=None))
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
