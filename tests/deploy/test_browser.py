"""The HTML report in a real browser: headless Chromium, driven over the DevTools pipe.

No console errors, no refusal by the page's Content-Security-Policy, charts that render, a
filter and sorting that work when a test types and clicks, a page that still reads with
JavaScript off, and at 5,000 items a first paint and a filter action measured (printed,
with a bound well above what this machine takes). With ``PRIOSYNC_UPDATE_DOCS=1`` the
screenshots replace the ones under ``docs/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from pathlib import Path

import pytest

from priosync.domain import Plan
from reports.html import render_html

from .conftest import Browser, Week

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Where the 5,000-item figures are written for the note (and printed with -s).
FIGURES = REPO / ".cache" / "report-figures.json"

#: Type into the search box (or set a control) and wait two frames: the time to a shown result.
FILTER = """(async () => {
  const form = document.getElementById("filters");
  const control = form.elements.namedItem(%(name)s);
  const start = performance.now();
  if (control.type === "checkbox") control.checked = %(value)s; else control.value = %(value)s;
  control.dispatchEvent(new Event(control.type === "search" ? "input" : "change", {bubbles: true}));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return {ms: performance.now() - start, shown: Number(document.body.dataset.shown),
          matched: Number(document.body.dataset.matched)};
})()"""
VISIBLE_KEYS = """Array.from(document.querySelectorAll("#ranking tr.item"))
  .filter((r) => !r.hidden).map((r) => r.cells[1].textContent)"""


def write_report(week: Week, path: Path, *, view: str = "plan") -> Path:
    path.write_text(
        render_html(
            week.plan,
            title="WEB backlog · RICE",
            generated_at="2025-06-02 09:00 UTC",
            settings=week.settings,
            baseline=week.baseline,
            view=view,  # type: ignore[arg-type]
        ),
        encoding="utf-8",
    )
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def filter_by(page: object, name: str, value: object) -> dict[str, float]:
    script = FILTER % {"name": json.dumps(name), "value": json.dumps(value)}
    return page.evaluate(script)  # type: ignore[attr-defined, no-any-return]


def keep(shot: Path, name: str) -> None:
    if os.environ.get("PRIOSYNC_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / name)


class TestReportInChromium:
    def test_shows_the_ranking_without_console_errors(
        self, browser: Browser, week: Week, tmp_path: Path
    ) -> None:
        """Every ranked key is in rank order, the script ran under the CSP, and nothing was logged."""
        with browser.page() as page:
            page.open(write_report(week, tmp_path / "report.html").as_uri())
            keys = page.evaluate(VISIBLE_KEYS)
            assert keys == [r.item.key for r in week.plan.ranking if r.rank is not None]
            assert page.evaluate("document.getElementById('filters').hidden") is False
            assert page.problems() == []

    def test_catches_console_errors_and_refused_scripts(
        self, browser: Browser, tmp_path: Path
    ) -> None:
        """A page that logs, throws, or runs a script its policy refuses fails the same check."""
        page_file = tmp_path / "broken.html"
        page_file.write_text(
            "<!DOCTYPE html><meta http-equiv=Content-Security-Policy content=\"script-src 'none'\">"
            "<p>x</p><script>console.error('bad')</script>"
        )
        loud = tmp_path / "loud.html"
        loud.write_text(
            "<!DOCTYPE html><script>console.error('bad');throw new Error('boom')</script>"
        )
        with browser.page() as page:
            page.open(loud.as_uri())
            problems = page.problems()
            assert "bad" in problems
            assert any("boom" in p for p in problems)
            page.open(page_file.as_uri())
            assert any("Content Security Policy" in p for p in page.problems())

    def test_charts_render(self, browser: Browser, week: Week, tmp_path: Path) -> None:
        """Both charts are laid out with visible bars and the tier boundaries drawn."""
        with browser.page() as page:
            page.open(write_report(week, tmp_path / "report.html").as_uri())
            drawn = page.evaluate(
                """(() => {
                  const box = (sel) => Array.from(document.querySelectorAll(sel))
                    .map((e) => e.getBBox()).filter((b) => b.width > 0 && b.height > 0).length;
                  return {bins: box("svg[data-chart=scores] rect.bin"),
                          cuts: box("svg[data-chart=scores] line.cutline") +
                                document.querySelectorAll("svg[data-chart=scores] line.cutline").length,
                          buckets: box("svg[data-chart=buckets] rect.use"),
                          width: document.querySelector("svg[data-chart=scores]").getBoundingClientRect().width};
                })()"""
            )
            assert drawn["bins"] >= 5
            assert drawn["cuts"] >= 2
            assert drawn["buckets"] == 3
            assert drawn["width"] > 300

    def test_the_filter_and_sorting_work(
        self, browser: Browser, week: Week, tmp_path: Path
    ) -> None:
        """Typing a key, choosing a tier, needs input and "changed" each show exactly the matching rows."""
        ranked = [r for r in week.plan.ranking if r.rank is not None]
        target = ranked[5]
        with browser.page() as page:
            page.open(write_report(week, tmp_path / "report.html").as_uri())
            assert filter_by(page, "q", target.item.key + " ")["shown"] >= 1
            assert target.item.key in page.evaluate(VISIBLE_KEYS)
            filter_by(page, "q", "")
            high = filter_by(page, "tier", "High")
            assert high["shown"] == sum(1 for r in ranked if r.tier == "High")
            filter_by(page, "tier", "")
            needs = filter_by(page, "needs", True)
            assert needs["shown"] == len(week.plan.ranking) - len(ranked) > 0
            filter_by(page, "needs", False)
            changed = filter_by(page, "changed", "plan")
            assert changed["shown"] == len(week.plan.changes) > 0
            moved = filter_by(page, "changed", "moved")
            assert 0 < moved["shown"] < len(ranked)
            filter_by(page, "changed", "")
            page.evaluate("document.querySelector('th[data-sort=score]').click()")
            scores = page.evaluate(
                "Array.from(document.querySelectorAll('#ranking tr.item')).map(r => Number(r.dataset.v))"
            )
            assert scores == sorted(scores)
            page.evaluate("document.querySelector('th[data-sort=score]').click()")
            assert (
                page.evaluate(
                    "document.querySelector('th[data-sort=score]').getAttribute('aria-sort')"
                )
                == "descending"
            )
            page.evaluate("document.querySelector('th[data-sort=rank]').click()")
            assert page.evaluate(VISIBLE_KEYS) == [r.item.key for r in ranked]
            assert page.problems() == []

    def test_reads_without_javascript(self, browser: Browser, week: Week, tmp_path: Path) -> None:
        """With scripts off every row is shown in rank order and the inert filter bar stays hidden."""
        with browser.page() as page:
            page.send("Emulation.setScriptExecutionDisabled", {"value": True})
            page.open(write_report(week, tmp_path / "report.html").as_uri())
            page.send("Emulation.setScriptExecutionDisabled", {"value": False})
            state = page.evaluate(
                """({hidden: document.getElementById("filters").hidden,
                     rows: document.querySelectorAll("tr.item").length,
                     shown: document.body.dataset.shown || null})"""
            )
        assert state["hidden"] is True
        assert state["shown"] is None  # the script never ran
        assert state["rows"] >= len(week.plan.ranking)

    def test_takes_the_readme_screenshots(
        self, browser: Browser, week: Week, tmp_path: Path
    ) -> None:
        """1280×1000 PNGs of the top of the report and of a filtered backlog (docs/ with PRIOSYNC_UPDATE_DOCS=1)."""
        with browser.page() as page:
            page.open(write_report(week, tmp_path / "report.html").as_uri())
            top = page.screenshot(tmp_path / "report.png")
            page.evaluate("document.getElementById('overview').scrollIntoView()")
            overview = page.screenshot(tmp_path / "report-overview.png")
            filter_by(page, "changed", "moved")
            page.evaluate("document.getElementById('backlog').scrollIntoView()")
            filtered = page.screenshot(tmp_path / "report-filter.png")
        for shot in (top, overview, filtered):
            assert png_size(shot) == (1280, 1000)
            assert shot.stat().st_size > 20_000  # a blank page compresses to a few KB
            keep(shot, shot.name)


class TestFiveThousandItems:
    def test_first_paint_and_a_filter_stay_quick(
        self, browser: Browser, big_week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """At 5,000 items the page paints and filters within a second here (the bounds leave CI room)."""
        page_file = write_report(big_week, tmp_path / "big.html", view="rank")
        ranked = sum(1 for r in big_week.plan.ranking if r.rank is not None)
        assert len(big_week.plan.ranking) == 5_000
        with browser.page() as page:
            page.open(page_file.as_uri())
            paint = page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0].startTime"
            )
            search = filter_by(page, "q", "csv")
            cleared = filter_by(page, "q", "")
            tier = filter_by(page, "tier", "Low")
            page.evaluate("document.querySelector('#filters [name=all]').click()")
            every = page.evaluate("Number(document.body.dataset.shown)")
            assert page.problems() == []
        assert 0 < search["matched"] < ranked
        assert cleared["matched"] == 5_000
        assert cleared["shown"] == 500 + 5_000 - ranked  # the top 500, and all needing input
        assert tier["matched"] > 0
        assert every == tier["matched"]
        figures = {
            "items": 5_000,
            "bytes": page_file.stat().st_size,
            "first_contentful_paint_ms": round(paint),
            "search_ms": round(search["ms"]),
            "clear_ms": round(cleared["ms"]),
            "tier_ms": round(tier["ms"]),
        }
        FIGURES.parent.mkdir(exist_ok=True)
        FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
        with capsys.disabled():
            print(f"\nreport at 5,000 items: {figures}")
        assert paint < 5_000
        assert max(search["ms"], cleared["ms"], tier["ms"]) < 2_000


def test_dom_dump_of_a_plan_without_standings(
    browser: Browser, big_plan: Plan, tmp_path: Path
) -> None:
    """The page also renders from a bare plan (no settings, no baseline): every row, no errors."""
    page_file = tmp_path / "bare.html"
    page_file.write_text(render_html(big_plan, title="bare", generated_at="now"))
    shown = browser.open(page_file, "--dump-dom")
    ranked = sum(1 for r in big_plan.ranking if r.rank is not None)
    assert shown.stdout.count('<td class="r">') == ranked
    assert len(re.findall(r'<tr class="item[^"]*" data-s="web" data-n="1"', shown.stdout)) == (
        len(big_plan.ranking) - ranked
    )
    assert browser.console_messages(shown.stderr) == []
