"""Render a plan as one self-contained HTML page a PM can open (``rank``/``plan --format html``,
the service's ``/report``).

Pure: no I/O and no clock — the caller passes the time to print and, to show what moved, the
standings of the last sync. The page has no external assets: its one stylesheet and one
script are inline and admitted by a Content-Security-Policy that names their hashes
(``reports.html_assets``), so it can be mailed, attached to a CI run or served as is. Every
string that came from a tracker is escaped, and only ``http``/``https`` URLs become links.

Top to bottom: warnings; what moved since the last sync (new entrants, tier and bucket
changes, the biggest moves up and down); in the plan view the field changes, with changes
of the rank field alone folded into one line; the overview (counts that add up, capacity
used per bucket, items per tier, a score histogram on a log scale with the tier boundaries,
effort per bucket); the ranked backlog with a filter bar and sortable columns (added by the
script: without it the page reads in rank order) — a score bar on a log scale, each term, a
boundary line wherever the tier or bucket changes, the planned change and the movement per
row; and the items that need input, grouped by assignee so a PM knows whom to ask.

Rows sit in ``<tbody>`` segments with ``content-visibility: auto``, so a browser lays out
only what is on screen and the page stays quick at thousands of items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from html import escape
from typing import Literal
from urllib.parse import urlsplit

from priosync.domain import Change, Missing, Outputs, Plan, RankedItem
from reports.charts import bucket_figure, bucket_load, score_distribution
from reports.dependency_badge import dependency_badge
from reports.html_assets import CSP, CSS, SCRIPT
from reports.literal import DRAFT_PREFIX
from reports.metrics import SourceSplit, split_html
from reports.movement import Move, Movement, compare
from reports.overview import ReportSettings, bucket_use, tier_counts
from reports.text import describe_outputs_change
from scoring import format_number
from sync.standings import Standings

#: A change is looked up by (source, key): two sources may share a key.
ItemId = tuple[str, str]
View = Literal["rank", "plan"]
#: Rows per movement list (new, crossed, up, down); the filter shows every moved item.
MOVES_SHOWN = 10

__all__ = ["ReportSettings", "bar_percent", "render_html", "render_link", "split_segments"]


def render_html(
    plan: Plan,
    *,
    title: str,
    generated_at: str,
    settings: ReportSettings | None = None,
    baseline: Standings | None = None,
    view: View = "rank",
    splits: Sequence[SourceSplit] = (),
) -> str:
    """Return the whole report as one HTML document; every tracker string is escaped.

    ``splits`` (key metrics configured) adds how each bucket's capacity splits across them.
    """
    return "".join(
        html_parts(
            plan,
            title=title,
            generated_at=generated_at,
            settings=settings,
            baseline=baseline,
            view=view,
            splits=splits,
        )
    )


def html_parts(
    plan: Plan,
    *,
    title: str,
    generated_at: str,
    settings: ReportSettings | None = None,
    baseline: Standings | None = None,
    view: View = "rank",
    splits: Sequence[SourceSplit] = (),
) -> Iterator[str]:
    """The report of ``render_html`` in pieces of at most one table row each, to be written
    as they are made (a 50,000-item report as one string is 60 MB)."""
    settings = settings or ReportSettings()
    changes = index_changes(plan.changes)
    ranked = [r for r in plan.ranking if r.rank is not None]
    unscored = [r for r in plan.ranking if r.rank is None]
    movement = compare(plan.ranking, baseline) if baseline is not None else None
    yield "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
    yield f'<meta http-equiv=Content-Security-Policy content="{CSP}">'
    yield '<meta name=viewport content="width=device-width,initial-scale=1">'
    yield "<meta name=color-scheme content=light>"
    yield f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
    yield f"<h1>{escape(title)}</h1>"
    yield f"<p class=meta>Generated {escape(generated_at)} by priosync.</p>"
    yield render_warnings(plan.warnings)
    yield render_movement(movement)
    yield render_changes(plan) if view == "plan" else ""
    yield render_overview(plan, ranked, settings)
    yield split_html(splits)  # key metrics (reports.metrics), kept apart from the layout here
    yield from ranking_parts(plan, ranked, changes, movement)
    yield render_needs_input(plan, unscored, changes)
    yield f"<script>{SCRIPT}</script></body></html>\n"


def index_changes(changes: Iterable[Change]) -> dict[ItemId, Change]:
    """Changes by (source, key)."""
    return {(c.source, c.key): c for c in changes}


def rank_only(change: Change) -> bool:
    """The change writes nothing but the rank field (one new item shifts every rank below)."""
    before, after = change.before, change.after
    return before.rank != after.rank and _without_rank(before) == _without_rank(after)


def _without_rank(outputs: Outputs) -> tuple[object, ...]:
    return (outputs.score, outputs.priority, outputs.labels, outputs.explanation)


# ── warnings and movement ────────────────────────────────────────────────────────────────


def render_warnings(warnings: Sequence[str]) -> str:
    return "".join(f"<p class=warn><b>Warning:</b> {escape(w)}</p>" for w in warnings)


def render_movement(movement: Movement | None) -> str:
    """What moved since the last sync, before anything else: a PM's first question."""
    head = "<section id=movement><h2>Since the last sync</h2>"
    if movement is None:
        return (
            head + "<p class=none>No earlier sync is recorded in this state file, so there is "
            "nothing to compare with yet: movement shows from the next sync on.</p></section>"
        )
    new, crossed, up, down = movement.new, movement.crossed, movement.up, movement.down
    dropped, gone = movement.dropped, movement.gone
    counts = [
        (len(new), "new"),
        (len(crossed), "changed tier or bucket"),
        (len(up), "moved up"),
        (len(down), "moved down"),
        (len(dropped), "now need input"),
        (len(gone), "left the backlog"),
    ]
    summary = (
        f"<p class=meta>Compared with the sync of {escape(_when(movement.since))}: "
        + ", ".join(f"<b>{n:,}</b> {label}" for n, label in counts)
        + ".</p>"
    )
    if not any(n for n, _ in counts):
        return head + summary + "<p class=none>Nothing moved.</p></section>"
    rows = [*(_move_row(m, "tier/bucket") for m in crossed[:MOVES_SHOWN])]
    rows += [_move_row(m, "new") for m in new[:MOVES_SHOWN]]  # a new item crossed nothing
    rows += [_move_row(m, "up") for m in up[:MOVES_SHOWN] if not _listed(m, crossed)]
    rows += [_move_row(m, "down") for m in down[:MOVES_SHOWN] if not _listed(m, crossed)]
    rows += [_move_row(m, "needs input") for m in dropped[:MOVES_SHOWN]]
    rows += [
        f"<tr><td class=m>gone</td><td class=k>{escape(g.key)}</td><td class=t></td>"
        f"<td>was #{g.was.rank} · {_text(g.was.tier)} · {_text(g.was.bucket)}</td></tr>"
        for g in gone[:MOVES_SHOWN]
    ]
    more = sum(n for n, _ in counts) - len(rows)
    tail = (
        f"<p class=legend>The biggest {MOVES_SHOWN} of each kind; choose “moved since the last "
        "sync” in the filter below to see all.</p>"
        if more > 0
        else ""
    )
    return (
        head + summary + "<table class=moves><thead><tr><th>what</th><th>key</th><th>title</th>"
        "<th>then → now</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        + tail + "</section>"
    )  # fmt: skip


