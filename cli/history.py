"""`priosync history` and `priosync revert RUN`: reading the audit log, and undoing a run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cli import exit_codes
from config import LoadedConfig
from priosync.domain import Plan
from priosync.errors import ConfigError
from sync.audit import AuditLog
from sync.pipeline import open_connector, select_sources
from sync.plan import PlanRules
from sync.revert import plan_revert
from sync.writer import apply_plan


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


async def revert_run(loaded: LoadedConfig, audit: AuditLog, run_id: int, console: Console) -> int:
    """Re-read the items a run wrote, restore old values where the run's value still stands."""
    record = audit.run(run_id)
    if record is None:
        raise ConfigError(f"there is no run {run_id} in the audit log {audit.path}", key="RUN")
    writes = audit.writes(run_id=run_id)
    config = loaded.config
    rules = PlanRules.from_config(config.outputs, decimals=config.scoring.decimals)
    sources = select_sources(config, sorted({w.source for w in writes}))
    connectors = {s.name: open_connector(s, config) for s in sources}
    try:
        items = {}
        for name, connector in connectors.items():
            keys = sorted({w.item for w in writes if w.source == name})
            items.update({i.key: i for i in await connector.read_items(keys)})
        changes, conflicts = plan_revert(run_id, writes, items, rules)
        new_run = audit.start_run(
            command=f"revert {run_id}", config_sha256=loaded.sha256, sources=list(connectors)
        )
        report = await apply_plan(
            Plan(changes=tuple(changes)), connectors, audit=audit, run_id=new_run
        )
        audit.finish_run(
            new_run,
            counts={
                "written": len(report.written),
                "failed": len(report.failed),
                "conflicts": len(conflicts),
            },
            outcome="ok" if not report.failed and not report.stopped else "some-writes-failed",
        )
    finally:
        for connector in connectors.values():
            await connector.aclose()
    for c in report.written:
        console.print(f"restored {c.key}", markup=False)
    for f in report.failed:
        console.print(f"failed {f.change.key}: {f.error}", markup=False)
    for conflict in conflicts:
        console.print(f"kept {conflict.describe()}", markup=False)
    console.print(
        f"run {run_id} reverted as run {new_run}: {len(report.written)} restored, "
        f"{len(conflicts)} conflicts left alone, {len(report.failed)} failed",
        markup=False,
    )
    return exit_codes.WRITES if report.failed or report.stopped else exit_codes.OK


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
