"""`priosync sync`, `plan`, `history` and `revert` as a user runs them: the CLI as a
subprocess against the sandbox Jira served by uvicorn on loopback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from tests.child_env import child_env
from tests.e2e.jira_site import EMAIL, EXPECTED, KEYS, REACH, TOKEN, Site


class TestSync:
    def test_first_sync_writes_expected_values_second_writes_nothing(self, site: Site) -> None:
        """A first sync lands the hand-computed values; a second sends zero write requests."""
        first = site.run("sync", "--format", "json")
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["written"] == 6
        assert report["failed"] == []
        for key, expected in EXPECTED.items():
            assert site.state(key) == (expected[0], expected[1], expected[2], expected[3]), key
        writes = site.writes()
        assert writes == 6

        second = site.run("sync", "--format", "json")
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["changes"] == []
        assert site.writes() == writes

    def test_the_html_report_of_a_sync_shows_what_moved_since_the_last(self, site: Site) -> None:
        """`sync --format html` compares with the sync before it, as `rank --format html` does."""
        assert site.run("sync").returncode == 0
        site.sandbox.human_edit("WEB-6", fields={REACH: 100_000})
        report = site.run("sync", "--format", "html")
        assert report.returncode == 0, report.stderr
        assert "No earlier sync is recorded" not in report.stdout
        assert "<span class=up>↑" in report.stdout

    def test_needs_input_reported_with_reason(self, site: Site) -> None:
        """The plan names each item missing input and why."""
        result = site.run("plan", "--format", "json")
        assert result.returncode == 0, result.stderr
        skipped = json.loads(result.stdout)["skipped"]
        assert [(s["key"], s["source"], s["missing"]) for s in skipped] == [
            ("WEB-5", "web", ["Reach: empty"])
        ]
        assert skipped[0]["title"]  # the title and assignee tell a PM which item and whom to ask
        assert "assignee" in skipped[0]

    def test_plan_detailed_exitcode(self, site: Site) -> None:
        """plan --detailed-exitcode exits 4 with changes pending, 0 once synced; plan writes nothing."""
        assert site.run("plan", "--detailed-exitcode").returncode == 4
        assert site.writes() == 0
        assert site.run("sync").returncode == 0
        assert site.run("plan", "--detailed-exitcode").returncode == 0

    def test_max_writes_budget_then_next_run_finishes(self, site: Site) -> None:
        """--max-writes 2 writes the top two, reports the rest, and the next run finishes."""
        first = site.run("sync", "--max-writes", "2", "--format", "json")
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["written"] == 2
        assert report["left"] == ["WEB-3", "WEB-4", "WEB-6", "WEB-5"]  # unscored last
        assert site.state("WEB-1")[0] == 1000.0
        assert site.state("WEB-3")[0] is None
        second = site.run("sync", "--format", "json")
        assert json.loads(second.stdout)["written"] == 4
        assert all(site.state(k)[:3] == (e[0], e[1], e[2]) for k, e in EXPECTED.items())

    def test_refused_write_fails_that_item_only(self, site: Site) -> None:
        """A priority Jira does not have fails that item with Jira's message; the rest land; exit 3."""
        result = site.run("sync", "--format", "json", top_tier="Urgent")
        assert result.returncode == 3, result.stderr
        report = json.loads(result.stdout)
        assert [f["key"] for f in report["failed"]] == ["WEB-1"]
        assert "priority" in report["failed"][0]["error"].lower()
        assert report["written"] == 5
        assert site.state("WEB-1")[1] == "Low"
        assert site.state("WEB-2")[1] == "High"

    def test_permission_refused_while_writing_exits_2(self, site: Site) -> None:
        """Jira refusing notifyUsers=false (no project admin) stops writing and exits 2, as the
        README promises for refused credentials, with Jira's words and both fixes."""
        site.sandbox.account.project_admin = False
        result = site.run("sync", "--format", "json")
        assert result.returncode == 2, result.stderr
        report = json.loads(result.stdout)
        assert report["written"] == 0
        assert "project-admin" in report["stopped"]["web"]
        assert "notify = true" in report["stopped"]["web"]
        assert all(site.state(k)[0] is None for k in KEYS)  # nothing landed