def _when(iso: str) -> str:
    """``2025-06-02T09:00:00+00:00`` as ``2025-06-02 09:00 UTC``."""
    if len(iso) >= 16 and iso.endswith("+00:00"):
        return iso[:10] + " " + iso[11:16] + " UTC"
    return iso


def _listed(move: Move, crossed: Sequence[Move]) -> bool:
    return any(m is move for m in crossed)


def _move_row(move: Move, what: str) -> str:
    r, was = move.ranked, move.was
    if was is None or was.rank is None:
        then = f"new at #{r.rank} · {_text(r.tier)} · {_text(r.bucket)}"
    elif r.rank is None:
        then = f"#{was.rank} → needs input"
    else:
        then = f"#{was.rank} → #{r.rank}"
        if move.tier_changed:
            then += f" · tier {_text(was.tier)} → {_text(r.tier)}"
        if move.bucket_changed:
            then += f" · bucket {_text(was.bucket)} → {_text(r.bucket)}"
    return (
        f"<tr><td class=m>{render_move(move) or escape(what)}</td>"
        f"<td class=k>{render_link(r.item.key, r.item.url)}</td>"
        f"<td class=t>{escape(r.item.title)}</td><td>{then}</td></tr>"
    )


def render_move(move: Move | None) -> str:
    """``↑3``, ``↓2`` or ``new``; empty when it stayed put or nothing is compared."""
    if move is None:
        return ""
    if move.is_new:
        return "<span class=new>new</span>"
    if move.places > 0:
        return f"<span class=up>↑{move.places:,}</span>"
    if move.places < 0:
        return f"<span class=down>↓{-move.places:,}</span>"
    return ""


