"""Render rankings and plans as a table, JSON, Markdown or CSV (design §6).

JSON is a stable interface for scripts:

- ``rank``: ``{"items": [{"key", "title", "url", "source", "rank", "score", "terms",
  "priority", "bucket", "missing", "lifted_by", "cycle", "blocked_outside"}]}`` — rank 1 is
  the top; unscored items have ``rank`` and ``score`` null and ``missing`` lists the reasons;
  ``lifted_by`` lists the keys of the items a lifted blocker blocks (``scoring.dependencies``),
  ``cycle`` the dependency cycle it is in, ``blocked_outside`` open blockers not ranked.
- ``plan`` / ``sync``: ``{"changes": [{"key", "source", "url", "before", "after", "reason"}],
  "unchanged", "skipped": [{"key", "source", "missing"}], "failed": [{"key", "source",
  "error"}], "left": [...keys], "written": n}`` where ``before``/``after`` hold ``score``,
  ``priority``, ``labels`` (and ``explanation``/``rank`` when those fields are configured).
- ``fields``: ``{"sources": [{"source", "fields": [{"id", "name", "type", "options",
  "custom"}]}]}``.
- ``check``: ``{"ok": bool, "checks": [{"what", "ok", "detail", "fix"}]}``.
- ``history``: see ``cli.history``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from priosync.domain import CheckResult, FieldInfo, Outputs, Plan, RankedItem
from reports import stream
from reports.literal import MAX_CELL, literal, one_line
from scoring import dependency_notes, format_number
from sync.writer import WriteReport

Format = Literal["table", "json", "markdown", "csv"]


# ── rank ─────────────────────────────────────────────────────────────────────────────────


def rank_rows(ranking: Sequence[RankedItem]) -> list[dict[str, Any]]:
    return [rank_row(r) for r in ranking]


def rank_row(r: RankedItem) -> dict[str, Any]:
    return {
        "key": r.item.key,
        "title": r.item.title,
        "url": r.item.url,
        "source": r.item.source,
        "rank": r.rank,
        "score": r.score.value,
        "terms": dict(r.score.terms),
        "priority": r.tier,
        "bucket": r.bucket,
        "missing": [m.reason for m in r.score.missing],
        # Dependencies (scoring.dependencies): who lifted it, its cycle, outside blockers.
        "lifted_by": list(r.lifted_by),
        "cycle": list(r.cycle),
        "blocked_outside": list(r.blocked_outside),
    }


def render_rank(ranking: Sequence[RankedItem], fmt: Format, console: Console) -> None:
    if fmt == "json":
        # Row by row (reports.stream): the whole document would outweigh the ranking.
        stream.write_json(console.file, {"items": (rank_row(r) for r in ranking)})
        return
    header = ["rank", "key", "title", "score", "terms", "priority", "bucket", "missing"]
    # The dependencies column: always in CSV (a stable shape), elsewhere when there is a note.
    with_notes = fmt == "csv" or any(dependency_notes(r) for r in ranking)
    if with_notes:
        header.append("dependencies")
    cells = (rank_cells(r, with_notes=with_notes) for r in ranking)
    _render_cells(header, cells, fmt, console, title="Ranked backlog")


def rank_cells(r: RankedItem, *, with_notes: bool) -> list[str]:
    """One ranked item as the table, Markdown and CSV show it."""
    return [
        "" if r.rank is None else str(r.rank),
        r.item.key,
        r.item.title,
        "" if r.score.value is None else format_number(r.score.value),
        " ".join(f"{k}={format_number(v)}" for k, v in r.score.terms.items()),
        r.tier or "",
        r.bucket or "",
        "; ".join(m.reason for m in r.score.missing),
        *(["; ".join(dependency_notes(r))] if with_notes else []),
    ]


# ── plan and sync ────────────────────────────────────────────────────────────────────────


def outputs_json(o: Outputs) -> dict[str, Any]:
    data: dict[str, Any] = {"score": o.score, "priority": o.priority, "labels": sorted(o.labels)}
    if o.explanation is not None:
        data["explanation"] = o.explanation
    if o.rank is not None:
        data["rank"] = o.rank
    return data


def plan_document(plan: Plan, report: WriteReport | None = None) -> dict[str, Any]:
    doc = plan_document_stream(plan, report)
    return {k: list(v) if isinstance(v, Iterator) else v for k, v in doc.items()}


def plan_document_stream(plan: Plan, report: WriteReport | None = None) -> dict[str, Any]:
    """``plan_document`` with the per-item lists as iterators, for ``stream.write_json``."""
    doc: dict[str, Any] = {
        "changes": (
            {
                "key": c.key,
                "source": c.source,
                "url": c.url,
                "before": outputs_json(c.before),
                "after": outputs_json(c.after),
                "reason": c.reason,
            }
            for c in plan.changes
        ),
        "unchanged": plan.unchanged,
        "skipped": (
            {"key": s.key, "source": s.source, "missing": [m.reason for m in s.missing]}
            for s in plan.skipped
        ),
        "failed": [],
        "warnings": list(plan.warnings),
    }
    if report is not None:
        doc["written"] = len(report.written)
        doc["failed"] = [
            {"key": f.change.key, "source": f.change.source, "error": str(f.error)}
            for f in report.failed
        ]
        doc["left"] = [c.key for c in report.left]
        doc["stopped"] = {source: str(why) for source, why in report.stopped.items()}
    return doc


def describe_outputs_change(before: Outputs, after: Outputs) -> list[str]:
    """Short human phrases: "score 12 → 266.7", "+roadmap:now", "-roadmap:later"."""
    parts = []
    if before.score != after.score:
        parts.append(f"score {_num(before.score)} → {_num(after.score)}")
    if before.priority != after.priority:
        parts.append(f"priority {before.priority or '—'} → {after.priority or '—'}")
    parts += [f"+{label}" for label in sorted(after.labels - before.labels)]
    parts += [f"-{label}" for label in sorted(before.labels - after.labels)]
    if before.rank != after.rank:
        parts.append(f"rank {before.rank or '—'} → {after.rank or '—'}")
    if before.explanation != after.explanation:
        parts.append("explanation")
    return parts


def render_plan(
    plan: Plan, fmt: Format, console: Console, report: WriteReport | None = None
) -> None:
    if fmt == "json":
        stream.write_json(console.file, plan_document_stream(plan, report))
        return
    if fmt == "table":
        for warning in plan.warnings:
            console.print(literal(f"warning: {warning}", limit=None))
    elif fmt == "markdown":
        console.file.write(
            "".join(f"> **warning:** {_md(w, limit=None)}\n\n" for w in plan.warnings)
        )
    failed = {f.change.key: f.error for f in (report.failed if report else [])}
    left = {c.key for c in (report.left if report else [])}
    header = ["key", "source", "change", "reason"] + (["status"] if report else [])

    def cells() -> Iterator[list[str]]:
        for c in plan.changes:
            change = ", ".join(describe_outputs_change(c.before, c.after))
            row = [c.key, c.source, change, c.reason]
            if report:
                row.append(
                    f"failed: {failed[c.key]}"
                    if c.key in failed
                    else ("left" if c.key in left else "written")
                )
            yield row

    _render_cells(header, cells(), fmt, console, title=plan_counts(plan))
    if fmt == "table":
        console.print(literal(plan_summary(plan, report), limit=None))


def plan_counts(plan: Plan) -> str:
    """The plan's counts, so that they add up: every item is either to change or unchanged,
    and the items that need input are counted among them, saying so."""
    items = len(plan.changes) + plan.unchanged
    text = f"{items} items: {len(plan.changes)} to change, {plan.unchanged} unchanged"
    if plan.skipped:
        need = len(plan.skipped)
        changing = sum(1 for c in plan.changes if c.key in {s.key for s in plan.skipped})
        text += f"; {need} of the {items} need input ({changing} of them to change)"
    return text


def plan_summary(plan: Plan, report: WriteReport | None = None) -> str:
    """The counts, then how the writes went: written + failed + left = the changes."""
    text = plan_counts(plan)
    if report is not None:
        text += (
            f"; of the {len(plan.changes)} changes: {len(report.written)} written, "
            f"{len(report.failed)} failed, {len(report.left)} left"
        )
        for source, why in report.stopped.items():
            text += f"\nsource {source} stopped writing: {why}"
    return text


# ── fields and check ─────────────────────────────────────────────────────────────────────


def render_fields(
    found: Mapping[str, Sequence[FieldInfo]], fmt: Literal["table", "json"], console: Console
) -> None:
    """Each source's fields, custom ones first, by name."""
    ordered = {
        source: sorted(fields, key=lambda f: (not f.custom, f.name.casefold()))
        for source, fields in found.items()
    }
    if fmt == "json":
        sources = [
            {
                "source": source,
                "fields": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "type": f.type,
                        "options": list(f.options),
                        "custom": f.custom,
                    }
                    for f in fields
                ],
            }
            for source, fields in ordered.items()
        ]
        write_json(console, {"sources": sources})
        return
    for source, fields in ordered.items():
        table = Table(title=literal(f"{source}: {len(fields)} fields"))
        for col in ("name", "id", "type", "options"):
            table.add_column(col, overflow="fold")
        for f in fields:
            table.add_row(
                literal(f.name), literal(f.id), literal(f.type), literal(", ".join(f.options))
            )
        console.print(table)