class TestHistoryAndRevert:
    def test_revert_restores_and_respects_later_edits(self, site: Site) -> None:
        """revert writes back what run 1 replaced, except where a person changed it since."""
        assert site.run("sync").returncode == 0
        site.sandbox.human_edit("WEB-2", fields={"priority": {"name": "Lowest"}})
        result = site.run("revert", "1", "--yes")
        assert result.returncode == 0, result.stderr
        assert site.state("WEB-1") == (None, "Low", {"customer", "roadmap:later"}, None)
        web2 = site.state("WEB-2")
        assert web2[1] == "Lowest"
        assert web2[0] is None
        assert "WEB-2: priority is now 'Lowest'" in result.stdout
        history = site.run("history", "--item", "WEB-1")
        assert history.returncode == 0, history.stderr
        assert "roadmap:later" in history.stdout

    def test_revert_unknown_run(self, site: Site) -> None:
        """Reverting a run that does not exist is a usage error."""
        result = site.run("revert", "99", "--yes")
        assert result.returncode == 1
        assert "no run 99" in result.stderr

    def test_second_revert_says_already_reverted(self, site: Site) -> None:
        """Reverting a run twice writes nothing the second time and says why, in one line."""
        assert site.run("sync").returncode == 0
        assert site.run("revert", "1", "--yes").returncode == 0
        writes = site.writes()
        again = site.run("revert", "1", "--yes")
        assert again.returncode == 0, again.stderr
        assert len(again.stdout.strip().splitlines()) == 1  # not one line per field
        assert "run 1 is already reverted (by run 2" in again.stdout
        assert site.writes() == writes

    def test_dry_run_shows_and_writes_nothing(self, site: Site) -> None:
        """revert --dry-run lists what it would restore and sends no write."""
        assert site.run("sync").returncode == 0
        writes = site.writes()
        result = site.run("revert", "1", "--dry-run")
        assert result.returncode == 0, result.stderr
        assert "restore WEB-1: score 1000 → —" in result.stdout
        assert "dry run: would restore 6 items" in result.stdout
        assert site.writes() == writes
        assert site.run("revert", "1", "--yes").returncode == 0  # not counted as reverted

    def test_off_a_terminal_revert_needs_yes(self, site: Site) -> None:
        """Without a terminal to ask on, revert refuses unless told --yes; nothing is written."""
        assert site.run("sync").returncode == 0
        writes = site.writes()
        result = site.run("revert", "1")
        assert result.returncode == 1
        assert "pass --yes" in result.stderr
        assert site.writes() == writes