def _move_data(move: Move | None) -> str:
    if move is None:
        return ""
    if move.is_new:
        return "new"
    if move.places or move.tier_changed or move.bucket_changed:
        return str(move.places)
    return ""


# ── the plan's changes ───────────────────────────────────────────────────────────────────


def render_changes(plan: Plan) -> str:
    """Field changes first, one row each; rank-only changes folded into one line."""
    fields = [c for c in plan.changes if not rank_only(c)]
    ranks = [c for c in plan.changes if rank_only(c)]
    head = f"<section id=changes><h2>Changes ({len(plan.changes):,})</h2>"
    if not plan.changes:
        return head + "<p class=none>Nothing to change: every item holds its values.</p></section>"
    table = ""
    if fields:
        table = (
            "<table><thead><tr><th>key</th><th>title</th><th>change (before → after)</th>"
            "<th>why</th></tr></thead><tbody class=seg>"
            + "".join(
                f"<tr class='item changed'><td class=k>{render_link(c.key, c.url)}</td>"
                f"<td class=t>{escape(c.item.title if c.item else '')}</td>"
                f"<td>{render_change(c)}</td><td class=terms>{escape(c.reason)}</td></tr>"
                for c in fields
            )
            + "</tbody></table>"
        )
    folded = ""
    if ranks:
        listed = ", ".join(
            f"{escape(c.key)} {c.before.rank or '—'}→{c.after.rank or '—'}" for c in ranks
        )
        folded = (
            f"<details><summary>{'and ' if fields else ''}{len(ranks):,} "
            f"item{'s' if len(ranks) != 1 else ''} only change their rank field</summary>"
            f"<p class=terms>{listed}</p></details>"
        )
    return head + table + folded + "</section>"


# ── overview ─────────────────────────────────────────────────────────────────────────────


def render_overview(plan: Plan, ranked: Sequence[RankedItem], settings: ReportSettings) -> str:
    """Counts, capacity used per bucket, items per tier, and the two charts."""
    buckets = bucket_use(ranked, settings)
    tiers = tier_counts(ranked, settings)
    bucket_list = "".join(
        f"<li><b>{escape(b.name)}</b>: {escape(bucket_figure(b))}"
        + (" <span class=miss>(one item larger than the capacity)</span>" if b.over else "")
        + "</li>"
        for b in buckets
    )
    tier_list = " ".join(
        f"<li><span class='pill pt'>{escape(name)}</span> {count:,}</li>" for name, count in tiers
    )
    unit = escape(settings.size_unit)
    return (
        "<section id=overview><h2>Overview</h2>"
        + render_counts(plan, ranked_count=len(ranked))
        + "<div class=grid><div><h3>Roadmap: "
        + unit
        + " used per bucket</h3>"
        + (f"<ul class=plain>{bucket_list}</ul>" if bucket_list else "<p class=none>No buckets.</p>")
        + bucket_load(buckets, unit=settings.size_unit)
        + "</div><div><h3>Priority tiers</h3>"
        + (f"<ul class='plain counts'>{tier_list}</ul>" if tier_list else "<p class=none>No tiers.</p>")
        + score_distribution(ranked)
        + "</div></div></section>"
    )  # fmt: skip


