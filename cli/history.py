"""`priosync history` and `priosync revert RUN`: showing the audit log and what a revert did."""

from __future__ import annotations

from typing import Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from reports.literal import literal
from reports.text import describe_outputs_change, write_json
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


def describe_revert_plan(reverted: Reverted) -> list[str]:
    """What a revert would write back, and what it leaves alone, one line each."""
    lines = []
    for change in reverted.changes:
        what = ", ".join(describe_outputs_change(change.before, change.after))
        lines.append(f"restore {change.key}: {what}")
    lines += [f"keep {conflict.describe()}" for conflict in reverted.conflicts]
    lines += [f"put {m.key} back {m.to.describe()}" for m in reverted.moves]
    lines += [f"keep {u.describe()}" for u in reverted.unmovable]
    return lines


def ask_to_revert(reverted: Reverted, console: Console) -> bool:
    """Show the plan and ask on the terminal; True to write it."""
    if not reverted.changes and not reverted.moves:
        return True  # nothing to write: no need to ask
    for line in describe_revert_plan(reverted):
        console.print(literal(line, limit=None))
    items = len(reverted.changes)
    question = f"Write back the old values of {items} items?"
    if reverted.moves:
        question = question[:-1] + f" and put {len(reverted.moves)} moved items back?"
    return typer.confirm(question, default=False)


def show_revert(reverted: Reverted, console: Console, *, dry_run: bool = False) -> None:
    """What happened: already reverted, a dry run, a refusal, or what was restored and kept."""
    run = reverted.run
    if reverted.already_reverted_by is not None:
        by = reverted.already_reverted_by
        console.print(
            literal(
                f"run {run.id} is already reverted (by run {by.id} at {by.finished_at}); "
                "nothing to do",
                limit=None,
            )
        )
        return
    if run.outcome in ("interrupted", "crashed") or run.finished_at is None:
        console.print(
            literal(
                f"run {run.id} was {run.outcome or 'not finished'}: only the writes that "
                f"landed are reverted ({reverted.resolved} with an unknown outcome were "
                "checked against the tracker first)",
                limit=None,
            )
        )
    if reverted.applied is None:
        if dry_run:
            for line in describe_revert_plan(reverted):
                console.print(literal(line, limit=None))
            console.print(
                literal(
                    f"dry run: would restore {len(reverted.changes)} items, leave "
                    f"{len(reverted.conflicts)} conflicts alone"
                    + (
                        f", put {len(reverted.moves)} moved items back and leave "
                        f"{len(reverted.unmovable)} where they are"
                        if reverted.moves or reverted.unmovable
                        else ""
                    )
                    + "; nothing was written",
                    limit=None,
                )
            )
        elif reverted.changes or reverted.moves:
            console.print("not reverted: nothing was written", markup=False)
        return
    report = reverted.applied.report
    for c in report.written:
        console.print(literal(f"restored {c.key}", limit=None))
    for f in report.failed:
        console.print(literal(f"failed {f.change.key}: {f.error}", limit=None))
    for conflict in reverted.conflicts:
        console.print(literal(f"kept {conflict.describe()}", limit=None))
    for m in report.moved:
        console.print(literal(f"put {m.key} back {m.to.describe()}", limit=None))
    for fm in report.move_failed:
        console.print(literal(f"failed to move {fm.move.key}: {fm.error}", limit=None))
    for u in reverted.unmovable:
        console.print(literal(f"kept {u.describe()}", limit=None))
    moves = (
        f"; {len(report.moved)} moved back, {len(reverted.unmovable)} left where they are, "
        f"{len(report.move_failed)} failed to move"
        if reverted.moves or reverted.unmovable
        else ""
    )
    console.print(
        literal(
            f"run {run.id} reverted as run {reverted.applied.run_id}: "
            f"{len(report.written)} restored, {len(reverted.conflicts)} conflicts left alone, "
            f"{len(report.failed)} failed{moves}",
            limit=None,
        )
    )


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict) and len(value) == 1:  # a move's place: {"after": "WEB-7"}
        (side, key), *_ = value.items()
        return f"{side} {key}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