class TestSecrets:
    def test_token_never_printed_or_stored(self, site: Site) -> None:
        """The API token appears in no output and nowhere in the audit log."""
        outputs = [
            site.run("sync", "--verbose"),
            site.run("plan", "--verbose"),
            site.run("history"),
        ]
        for result in outputs:
            assert TOKEN not in result.stdout
            assert TOKEN not in result.stderr
        db = sqlite3.connect(site.tmp / "audit.sqlite3")
        dump = "\n".join(db.iterdump())
        assert TOKEN not in dump
        assert "WEB-1" in dump

    def test_wrong_token_exits_2(self, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
        """Refused credentials exit 2 and write nothing."""
        site.sandbox.token = "another-token"
        result = site.run("sync")
        assert result.returncode == 2
        assert site.writes() == 0
        assert TOKEN not in result.stderr


class TestSetupCommands:
    def test_check_passes_on_a_good_site(self, site: Site) -> None:
        """check prints one ok line per thing checked and exits 0."""
        result = site.run("check")
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("ok")
        assert "config" in lines[0]
        assert any("credentials" in line for line in lines)
        assert all(line.startswith("ok") for line in lines)

    def test_check_says_how_long_the_sync_would_write(self, site: Site) -> None:
        """check reads the backlog once and says how many items a sync would write now and
        how long that takes at the pacing (25 writes/s by default); after a sync, none."""
        before = site.run("check")
        line = next(x for x in before.stdout.splitlines() if "write time" in x)
        assert "at 25 writes/s" in line, line
        assert "about" in line
        assert site.run("sync").returncode == 0
        after = site.run("check")
        assert "nothing to write" in after.stdout

    def test_check_names_unknown_field_with_closest(self, site: Site) -> None:
        """A mapped field the site lacks is a problem line naming the closest fields; exit 1."""
        env_run = site.run("check", swap=('reach = "Reach"', 'reach = "Reech"'))
        assert env_run.returncode == 1
        assert "problem" in env_run.stdout
        assert "Reech" in env_run.stdout
        assert "Reach" in env_run.stdout

    def test_fields_lists_options(self, site: Site) -> None:
        """fields shows each field's id, type and select options."""
        result = site.run("fields")
        assert result.returncode == 0, result.stderr
        assert "customfield_10051" in result.stdout
        assert "Massive, High, Medium, Low, Minimal" in result.stdout

    def test_fields_json_lists_every_field_with_its_options(self, site: Site) -> None:
        """fields --format json gives each source's fields as {id, name, type, options, custom}."""
        result = site.run("fields", "--format", "json")
        assert result.returncode == 0, result.stderr
        (source,) = json.loads(result.stdout)["sources"]
        assert source["source"] == "web"
        impact = next(f for f in source["fields"] if f["id"] == "customfield_10051")
        assert impact == {
            "id": "customfield_10051",
            "name": "Impact",
            "type": impact["type"],
            "options": ["Massive", "High", "Medium", "Low", "Minimal"],
            "custom": True,
        }

    def test_check_json_says_ok_and_lists_each_check(self, site: Site) -> None:
        """check --format json has an overall ok and one entry per check; a problem exits 1."""
        good = site.run("check", "--format", "json")
        assert good.returncode == 0, good.stdout
        document = json.loads(good.stdout)
        assert document["ok"] is True
        assert document["checks"][0]["what"] == "config"
        assert set(document["checks"][0]) == {"what", "ok", "detail", "fix"}
        bad = site.run("check", "--format", "json", swap=('reach = "Reach"', 'reach = "Reech"'))
        assert bad.returncode == 1
        problem = next(c for c in json.loads(bad.stdout)["checks"] if not c["ok"])
        assert "Reech" in problem["detail"]

    def test_history_json_gives_runs_with_their_writes(self, site: Site) -> None:
        """history --format json: each run with outcome and counts, each write with its status."""
        assert site.run("sync").returncode == 0
        result = site.run("history", "--format", "json")
        assert result.returncode == 0, result.stderr
        (run,) = json.loads(result.stdout)["runs"]
        assert run["command"] == "sync"
        assert run["outcome"] == "ok"
        assert run["counts"]["written"] == 6
        fields = {(w["item"], w["field"]): w for w in run["writes"]}
        assert fields[("WEB-1", "score")]["new"] == 1000.0
        assert fields[("WEB-1", "score")]["status"] == "ok"
        item = json.loads(site.run("history", "--item", "WEB-1", "--format", "json").stdout)
        assert item["item"] == "WEB-1"
        assert {w["run"] for w in item["writes"]} == {run["id"]}

    def test_init_discovers_the_mapping(self, site: Site) -> None:
        """Given a site and credentials, init asks for the fields and writes a config that checks."""
        target = site.tmp / "new.toml"
        env = child_env(JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "priosync",
                "init",
                "--config",
                str(target),
                "--url",
                site.url,
                "--jql",
                "project = WEB",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "discovered 7 of 7 fields from the tracker" in result.stdout
        text = target.read_text()
        # Found, but not proposed: a rank number rewrites every item below a change;
        # reorder sets the tracker's own order instead.
        assert '\n# rank_field = "Backlog rank"' in text
        assert "\nreorder = true" in text
        assert 'explain_field = "Score rationale"' in text
        check = subprocess.run(
            [sys.executable, "-m", "priosync", "check", "--config", str(target)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert check.returncode == 0, check.stdout