def render_checks(
    results: Sequence[CheckResult], fmt: Literal["table", "json"], console: Console
) -> None:
    """One line per check: ``ok`` or ``problem``, what, the detail, and the fix."""
    if fmt == "json":
        checks = [{"what": r.what, "ok": r.ok, "detail": r.detail, "fix": r.fix} for r in results]
        write_json(console, {"ok": all(r.ok for r in results), "checks": checks})
        return
    for result in results:
        mark = "ok     " if result.ok else "problem"
        line = f"{mark} {result.what}"
        if result.detail:
            line += f": {result.detail}"
        if result.fix and not result.ok:
            line += f" — fix: {result.fix}"
        console.print(literal(line, limit=None), highlight=False)


# ── shared ───────────────────────────────────────────────────────────────────────────────


def write_json(console: Console, document: Mapping[str, Any]) -> None:
    """JSON for scripts: written as is, not through rich's highlighter, which builds the
    whole document as styled text (three times the memory of the data at 1,000 items)."""
    json.dump(document, console.file, indent=2, ensure_ascii=False)
    console.file.write("\n")


def _render_cells(
    header: list[str], cells: Iterable[list[str]], fmt: Format, console: Console, *, title: str
) -> None:
    # CSV and Markdown are written row by row as the rows are made; a rich table measures
    # every row before it prints the first.
    if fmt == "csv":
        writer = csv.writer(console.file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)
        return
    if fmt == "markdown":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        console.file.write("\n".join(lines))
        stream.write_lines(
            console.file, ("\n| " + " | ".join(_md(c) for c in row) + " |" for row in cells)
        )
        console.file.write("\n")
        return
    table = Table(title=literal(title, limit=None), show_lines=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in cells:
        table.add_row(*(literal(c) for c in row))
    console.print(table)


def _md(text: str, *, limit: int | None = MAX_CELL) -> str:
    """A Markdown table cell that shows ``text`` as text: one line, cut, and the characters
    Markdown (and the HTML it may become) would act on escaped."""
    shown = one_line(text, limit=limit)
    for ch in "\\`*_{}[]<>()#+!|~":
        shown = shown.replace(ch, "\\" + ch)
    return shown


def _num(value: float | None) -> str:
    return "—" if value is None else format_number(value)