def render_counts(plan: Plan, *, ranked_count: int) -> str:
    """The headline numbers, in groups that add up: every item is ranked or needs input, and
    every item is to change or unchanged."""
    items = len(plan.changes) + plan.unchanged
    groups = [
        [(items, "items")],
        [(ranked_count, "ranked"), (len(plan.skipped), "need input")],
        [(len(plan.changes), "to change"), (plan.unchanged, "unchanged")],
    ]
    cards = "".join(
        "<li>" + " · ".join(f"<b>{n:,}</b>{label}" for n, label in group) + "</li>"
        for group in groups
    )
    return f"<ul class=counts>{cards}</ul>"


# ── the ranked backlog ───────────────────────────────────────────────────────────────────


def render_filters(plan: Plan) -> str:
    """The filter bar; ``hidden`` until the script shows it (it does nothing without it)."""
    sources = sorted({r.item.source for r in plan.ranking})
    tiers = list(dict.fromkeys(r.tier for r in plan.ranking if r.tier is not None))
    buckets = list(dict.fromkeys(r.bucket for r in plan.ranking if r.bucket is not None))

    def select(name: str, label: str, options: Sequence[str]) -> str:
        choices = "".join(
            f'<option value="{escape(o, quote=True)}">{escape(o)}</option>' for o in options
        )
        return (
            f"<label>{label} <select name={name}><option value=''>all</option>{choices}"
            "</select></label>"
        )

    return (
        "<form id=filters class=filters hidden role=search>"
        "<label>Search <input type=search name=q placeholder='key, title, assignee…'></label>"
        + select("source", "source", sources)
        + select("tier", "tier", tiers)
        + select("bucket", "bucket", buckets)
        + "<label><input type=checkbox name=needs> needs input</label>"
        "<label>changes <select name=changed><option value=''>all items</option>"
        "<option value=plan>the plan changes a field</option>"
        "<option value=moved>moved since the last sync</option>"
        "<option value=any>either</option></select></label>"
        "<button type=reset>clear</button><output></output>"
        "<button type=button name=all hidden>show all</button></form>"
    )


def ranking_parts(
    plan: Plan,
    ranked: Sequence[RankedItem],
    changes: Mapping[ItemId, Change],
    movement: Movement | None,
) -> Iterator[str]:
    """The ranked backlog section in pieces: the head, then row by row."""
    head = "<section id=backlog><h2>Ranked backlog</h2>" + render_filters(plan)
    if not ranked:
        yield head + "<p class=none>No item could be scored.</p></section>"
        return
    top = max((r.score.value or 0.0) for r in ranked)
    moves = movement.moves if movement is not None else {}
    legend = (
        '<p class=legend><span class="pill pt">tier</span>priority tier '
        '<span class="pill pb">bucket</span>roadmap bucket '
        "<span class=hl>highlighted</span>the plan changes a field of this item "
        "· ↑/↓ places since the last sync · bars use a log scale</p>"
    )
    columns = (
        "<table id=ranking><thead><tr><th data-sort=rank>#</th><th data-sort=key>key</th>"
        "<th data-sort=title>title</th><th data-sort=score>score</th>"
        "<th data-sort=tier>priority</th><th data-sort=bucket>roadmap</th>"
        "<th data-sort=move>moved</th><th>change (before → after)</th></tr></thead>"
    )
    yield head + legend + columns
    for segment in split_segments(ranked):
        yield from segment_parts(segment, changes, moves, top=top)
    yield "</table></section>"


