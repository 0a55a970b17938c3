"""The HTML report in a real browser: headless Chromium shows the ranking without errors."""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path
from typing import Any

from priosync.domain import Plan
from reports.html import render_html

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "report.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_report(plan: Plan, path: Path) -> Path:
    path.write_text(
        render_html(plan, title="WEB backlog · RICE", generated_at="2025-06-02 09:00 UTC"),
        encoding="utf-8",
    )
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class TestReportInChromium:
    def test_shows_the_ranking_without_console_errors(
        self, browser: Any, sandbox_plan: Plan, tmp_path: Path
    ) -> None:
        """Chromium's DOM holds every ranked key in rank order, and the console stays silent."""
        page = write_report(sandbox_plan, tmp_path / "report.html")
        shown = browser.open(page, "--dump-dom")
        keys = re.findall(r'<td class="k"><a href="[^"]+">([^<]+)</a>', shown.stdout)
        ranked = [r.item.key for r in sandbox_plan.ranking if r.rank is not None]
        assert keys[: len(ranked)] == ranked
        assert "<h1>WEB backlog · RICE</h1>" in shown.stdout
        assert shown.stdout.count('class="item changed"') == len(sandbox_plan.changes)
        assert browser.console_messages(shown.stderr) == []

    def test_detects_console_errors(self, browser: Any, tmp_path: Path) -> None:
        """A page that logs an error and throws is caught by the same check (the check can fail)."""
        page = tmp_path / "broken.html"
        page.write_text(
            "<!DOCTYPE html><p>x</p><script>console.error('bad');throw new Error('boom')</script>"
        )
        messages = browser.console_messages(browser.open(page, "--dump-dom").stderr)
        assert any("Uncaught Error: boom" in m for m in messages)
        assert any('"bad"' in m for m in messages)

    def test_opens_a_report_of_three_thousand_items(
        self, browser: Any, tmp_path: Path, big_plan: Plan
    ) -> None:
        """Over two thousand ranked items load completely in the browser, still without console errors."""
        page = write_report(big_plan, tmp_path / "big.html")
        shown = browser.open(page, "--dump-dom")
        ranked = sum(1 for r in big_plan.ranking if r.rank is not None)
        assert ranked > 2_000
        assert shown.stdout.count('<td class="r">') == ranked
        assert shown.stdout.count('<td class="miss">') == len(big_plan.ranking) - ranked
        assert browser.console_messages(shown.stderr) == []

    def test_takes_the_readme_screenshot(
        self, browser: Any, sandbox_plan: Plan, tmp_path: Path
    ) -> None:
        """The screenshot is a 1280×1000 PNG; with PRIOSYNC_UPDATE_DOCS=1 it replaces docs/report.png."""
        page = write_report(sandbox_plan, tmp_path / "report.html")
        shot = tmp_path / "report.png"
        browser.open(page, "--window-size=1280,1000", f"--screenshot={shot}")
        assert png_size(shot) == (1280, 1000)
        assert shot.stat().st_size > 20_000  # a blank page compresses to a few KB
        if os.environ.get("PRIOSYNC_UPDATE_DOCS") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)
