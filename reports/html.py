"""Render a plan as one self-contained HTML page a PM can open (``priosync rank --format html``).

Pure: no I/O and no clock — the caller passes the time to print. The page has no scripts and
no external assets (inline CSS only), so it can be mailed, attached to a CI run or served
from the status page as is. Every string that came from a tracker is escaped, and only
``http``/``https`` URLs become links.

What it shows, top to bottom: the counts; the ranked backlog with a score bar (log scale, so
a 12,000 and a 60 both stay visible), the explanation and each term; a boundary line wherever
the priority tier or the roadmap bucket changes; the plan's changes highlighted with
before → after; and the items that need input with the reasons. A CSS-only toggle shows
only the changed rows. Rows are grouped in ``<tbody>`` segments with
``content-visibility: auto``, so a browser lays out only what is on screen and the page stays
quick at thousands of items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from html import escape
from urllib.parse import urlsplit

from priosync.domain import Change, Missing, Plan, RankedItem
from reports.dependency_badge import dependency_badge
from reports.text import describe_outputs_change
from scoring import format_number

#: A change is looked up by (source, key): two sources may share a key.
ItemId = tuple[str, str]

_CSS = """
:root{--fg:#1d2430;--muted:#5b6575;--line:#d8dee8;--bar:#3b6fd8;--chg:#fff6d6;--chgb:#e0a800;
--tier:#7a3fd1;--bucket:#0a8a5f;--bad:#b3261e;font:14px/1.4 system-ui,-apple-system,"Segoe UI",
Roboto,"DejaVu Sans",sans-serif;color:var(--fg)}
body{margin:0 auto;max-width:1280px;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:var(--muted);margin:0 0 12px}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 14px;padding:0;list-style:none}
.counts li{border:1px solid var(--line);border-radius:6px;padding:6px 12px}
.counts b{font-size:18px;margin-right:4px}
.legend{color:var(--muted);font-size:12px;margin:6px 0}
.legend span{display:inline-block;padding:0 6px;margin-right:8px;border-radius:3px}
table{border-collapse:collapse;width:100%}
th{position:sticky;top:0;background:#f3f5f9;text-align:left;font-size:12px;color:var(--muted);
padding:6px;border-bottom:2px solid var(--line);z-index:1}
td{padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
tbody.seg{content-visibility:auto;contain-intrinsic-size:auto 600px}
td.r{text-align:right;color:var(--muted);width:3em}
td.k{white-space:nowrap}td.t{min-width:14em}
.bar{background:#e8edf6;border-radius:3px;height:10px;width:140px;margin-top:4px}
.bar i{display:block;height:10px;border-radius:3px;background:var(--bar)}
td.s{white-space:nowrap;width:150px}td.s b{font-variant-numeric:tabular-nums}
.terms{color:var(--muted);font-size:12px}
.terms code{background:#f3f5f9;border-radius:3px;padding:0 4px;margin-right:3px;white-space:nowrap}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid}
.pt{color:var(--tier);border-color:var(--tier)}.pb{color:var(--bucket);border-color:var(--bucket)}
tr.changed td{background:var(--chg)}tr.changed td:first-child{box-shadow:inset 4px 0 var(--chgb)}
.delta{font-size:12px}.delta s{color:var(--muted)}
tr.cut td{background:none;border-bottom:0;padding:10px 6px 2px;font-size:12px;font-weight:600}
tr.cut td{border-top:2px dashed var(--line)}
tr.cut .ct{color:var(--tier)}tr.cut .cb{color:var(--bucket)}
#only-changed:checked~table tbody tr.item:not(.changed){display:none}
.miss{color:var(--bad)}
.none{color:var(--muted);font-style:italic}
"""


def render_html(plan: Plan, *, title: str, generated_at: str) -> str:
    """Return the whole report as one HTML document; every tracker string is escaped."""
    return "".join(html_parts(plan, title=title, generated_at=generated_at))


def html_parts(plan: Plan, *, title: str, generated_at: str) -> Iterator[str]:
    """The report of ``render_html`` in pieces of at most one table segment each, to be
    written as they are made (a 50,000-item report as one string is 60 MB)."""
    changes = index_changes(plan.changes)
    ranked = [r for r in plan.ranking if r.rank is not None]
    unscored = [r for r in plan.ranking if r.rank is None]
    yield "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
    yield '<meta name=viewport content="width=device-width,initial-scale=1">'
    yield "<meta name=color-scheme content=light>"
    yield f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
    yield f"<h1>{escape(title)}</h1>"
    yield f"<p class=meta>Generated {escape(generated_at)} by priosync.</p>"
    yield render_counts(plan, ranked_count=len(ranked))
    yield from ranking_parts(ranked, changes)
    yield render_needs_input(plan, unscored, changes)
    yield "</body></html>\n"


def index_changes(changes: Iterable[Change]) -> dict[ItemId, Change]:
    """Changes by (source, key)."""
    return {(c.source, c.key): c for c in changes}


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


def render_ranking(ranked: Sequence[RankedItem], changes: Mapping[ItemId, Change]) -> str:
    """The ranked table, cut into segments at every tier or bucket boundary."""
    return "".join(ranking_parts(ranked, changes))


def ranking_parts(ranked: Sequence[RankedItem], changes: Mapping[ItemId, Change]) -> Iterator[str]:
    """``render_ranking`` in pieces: the head, then row by row."""
    if not ranked:
        yield "<h2>Ranked backlog</h2><p class=none>No item could be scored.</p>"
        return
    top = max((r.score.value or 0.0) for r in ranked)
    head = (
        "<h2>Ranked backlog</h2>"
        "<input type=checkbox id=only-changed> <label for=only-changed>Show only changed "
        "items</label>"
        '<p class=legend><span class="pill pt">tier</span>priority tier '
        '<span class="pill pb">bucket</span>roadmap bucket '
        '<span style="background:var(--chg)">highlighted</span>the plan changes this item '
        "· bars use a log scale</p>"
        "<table><thead><tr><th>#</th><th>key</th><th>title</th><th>score</th>"
        "<th>priority</th><th>roadmap</th><th>change (before → after)</th></tr></thead>"
    )
    yield head
    for segment in split_segments(ranked):
        yield from segment_parts(segment, changes, top=top)
    yield "</table>"


def split_segments(ranked: Sequence[RankedItem]) -> list[list[RankedItem]]:
    """Consecutive runs of items sharing a tier and bucket, in rank order."""
    segments: list[list[RankedItem]] = []
    for item in ranked:
        if segments and _band(segments[-1][-1]) == _band(item):
            segments[-1].append(item)
        else:
            segments.append([item])
    return segments


def render_segment(
    segment: Sequence[RankedItem], changes: Mapping[ItemId, Change], *, top: float
) -> str:
    """One ``<tbody>``: a boundary row naming the tier and bucket, then the items."""
    return "".join(segment_parts(segment, changes, top=top))


def segment_parts(
    segment: Sequence[RankedItem], changes: Mapping[ItemId, Change], *, top: float
) -> Iterator[str]:
    """``render_segment`` in pieces: the boundary row, then one piece per item."""
    first, last = segment[0], segment[-1]
    span = f"ranks {first.rank}–{last.rank}" if len(segment) > 1 else f"rank {first.rank}"
    yield (
        f"<tbody class=seg><tr class=cut><td colspan=7><span class=ct>priority "
        f"{_text(first.tier)}</span> · <span class=cb>roadmap {_text(first.bucket)}</span> · "
        f"{span}</td></tr>"
    )
    for r in segment:
        yield render_ranked_row(r, changes.get(_id(r)), top=top)
    yield "</tbody>"


def render_ranked_row(ranked: RankedItem, change: Change | None, *, top: float) -> str:
    """One ranked item: rank, link, title with the score's terms, score bar, tier, bucket, change."""
    value = ranked.score.value or 0.0
    css = "item changed" if change else "item"
    return (
        f"<tr class='{css}'><td class=r>{ranked.rank}</td>"
        f"<td class=k>{render_link(ranked.item.key, ranked.item.url)}"
        f"{dependency_badge(ranked)}</td>"
        f"<td class=t>{escape(ranked.item.title)}<div class=terms>{render_terms(ranked)}</div></td>"
        f"<td class=s><b>{escape(format_number(value))}</b>"
        f'<div class=bar><i style="width:{bar_percent(value, top):.1f}%"></i></div></td>'
        f"<td><span class='pill pt'>{_text(ranked.tier)}</span></td>"
        f"<td><span class='pill pb'>{_text(ranked.bucket)}</span></td>"
        f"<td>{render_change(change)}</td></tr>"
    )


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


def render_needs_input(
    plan: Plan, unscored: Sequence[RankedItem], changes: Mapping[ItemId, Change]
) -> str:
    """Items that could not be scored, each with why, so a PM knows what to fill in."""
    rows = [
        (r.item.source, r.item.key, r.item.title, r.item.url, r.score.missing) for r in unscored
    ]
    listed = {(source, key) for source, key, *_ in rows}
    rows += [
        (s.source, s.key, "", "", s.missing)
        for s in plan.skipped
        if (s.source, s.key) not in listed
    ]
    head = f"<h2>Needs input ({len(rows):,})</h2>"
    if not rows:
        return head + "<p class=none>Every item has the inputs its score needs.</p>"
    body = "".join(
        render_missing_row(source, key, title, url, missing, changes.get((source, key)))
        for source, key, title, url, missing in rows
    )
    return (
        head + "<table><thead><tr><th>key</th><th>title</th><th>missing</th>"
        f"<th>change (before → after)</th></tr></thead><tbody class=seg>{body}</tbody></table>"
    )


def render_missing_row(
    source: str,
    key: str,
    title: str,
    url: str,
    missing: Sequence[Missing],
    change: Change | None,
) -> str:
    """One unscored item with each missing input's reason."""
    css = "item changed" if change else "item"
    reasons = "<br>".join(escape(m.reason) for m in missing) or "unscored"
    return (
        f"<tr class='{css}'><td class=k>{render_link(key, url)}</td>"
        f"<td class=t>{escape(title)}<div class=terms>{escape(source)}</div></td>"
        f"<td class=miss>{reasons}</td><td>{render_change(change)}</td></tr>"
    )


def render_link(text: str, url: str) -> str:
    """A link for ``http``/``https`` URLs; anything else (``javascript:``…) is plain text."""
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