def split_segments(ranked: Sequence[RankedItem]) -> list[list[RankedItem]]:
    """Consecutive runs of items sharing a tier and bucket, in rank order."""
    segments: list[list[RankedItem]] = []
    for item in ranked:
        if segments and _band(segments[-1][-1]) == _band(item):
            segments[-1].append(item)
        else:
            segments.append([item])
    return segments


def segment_parts(
    segment: Sequence[RankedItem],
    changes: Mapping[ItemId, Change],
    moves: Mapping[ItemId, Move],
    *,
    top: float,
) -> Iterator[str]:
    """One tier/bucket segment in pieces: the boundary row, then one piece per item."""
    first, last = segment[0], segment[-1]
    span = f"ranks {first.rank}–{last.rank}" if len(segment) > 1 else f"rank {first.rank}"
    yield (
        f"<tbody class=seg><tr class=cut><td colspan=8><span class=ct>priority "
        f"{_text(first.tier)}</span> · <span class=cb>roadmap {_text(first.bucket)}</span> · "
        f"{span}</td></tr>"
    )
    for r in segment:
        yield render_ranked_row(r, changes.get(_id(r)), moves.get(_id(r)), top=top)
    yield "</tbody>"


def render_ranked_row(
    ranked: RankedItem, change: Change | None, move: Move | None = None, *, top: float
) -> str:
    """One ranked item: rank, link, title with the score's terms, score bar, tier, bucket,
    movement and change."""
    value = ranked.score.value or 0.0
    changed = change is not None and not rank_only(change)
    who = ranked.item.assignee
    return (
        f"<tr class='{'item changed' if changed else 'item'}'{_row_data(ranked, change, move)}>"
        f"<td class=r>{ranked.rank}</td>"
        f"<td class=k>{render_link(ranked.item.key, ranked.item.url)}"
        f"{dependency_badge(ranked)}</td>"
        f"<td class=t>{escape(ranked.item.title)}<div class=terms>{render_terms(ranked)}"
        f"{f' · <span class=who>{escape(who)}</span>' if who else ''}</div></td>"
        f"<td class=s><b>{escape(format_number(value))}</b>"
        f"<div class=bar><i class=w{round(bar_percent(value, top))}></i></div></td>"
        f"<td><span class='pill pt'>{_text(ranked.tier)}</span></td>"
        f"<td><span class='pill pb'>{_text(ranked.bucket)}</span></td>"
        f"<td class=m>{render_move(move)}</td>"
        f"<td>{render_change(change)}</td></tr>"
    )


def _row_data(ranked: RankedItem, change: Change | None, move: Move | None) -> str:
    """The ``data-*`` attributes the filter reads: source, tier, bucket, change, movement."""
    values = {
        "s": ranked.item.source,
        "t": ranked.tier or "",
        "b": ranked.bucket or "",
        "c": "" if change is None else ("r" if rank_only(change) else "f"),
        "m": _move_data(move),
        "n": "1" if ranked.rank is None else "",
        "v": repr(ranked.score.value) if ranked.rank is not None else "",
    }
    return "".join(f' data-{k}="{escape(v, quote=True)}"' for k, v in values.items() if v)


def render_terms(ranked: RankedItem) -> str:
    """The score's explanation, each term as ``name value``, and any scoring notes."""
    terms = "".join(
        f"<code>{escape(name)} {escape(format_number(v))}</code>"
        for name, v in ranked.score.terms.items()
    )
    notes = "".join(f" · {escape(n)}" for n in ranked.score.notes)
    return f"{escape(ranked.score.explanation)} {terms}{notes}"


def render_change(change: Change | None) -> str:
    """``before → after`` phrases for a change, or nothing when the item is unchanged."""
    if change is None:
        return ""
    phrases = describe_outputs_change(change.before, change.after)
    return "<span class=delta>" + escape(", ".join(phrases)) + "</span>"


