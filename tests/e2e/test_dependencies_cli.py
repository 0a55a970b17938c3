"""Blockers come first, as a user sees it: the CLI as a subprocess against the sandbox Jira,
the sandbox GitHub and a Jira CSV export, with blocking links in each."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env
from tests.e2e.jira_site import Site

GITHUB_CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
priority_field = "Priority"
explain_field = "Score rationale"
label_prefix = "roadmap:"
priority = [{{ name = "Highest", top = 3 }}, {{ name = "High", top_percent = 40 }}, {{ name = "Low" }}]
roadmap = [{{ name = "now", top = 3 }}, {{ name = "next", top = 8 }}, {{ name = "later" }}]

[[sources]]
name = "app"
kind = "github"
project = "acme/1"
api_url = "{github}"
"""

CSV_CONFIG = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { High = 2, Low = 0.5 }

[outputs]
priority_field = "Priority"
priority = [{ name = "High", min_score = 100 }, { name = "Low" }]
roadmap = [{ name = "now", top = 2 }, { name = "later" }]

[[sources]]
name = "export"
kind = "file"
path = "export.csv"
"""

EXPORT = """\
Summary,Issue key,Issue id,Custom field (Reach),Custom field (Impact),Custom field (Confidence),\
Custom field (Effort),Outward issue link (Blocks),Inward issue link (Blocks)
Checkout,SHOP-1,101,500,High,100%,2,,102
Payments API,SHOP-2,102,10,Low,100%,1,SHOP-1,
Search,SHOP-3,103,300,High,100%,2,,
"""


def priosync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(GITHUB_TOKEN="sandbox-token", PRIOSYNC_STATE=str(config.parent / "audit.db"))
    return subprocess.run(
        [sys.executable, "-m", "priosync", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def rank_json(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {i["key"]: i for i in json.loads(result.stdout)["items"]}


class TestJira:
    """WEB-6 (score 25) blocks WEB-2 (score 400): it is written as High · now."""

    def test_a_lifted_blocker_is_written_and_a_second_sync_writes_nothing(self, site: Site) -> None:
        """The blocker lands above what it blocks, with the why in its explanation; the items
        it displaced say so in the plan; a second sync sends no write."""
        site.sandbox.link("WEB-6", "WEB-2")
        plan = json.loads(site.run("plan", "--format", "json").stdout)
        reasons = {c["key"]: c["reason"] for c in plan["changes"]}
        assert reasons["WEB-6"] == (
            "RICE 50×0.25×1/0.5 = 25 · rank 2/5 · lifted: blocks WEB-2 · High · now "
            "(Low · later without lifting)"
        )
        assert reasons["WEB-2"].endswith("· High · next (now without lifting)")

        first = site.run("sync", "--format", "json")
        assert first.returncode == 0, first.stderr
        assert site.state("WEB-6") == (
            25.0,
            "High",
            {"roadmap:now"},
            "RICE 50×0.25×1/0.5 = 25 · lifted: blocks WEB-2 · High · now",
        )
        assert site.state("WEB-2")[1:] == (
            "High",
            {"roadmap:next"},
            "RICE 500×1×0.8/1 = 400 · High · next",
        )
        assert site.state("WEB-3")[2] == {"roadmap:later"}
        writes = site.writes()
        second = site.run("sync", "--format", "json")
        assert json.loads(second.stdout)["changes"] == []
        assert site.writes() == writes

        ranked = rank_json(site.run("rank", "--format", "json"))
        assert ranked["WEB-6"]["lifted_by"] == ["WEB-2"]
        assert ranked["WEB-6"]["rank"] == 2

    def test_a_finished_blocker_no_longer_lifts(self, site: Site) -> None:
        """Once the blocked item is Done, the link no longer counts."""
        site.sandbox.link("WEB-6", "WEB-2")
        site.sandbox.set_status("WEB-2", "Done")
        ranked = rank_json(site.run("rank", "--format", "json"))
        assert ranked["WEB-6"]["lifted_by"] == []

    def test_a_cycle_is_reported_by_plan_and_check_and_changes_nothing(self, site: Site) -> None:
        """WEB-1 and WEB-3 block each other: plan warns once, check fails naming both, the
        ranking is the plain one and each explanation names the cycle."""
        site.sandbox.link("WEB-1", "WEB-3")
        site.sandbox.link("WEB-3", "WEB-1")
        plan = site.run("plan")
        assert plan.returncode == 0, plan.stderr
        warning = (
            "dependency cycle: WEB-1, WEB-3 block each other, so these links are ignored "
            "for ordering; remove one of them"
        )
        assert plan.stdout.count("dependency cycle: WEB-1, WEB-3") == 1
        assert warning in " ".join(plan.stdout.split())
        check = site.run("check")
        assert check.returncode == 1
        problems = [line for line in check.stdout.splitlines() if line.startswith("problem")]
        assert len(problems) == 1
        assert "dependencies: dependency cycle: WEB-1, WEB-3" in problems[0]
        assert site.run("sync").returncode == 0
        assert site.state("WEB-1")[3] == (
            "RICE 1000×2×1/2 = 1000 · dependency cycle with WEB-3 (ignored) · Highest · now"
        )

    def test_check_says_how_many_are_lifted(self, site: Site) -> None:
        """Without cycles check passes with one dependencies line."""
        site.sandbox.link("WEB-6", "WEB-2")
        check = site.run("check")
        assert check.returncode == 0, check.stdout
        assert "ok      dependencies: no dependency cycles; 1 blocker is lifted" in check.stdout

    def test_ignore_turns_it_off(self, site: Site) -> None:
        """``dependencies = "ignore"`` ranks as if there were no links."""
        site.sandbox.link("WEB-6", "WEB-2")
        swap = ('model = "rice"', 'model = "rice"\ndependencies = "ignore"')
        ranked = rank_json(site.run("rank", "--format", "json", swap=swap))
        assert ranked["WEB-6"]["rank"] == 5
        assert ranked["WEB-6"]["lifted_by"] == []


class TestGitHub:
    """A Project: the lowest-ranked issue made a blocker of the top one is written at the top."""

    def test_a_blocker_issue_is_lifted_written_and_stays_put(self, tmp_path: Path) -> None:
        """The blocker gets the top tier and bucket with the why; a second sync mutates nothing."""
        github = GitHubSandbox.seeded(issues=30, seed=5)
        with serve_in_thread(create_github_app(github)) as url:
            config = tmp_path / "priosync.toml"
            config.write_text(GITHUB_CONFIG.format(github=url))
            plain = rank_json(priosync(config, "rank", "--format", "json"))
            issues = sorted(
                (i for k, i in plain.items() if i["rank"] is not None and "#" in k),
                key=lambda i: i["rank"],
            )
            top, low = issues[0], issues[-1]
            repo, number = low["key"].split("/")[1].split("#")
            top_repo, top_number = top["key"].split("/")[1].split("#")
            github.state.block(
                github.issue_object(repo, int(number)),
                github.issue_object(top_repo, int(top_number)),
            )

            first = priosync(config, "sync", "--format", "json")
            assert first.returncode == 0, first.stderr
            item = github.item(f"{repo}#{number}")
            assert item.fields["Priority"] == "Highest"
            assert str(item.fields["Score rationale"]).startswith("RICE ")
            assert f"lifted: blocks {top['key']} · Highest · now" in str(
                item.fields["Score rationale"]
            )
            assert "roadmap:now" in github.issue(repo, int(number)).labels

            mutations = sum(e.mutations for e in github.request_log)
            second = priosync(config, "sync", "--format", "json")
            assert json.loads(second.stdout)["changes"] == []
            assert sum(e.mutations for e in github.request_log) == mutations


class TestCsvExport:
    """A Jira CSV export's link columns lift in ``rank`` like live links do."""

    def test_link_columns_lift_the_blocker(self, tmp_path: Path) -> None:
        """SHOP-2 (score 5) blocks SHOP-1 (500), by key on one row and by id on the other."""
        (tmp_path / "export.csv").write_text(EXPORT)
        config = tmp_path / "priosync.toml"
        config.write_text(CSV_CONFIG)
        ranked = rank_json(priosync(config, "rank", "--format", "json"))
        order = sorted(ranked, key=lambda k: ranked[k]["rank"])
        assert order == ["SHOP-2", "SHOP-1", "SHOP-3"]
        assert ranked["SHOP-2"]["lifted_by"] == ["SHOP-1"]
        assert (ranked["SHOP-2"]["priority"], ranked["SHOP-2"]["bucket"]) == ("High", "now")
        assert ranked["SHOP-2"]["score"] == 5

        table = priosync(config, "rank", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(table.stdout)))
        assert rows[0]["dependencies"] == "lifted: blocks SHOP-1"
