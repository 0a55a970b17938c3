"""Tracker text is data, never markup: titles and tracker errors a person typed are shown
exactly, never parsed by the terminal renderer, in every command that shows them."""

from __future__ import annotations

from tests.e2e.jira_site import Site

TRICKY = {
    "WEB-1": "Broken link to [/docs/setup]",
    "WEB-2": "Support [x] checkboxes",
    "WEB-3": "[bold red]alarm[/bold red] \x1b[2J clears the screen",
}


def retitle(site: Site, titles: dict[str, str]) -> None:
    for key, title in titles.items():
        site.sandbox.human_edit(key, fields={"summary": title})


class TestTrackerTextIsLiteral:
    def test_rank_shows_titles_as_typed(self, site: Site) -> None:
        """Square brackets in titles are shown as they are; an escape sequence is escaped."""
        retitle(site, TRICKY)
        result = site.run("rank")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        flat = " ".join(result.stdout.split())
        assert "Broken link to [/docs/setup]" in flat
        assert "Support [x] checkboxes" in flat
        assert "[bold red]alarm[/bold red]" in flat
        assert "\x1b" not in result.stdout
        assert "\\x1b[2J" in flat

    def test_a_long_title_is_cut_in_the_table(self, site: Site) -> None:
        """A 100,000-character title is cut in the table, so the output stays small."""
        retitle(site, {"WEB-1": "x" * 100_000})
        result = site.run("rank")
        assert result.returncode == 0, result.stderr
        assert len(result.stdout) < 20_000
        assert "…" in result.stdout

    def test_tracker_errors_with_brackets_are_reported_and_kept(self, site: Site) -> None:
        """A refused write whose message holds [/] is reported (exit 3, not a crash) and
        `history --item` shows it from the audit log afterwards."""
        tier = ('"High"', '"Hi[/]gh"')
        result = site.run("sync", swap=tier)
        assert result.returncode == 3, result.stderr
        assert "Traceback" not in result.stderr
        assert "Hi[/]gh" in " ".join(result.stdout.split())
        history = site.run("history", "--item", "WEB-2", swap=tier)
        assert history.returncode == 0, history.stderr
        assert "Hi[/]gh" in " ".join(history.stdout.split())
