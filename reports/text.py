"""Render rankings and plans as a table, JSON, Markdown or CSV (design §6).

JSON is a stable interface for scripts (fields are only ever added):

- ``rank``: ``{"items": [{"key", "title", "url", "source", "rank", "score", "terms",
  "priority", "bucket", "missing", "assignee", "lifted_by", "cycle", "blocked_outside"}]}`` —
  rank 1 is the top; unscored items have ``rank`` and ``score`` null and ``missing`` lists the
  reasons; ``lifted_by`` lists the keys of the items a lifted blocker blocks
  (``scoring.dependencies``), ``cycle`` the dependency cycle it is in, ``blocked_outside`` open
  blockers not ranked. With ``[scoring.metrics]`` each item also has ``metric`` and the
  document ``capacity_by_metric`` (``reports.metrics.split_json``); with
  ``[scoring.freshness]`` each item has ``inputs_changed``, ``inputs_basis``, ``stale``.
- ``plan`` / ``sync``: ``{"changes": [{"key", "source", "url", "title", "before", "after",
  "reason"}], "unchanged", "skipped": [{"key", "source", "title", "assignee", "missing"}],
  "warnings": [...], "failed": [{"key", "source",
  "error"}], "left": [...keys], "written": n}`` where ``before``/``after`` hold ``score``,
  ``priority``, ``labels`` (and ``explanation``/``rank`` when those fields are configured).
  Also ``"moves"`` and ``"move_requests"`` (empty without ``[outputs] reorder``), and after
  a sync ``"moved"``, ``"move_failed"``, ``"moves_left"``: see ``reports.moves``.
- ``fields``: ``{"sources": [{"source", "fields": [{"id", "name", "type", "options",
  "custom"}]}]}``.
- ``check``: ``{"ok": bool, "checks": [{"what", "ok", "detail", "fix"}]}``.
- ``history``: see ``cli.history``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from priosync.domain import CheckResult, FieldInfo, Outputs, Plan, RankedItem, WorkItem
from reports import stream
from reports.literal import MAX_CELL, literal, one_line, shown_key
from reports.metrics import SourceSplit, split_json, split_lines
from reports.moves import describe_move, moves_count, moves_document, moves_summary
from scoring import dependency_notes, format_number
from sync.writer import WriteReport

Format = Literal["table", "json", "markdown", "csv"]

#: Rows a table is printed in at a time (see ``_render_cells``).
TABLE_CHUNK: Final = 500


# ── rank ─────────────────────────────────────────────────────────────────────────────────


def rank_rows(
    ranking: Sequence[RankedItem], *, with_metric: bool = False, with_freshness: bool = False
) -> list[dict[str, Any]]:
    """One row per item; ``metric`` and ``inputs_changed``/``stale`` only when configured."""
    return [rank_row(r, with_metric=with_metric, with_freshness=with_freshness) for r in ranking]


def rank_row(
    r: RankedItem, *, with_metric: bool = False, with_freshness: bool = False
) -> dict[str, Any]:
    """One item of ``rank --format json`` (and of the CSV)."""
    row: dict[str, Any] = {
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
        "assignee": r.item.assignee,
        # Dependencies (scoring.dependencies): who lifted it, its cycle, outside blockers.
        "lifted_by": list(r.lifted_by),
        "cycle": list(r.cycle),
        "blocked_outside": list(r.blocked_outside),
    }
    if with_metric:
        row["metric"] = r.score.metric
    if with_freshness:
        row.update(freshness_fields(r))
    return row


def freshness_fields(r: RankedItem) -> dict[str, Any]:
    """``inputs_changed`` (ISO time), ``inputs_basis`` (tracker, first-seen), ``stale``."""
    fresh = r.score.freshness
    if fresh is None:
        return {"inputs_changed": None, "inputs_basis": None, "stale": None}
    return {
        "inputs_changed": fresh.changed.at.isoformat(),
        "inputs_basis": fresh.changed.basis,
        "stale": fresh.stale,
    }


def render_rank(
    ranking: Sequence[RankedItem],
    fmt: Format,
    console: Console,
    *,
    splits: Sequence[SourceSplit] | None = None,
    with_freshness: bool = False,
) -> None:
    """The ranking; with ``splits`` (key metrics configured) each bucket's split follows."""
    with_metric = splits is not None

    def rows() -> Iterator[dict[str, Any]]:
        for r in ranking:
            yield rank_row(r, with_metric=with_metric, with_freshness=with_freshness)

    if fmt == "json":
        # Row by row (reports.stream): the whole document would outweigh the ranking.
        document: dict[str, Any] = {"items": rows()}
        if splits is not None:
            document["capacity_by_metric"] = split_json(splits)
        stream.write_json(console.file, document)
        return
    if fmt == "csv":
        write_rank_csv(ranking, console, with_metric=with_metric, with_freshness=with_freshness)
        return
    notes = ["; ".join(dependency_notes(r)) for r in ranking]
    header = ["rank", "key", "title", "score", "terms", "priority", "bucket", "missing"]
    # The dependencies column only when there is a note (CSV always has it: a stable shape).
    with_notes = any(notes)
    if with_notes:
        header.append("dependencies")
    if with_metric:
        header.append("metric")
    if with_freshness:
        header.append("inputs")

    def cells() -> Iterator[list[str]]:
        for row, r, note in zip(rows(), ranking, notes, strict=True):
            yield _rank_cells(row, r, note, fmt, with_notes, with_metric, with_freshness)

    _render_cells(header, cells(), fmt, console, title="Ranked backlog", raw={1})
    if splits:
        lines = split_lines(splits)
        if fmt == "table":
            console.print(literal("Capacity by key metric", limit=None))
            for line in lines:
                console.print(literal(f"  {line}", limit=None), highlight=False)
        elif fmt == "markdown":
            console.file.write("\n**Capacity by key metric**\n\n")
            console.file.write("".join(f"- {_md(line, limit=None)}\n" for line in lines))


