"""The HTML report's one stylesheet and one script, and the Content-Security-Policy for them.

Both are inline (the page is one file that can be mailed or attached to a CI run), and the
policy admits exactly these two by their SHA-256 and nothing else: no other script, no
style attribute, no request to any host. Tracker text is escaped anyway; the policy is the
second lock. The script only adds filtering and sorting: without it the page shows
everything, in rank order.
"""

from __future__ import annotations

import base64
import hashlib

#: Score bars are drawn with classes ``w0``…``w100`` (percent), not a style attribute.
_BAR_WIDTHS = "".join(f".w{n}{{width:{n}%}}" for n in range(101))

CSS = (
    """
:root{--fg:#1d2430;--muted:#5b6575;--line:#d8dee8;--bar:#3b6fd8;--chg:#fff6d6;--chgb:#e0a800;
--tier:#7a3fd1;--bucket:#0a8a5f;--bad:#b3261e;--up:#0a7a3f;--down:#b3261e;
font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg)}
body{margin:0 auto;max-width:1280px;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}
h3{font-size:14px;margin:14px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}
.warn{border:1px solid var(--chgb);background:var(--chg);border-radius:6px;padding:6px 10px;
margin:6px 0}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 14px;padding:0;list-style:none}
.counts li{border:1px solid var(--line);border-radius:6px;padding:6px 12px}
.counts b{font-size:18px;margin-right:4px}
.grid{display:flex;flex-wrap:wrap;gap:8px 32px}.grid>div{flex:1 1 480px}
.plain{list-style:none;padding:0;margin:4px 0}.plain li{margin:2px 0}
.legend{color:var(--muted);font-size:12px;margin:6px 0}
.legend span{padding:0 6px;margin-right:8px;border-radius:3px}.legend .hl{background:var(--chg)}
table{border-collapse:collapse;width:100%}
#ranking{table-layout:fixed}#ranking th:nth-child(1){width:3em}#ranking th:nth-child(2){width:8em}
#ranking th:nth-child(4){width:150px}#ranking th:nth-child(5){width:6.5em}
#ranking th:nth-child(6){width:6em}#ranking th:nth-child(7){width:4.5em}
#ranking th:nth-child(8){width:22%}#ranking td{overflow-wrap:anywhere}
th{position:sticky;top:0;background:#f3f5f9;text-align:left;font-size:12px;color:var(--muted);
padding:6px;border-bottom:2px solid var(--line);z-index:1}
th[data-sort]{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
td{padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
tbody.seg{content-visibility:auto;contain-intrinsic-size:auto 600px}
td.r{text-align:right;color:var(--muted);width:3em}
td.k{white-space:nowrap}td.t{min-width:14em}td.m{white-space:nowrap;font-size:12px}
.up{color:var(--up)}.down{color:var(--down)}.new{color:var(--bucket);font-weight:600}
.bar{background:#e8edf6;border-radius:3px;height:10px;width:140px;margin-top:4px}
.bar i{display:block;height:10px;border-radius:3px;background:var(--bar)}
td.s{white-space:nowrap;width:150px}td.s b{font-variant-numeric:tabular-nums}
.terms{color:var(--muted);font-size:12px}
.terms code{background:#f3f5f9;border-radius:3px;padding:0 4px;margin-right:3px;white-space:nowrap}
.who{color:var(--muted);font-size:12px;white-space:nowrap}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid}
.pt{color:var(--tier);border-color:var(--tier)}.pb{color:var(--bucket);border-color:var(--bucket)}
tr.changed td{background:var(--chg)}tr.changed td:first-child{box-shadow:inset 4px 0 var(--chgb)}
.delta{font-size:12px}
tr.cut td{background:none;border-bottom:0;padding:10px 6px 2px;font-size:12px;font-weight:600}
tr.cut td{border-top:2px dashed var(--line)}
tr.cut .ct{color:var(--tier)}tr.cut .cb{color:var(--bucket)}
table.sorted tr.cut{display:none}
.miss{color:var(--bad)}
.none{color:var(--muted);font-style:italic}
details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}
form.filters{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center;margin:6px 0 10px;
padding:8px 10px;background:#f3f5f9;border-radius:6px}
form.filters input[type=search]{min-width:16em}
form.filters output{color:var(--muted);font-size:12px}
svg.chart{max-width:100%;height:auto;font-size:11px}
svg .axis{stroke:var(--muted)}svg .bin{fill:var(--bar)}svg .tick,svg .label{fill:var(--muted)}
svg .cutline{stroke:var(--tier);stroke-dasharray:4 3}svg .cutname{fill:var(--tier)}
svg .cap{fill:none;stroke:var(--bucket);stroke-dasharray:3 2}svg .use{fill:var(--bucket)}
svg .use.over{fill:var(--bad)}svg .mid{text-anchor:middle}svg .end{text-anchor:end}
"""
    + _BAR_WIDTHS
    + "\n"
)