# ── needs input ──────────────────────────────────────────────────────────────────────────

_Unscored = tuple[str, str, str, str, Sequence[Missing], str | None]


def render_needs_input(
    plan: Plan, unscored: Sequence[RankedItem], changes: Mapping[ItemId, Change]
) -> str:
    """Items that could not be scored, with why, grouped by assignee (unassigned last), so a
    PM knows whom to ask for what."""
    rows: list[_Unscored] = [
        (r.item.source, r.item.key, r.item.title, r.item.url, r.score.missing, r.item.assignee)
        for r in unscored
    ]
    listed = {(source, key) for source, key, *_ in rows}
    rows += [
        (s.source, s.key, "", "", s.missing, None)
        for s in plan.skipped
        if (s.source, s.key) not in listed
    ]
    head = f"<section id=needs><h2>Needs input ({len(rows):,})</h2>"
    if not rows:
        return head + "<p class=none>Every item has the inputs its score needs.</p></section>"
    groups: dict[str | None, list[_Unscored]] = {}
    for row in rows:
        groups.setdefault(row[5], []).append(row)
    order = sorted(groups, key=lambda who: (who is None, -len(groups[who]), who or ""))
    body = "".join(render_group(who, groups[who], changes) for who in order)
    return head + body + "</section>"


def render_group(
    who: str | None, rows: Sequence[_Unscored], changes: Mapping[ItemId, Change]
) -> str:
    """One assignee's items needing input."""
    name = escape(who) if who else "Unassigned"
    return (
        f"<div class=group><h3>{name} · {len(rows):,}</h3>"
        "<table><thead><tr><th>key</th><th>title</th><th>missing</th>"
        "<th>change (before → after)</th></tr></thead><tbody class=seg>"
        + "".join(
            render_missing_row(source, key, title, url, missing, changes.get((source, key)), who)
            for source, key, title, url, missing, who in rows
        )
        + "</tbody></table></div>"
    )


def render_missing_row(
    source: str,
    key: str,
    title: str,
    url: str,
    missing: Sequence[Missing],
    change: Change | None,
    who: str | None = None,
) -> str:
    """One unscored item with each missing input's reason."""
    css = "item changed" if change else "item"
    reasons = "<br>".join(escape(m.reason) for m in missing) or "unscored"
    data = f' data-s="{escape(source, quote=True)}" data-n="1"' + (' data-c="f"' if change else "")
    return (
        f"<tr class='{css}'{data}><td class=k>{render_link(key, url)}</td>"
        f"<td class=t>{escape(title)}<div class=terms>{escape(source)}"
        f"{f' · <span class=who>{escape(who)}</span>' if who else ''}</div></td>"
        f"<td class=miss>{reasons}</td><td>{render_change(change)}</td></tr>"
    )


# ── shared ───────────────────────────────────────────────────────────────────────────────


def render_link(text: str, url: str) -> str:
    """A link for ``http``/``https`` URLs; anything else (``javascript:``…) is plain text.

    A GitHub draft issue (key ``draft:PVTI_…``, no URL) shows as "draft": its title is beside it.
    """
    if text.startswith(DRAFT_PREFIX) and not url:
        return "<span class=draft>draft</span>"
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        return escape(text)
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'


def bar_percent(value: float, top: float) -> float:
    """A bar length in percent of the top score on a log scale; 0 for non-positive scores."""
    if value <= 0 or top <= 0 or not math.isfinite(value) or not math.isfinite(top):
        return 0.0
    return max(1.0, 100.0 * math.log1p(value) / math.log1p(top))


def _band(ranked: RankedItem) -> tuple[str | None, str | None]:
    return ranked.tier, ranked.bucket


def _id(ranked: RankedItem) -> ItemId:
    return ranked.item.source, ranked.item.key


def _text(value: str | None) -> str:
    return "—" if value is None else escape(value)