def _rank_cells(
    row: Mapping[str, Any],
    r: RankedItem,
    note: str,
    fmt: Format,
    with_notes: bool,
    with_metric: bool,
    with_freshness: bool,
) -> list[str]:
    """One ranked item as the table and Markdown show it."""
    cell = [
        "" if row["rank"] is None else str(row["rank"]),
        _key_cell(row["key"], row["title"], row["url"], fmt),
        row["title"],
        "" if row["score"] is None else format_number(row["score"]),
        " ".join(f"{k}={format_number(v)}" for k, v in row["terms"].items()),
        row["priority"] or "",
        row["bucket"] or "",
        "; ".join(row["missing"]),
        *([note] if with_notes else []),
    ]
    if with_metric:
        cell.append(row["metric"] or "")
    if with_freshness:
        cell.append(inputs_cell(r))
    return cell


def inputs_cell(r: RankedItem) -> str:
    """``stale 134 d``, ``45 d`` or ``≥ 45 d`` (first seen by priosync); empty when unknown."""
    fresh = r.score.freshness
    if fresh is None:
        return ""
    age = f"{'≥ ' if fresh.changed.basis == 'first-seen' else ''}{fresh.days} d"
    return f"stale {age}" if fresh.stale else age


#: The CSV's fixed columns; each score term gets a column of its own after ``score``.
RANK_CSV_COLUMNS = ("rank", "key", "title", "url", "source", "score")
RANK_CSV_TAIL = ("priority", "bucket", "assignee", "missing", "dependencies")
#: Columns the CSV gains when ``[scoring.metrics]`` / ``[scoring.freshness]`` are configured.
RANK_CSV_OPTIONAL = ("metric", "inputs_changed", "inputs_basis", "stale")