SCRIPT = """
(() => {
  "use strict";
  const form = document.getElementById("filters");
  const table = document.getElementById("ranking");
  if (!form) return;
  form.hidden = false;
  const rows = Array.from(document.querySelectorAll("tr.item"));
  const text = new Map(rows.map((r) => [r, r.textContent.toLowerCase()]));
  const segments = Array.from(document.querySelectorAll("tbody.seg"));
  const groups = Array.from(document.querySelectorAll(".group"));
  const shownOut = form.querySelector("output");
  const field = (name) => form.elements.namedItem(name);
  const changed = (d, how) =>
    how === "plan" ? d.c === "f" : how === "moved" ? !!d.m : how === "any" ? !!(d.c || d.m) : true;

  // Laying out thousands of rows takes seconds on a small machine: the ranked table shows
  // at most LIMIT matches until "show all" is pressed. The search still looks at every row.
  const LIMIT = 500;
  const ranked = new Set(table ? table.querySelectorAll("tr.item") : []);
  const more = field("all");
  let all = false;

  function apply() {
    const q = field("q").value.trim().toLowerCase();
    const source = field("source").value, tier = field("tier").value;
    const bucket = field("bucket").value, how = field("changed").value;
    const needs = field("needs").checked;
    let shown = 0, matched = 0, listed = 0;
    for (const row of document.querySelectorAll("tr.item")) {  // in the order shown
      const d = row.dataset;
      const ok = (!q || text.get(row).includes(q)) && (!source || d.s === source) &&
        (!tier || d.t === tier) && (!bucket || d.b === bucket) &&
        (!needs || d.n === "1") && changed(d, how);
      let show = ok;
      if (ok && ranked.has(row)) show = all || listed++ < LIMIT;
      if (row.hidden === show) row.hidden = !show;
      if (ok) matched++;
      if (show) shown++;
    }
    for (const part of segments.concat(groups)) {
      part.hidden = !part.querySelector("tr.item:not([hidden])");
    }
    const n = (x) => x.toLocaleString("en");
    shownOut.value = shown < matched
      ? n(shown) + " of " + n(matched) + " matching items shown (of " + n(rows.length) + ")"
      : n(matched) + " of " + n(rows.length) + " items shown";
    more.hidden = shown === matched;
    document.body.dataset.shown = String(shown);
    document.body.dataset.matched = String(matched);
  }

  more.addEventListener("click", () => { all = true; apply(); });
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener("reset", () => { all = false; setTimeout(apply); });

  if (!table) { apply(); return; }
  const items = Array.from(table.querySelectorAll("tr.item"));
  const home = items.map((r) => r.parentNode);
  const order = new Map(items.map((r, i) => [r, i]));
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  let sorted = null;
  const value = {
    rank: (r) => order.get(r),
    key: (r) => r.cells[1].textContent,
    title: (r) => r.cells[2].firstChild ? r.cells[2].firstChild.textContent : "",
    score: (r) => Number(r.dataset.v),
    tier: (r) => r.dataset.t || "",
    bucket: (r) => r.dataset.b || "",
    move: (r) => r.dataset.m === "new" ? 1e9 : Number(r.dataset.m || 0),
  };

  function sortBy(th) {
    const key = th.dataset.sort;
    const asc = th.getAttribute("aria-sort") !== "ascending";
    for (const other of table.querySelectorAll("th[data-sort]")) other.removeAttribute("aria-sort");
    if (key === "rank" && asc) {
      items.forEach((r, i) => home[i].appendChild(r));
      table.classList.remove("sorted");
      if (sorted) { sorted.remove(); sorted = null; }
      th.setAttribute("aria-sort", "ascending");
      apply();
      return;
    }
    const get = value[key];
    const numeric = key === "rank" || key === "score" || key === "move";
    const list = items.slice().sort((a, b) => {
      const x = get(a), y = get(b);
      const c = numeric ? x - y : collator.compare(x, y);
      return (asc ? c : -c) || order.get(a) - order.get(b);
    });
    if (!sorted) {
      sorted = document.createElement("tbody");
      table.appendChild(sorted);
    }
    for (const r of list) sorted.appendChild(r);
    table.classList.add("sorted");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    apply();
  }

  for (const th of table.querySelectorAll("th[data-sort]")) {
    th.tabIndex = 0;
    th.title = "Sort by " + th.textContent;
    th.addEventListener("click", () => sortBy(th));
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") sortBy(th); });
  }
  apply();
})();
"""


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


#: Only the page's own stylesheet and script; no fetch, frame, form target or base URL.
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{_sha256(CSS)}'; "
    f"script-src 'sha256-{_sha256(SCRIPT)}'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)