def write_rank_csv(
    ranking: Sequence[RankedItem],
    console: Console,
    *,
    with_metric: bool = False,
    with_freshness: bool = False,
) -> None:
    """One row per item, one column per score term (reach, impact, …), numbers unformatted;
    written row by row."""
    terms = list(dict.fromkeys(name for r in ranking for name in r.score.terms))
    optional = [
        c
        for c in RANK_CSV_OPTIONAL
        if (c == "metric" and with_metric) or (c != "metric" and with_freshness)
    ]
    fixed = set(RANK_CSV_COLUMNS) | set(RANK_CSV_TAIL) | set(optional)
    names = [f"term_{t}" if t in fixed else t for t in terms]
    writer = csv.writer(console.file, lineterminator="\n")
    writer.writerow([*RANK_CSV_COLUMNS, *names, *RANK_CSV_TAIL, *optional])
    for item in ranking:
        r = rank_row(item, with_metric=with_metric, with_freshness=with_freshness)
        writer.writerow(
            [
                *("" if r[c] is None else _csv_value(r[c]) for c in RANK_CSV_COLUMNS),
                *("" if r["terms"].get(t) is None else _csv_value(r["terms"][t]) for t in terms),
                r["priority"] or "",
                r["bucket"] or "",
                r["assignee"] or "",
                "; ".join(r["missing"]),
                "; ".join(dependency_notes(item)),
                *("" if r[c] is None else _csv_value(r[c]) for c in optional),
            ]
        )


def _csv_value(value: Any) -> str:
    """A number as Python writes it (``266.7``, ``500``), text as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
    wanted = {(s.source, s.key) for s in plan.skipped}
    skipped_items = {
        (r.item.source, r.item.key): r.item
        for r in plan.ranking
        if (r.item.source, r.item.key) in wanted
    }
    doc: dict[str, Any] = {
        "changes": (
            {
                "key": c.key,
                "source": c.source,
                "url": c.url,
                "title": c.item.title if c.item is not None else "",
                "before": outputs_json(c.before),
                "after": outputs_json(c.after),
                "reason": c.reason,
            }
            for c in plan.changes
        ),
        "unchanged": plan.unchanged,
        "skipped": (
            {
                "key": s.key,
                "source": s.source,
                "title": _item_title(skipped_items.get((s.source, s.key))),
                "assignee": _item_assignee(skipped_items.get((s.source, s.key))),
                "missing": [m.reason for m in s.missing],
            }
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
    doc.update(moves_document(plan, report))
    return doc


def _item_title(item: WorkItem | None) -> str:
    return item.title if item is not None else ""


def _item_assignee(item: WorkItem | None) -> str | None:
    return item.assignee if item is not None else None


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
    header = ["key", "source", "change", "reason"] + (["status"] if report else [])
    if fmt == "csv":
        header[2:2] = ["url", "title"]

    def row(
        key: str, source: str, url: str, item: WorkItem | None, what: str, reason: str
    ) -> list[str]:
        title = item.title if item is not None else ""
        out = [_key_cell(key, title, url, fmt), source, what, reason]
        if fmt == "csv":
            out[2:2] = [url, title]
        return out

    def cells() -> Iterator[list[str]]:
        failed = {f.change.key: f.error for f in (report.failed if report else [])}
        left = {c.key for c in (report.left if report else [])}
        for c in plan.changes:
            what = ", ".join(describe_outputs_change(c.before, c.after))
            out = row(c.key, c.source, c.url, c.item, what, c.reason)
            if report:
                out.append(_status(c.key, failed, left, done="written"))
            yield out
        failed = {f.move.key: f.error for f in (report.move_failed if report else [])}
        left = {m.key for m in (report.moves_left if report else [])}
        for m in plan.moves:
            out = row(m.key, m.source, m.url, m.item, describe_move(m), m.reason)
            if report:
                out.append(_status(m.key, failed, left, done="moved"))
            yield out

    if fmt == "markdown" and not plan.changes and not plan.moves:
        console.file.write(f"**{plan_counts(plan)}**\n\nNothing to change: {_nothing(plan)}\n")
        return
    _render_cells(header, cells(), fmt, console, title=plan_counts(plan), raw={0})
    if fmt == "table":
        console.print(literal(plan_summary(plan, report), limit=None))


def _status(key: str, failed: Mapping[str, object], left: Collection[str], *, done: str) -> str:
    """After a sync: ``failed: why``, ``left``, or ``done`` (written, moved)."""
    return f"failed: {failed[key]}" if key in failed else ("left" if key in left else done)


def _nothing(plan: Plan) -> str:
    """Why an empty plan is empty, in words."""
    if not plan.unchanged:
        return "no items were read."
    every = "the item holds" if plan.unchanged == 1 else f"all {plan.unchanged:,} items hold"
    return f"{every} the values a sync would write."


def plan_counts(plan: Plan) -> str:
    """The plan's counts, so that they add up: every item is either to change or unchanged,
    and the items that need input are counted among them, saying so."""
    items = len(plan.changes) + plan.unchanged
    text = f"{items} items: {len(plan.changes)} to change, {plan.unchanged} unchanged"
    if plan.skipped:
        need = len(plan.skipped)
        changing = sum(1 for c in plan.changes if c.key in {s.key for s in plan.skipped})
        text += f"; {need} of the {items} need input ({changing} of them to change)"
    return text + moves_count(plan)


def plan_summary(plan: Plan, report: WriteReport | None = None) -> str:
    """The counts, then how the writes went: written + failed + left = the changes."""
    text = plan_counts(plan)
    if report is not None:
        text += (
            f"; of the {len(plan.changes)} changes: {len(report.written)} written, "
            f"{len(report.failed)} failed, {len(report.left)} left"
        ) + moves_summary(plan, report)
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


def _key_cell(key: str, title: str, url: str, fmt: Format) -> str:
    """The key column: a draft by its title; in Markdown a link to the item (already escaped)."""
    shown = shown_key(key, title)
    if fmt != "markdown":
        return shown
    text = _md(shown)
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        return text
    target = quote(url, safe=":/?#[]@!$&'*+,;=%~-._")
    return f"[{text}]({target.replace('(', '%28').replace(')', '%29')})"


def _render_cells(
    header: list[str],
    cells: Iterable[list[str]],
    fmt: Format,
    console: Console,
    *,
    title: str,
    raw: Collection[int] = (),
) -> None:
    """``raw``: columns already rendered for Markdown (links), not escaped again. CSV and
    Markdown are written row by row as the rows are made; a rich table measures every row
    before it prints the first."""
    if fmt == "csv":
        writer = csv.writer(console.file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)
        return
    if fmt == "markdown":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        console.file.write("\n".join(lines))
        stream.write_lines(
            console.file,
            (
                "\n| " + " | ".join(c if i in raw else _md(c) for i, c in enumerate(row)) + " |"
                for row in cells
            ),
        )
        console.file.write("\n")
        return
    rows = iter(cells)
    first = list(islice(rows, TABLE_CHUNK))
    if len(first) < TABLE_CHUNK:
        console.print(_table(header, first, title=title))
        return
    # A rich table measures every row before it prints the first (50,000 rows: ~440 MiB).
    # A long one is printed TABLE_CHUNK rows at a time, each chunk with the column widths the
    # first chunk needed (later text folds within them), without the outer frame so the
    # chunks read as one table.
    widths = [
        max(cell_len(one_line(c)) for c in (name, *(row[i] for row in first)))
        for i, name in enumerate(header)
    ]
    chunk, heading = first, True
    while chunk:
        console.print(_table(header, chunk, title=title if heading else None, widths=widths))
        chunk, heading = list(islice(rows, TABLE_CHUNK)), False


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    title: str | None,
    widths: Sequence[int] | None = None,
) -> Table:
    """A rich table of text cells; with ``widths``, one chunk of a long table (no frame,
    fixed column widths, the header only under the title)."""
    table = Table(
        title=None if title is None else literal(title, limit=None),
        show_header=title is not None,
        show_edge=widths is None,
        show_lines=False,
    )
    for n, name in enumerate(header):
        table.add_column(name, width=None if widths is None else widths[n], overflow="fold")
    for row in rows:
        table.add_row(*(literal(c) for c in row))
    return table


def _md(text: str, *, limit: int | None = MAX_CELL) -> str:
    """A Markdown table cell that shows ``text`` as text: one line, cut, and the characters
    Markdown (and the HTML it may become) would act on escaped."""
    shown = one_line(text, limit=limit)
    for ch in "\\`*_{}[]<>()#+!|~":
        shown = shown.replace(ch, "\\" + ch)
    return shown


def _num(value: float | None) -> str:
    return "—" if value is None else format_number(value)
