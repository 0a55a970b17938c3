"""`ranking = "global"`: one portfolio ranking over a Jira and a GitHub source, each item
written back to its own tracker (the CLI as a subprocess, both sandboxes on loopback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

CONFIG = """
[scoring]
model = "rice"
ranking = "global"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
priority_field = "Priority"
label_prefix = "roadmap:"
priority = [{{ name = "Highest", top = 3 }}, {{ name = "High", top_percent = 40 }}, {{ name = "Low" }}]
roadmap = [{{ name = "now", capacity = 8 }}, {{ name = "next", capacity = 16 }}, {{ name = "later" }}]

[[sources]]
name = "web"
kind = "jira"
url = "{jira}"
jql = "project = WEB AND statusCategory != Done"

[[sources]]
name = "app"
kind = "github"
project = "acme/1"
api_url = "{github}"
"""


def priosync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(
        JIRA_EMAIL="demo@example.com",
        JIRA_API_TOKEN="sandbox-token",
        GITHUB_TOKEN="sandbox-token",
        PRIOSYNC_STATE=str(config.parent / "audit.sqlite3"),
    )
    return subprocess.run(
        [sys.executable, "-m", "priosync", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


class TestGlobalRanking:
    def test_one_ranking_each_item_written_to_its_own_tracker(self, tmp_path: Path) -> None:
        """Ranks run 1..N across both sources; every write lands in the item's own tracker."""
        jira = JiraSandbox.seeded(issues=15, seed=5)
        github = GitHubSandbox.seeded(issues=20, seed=5)
        with (
            serve_in_thread(create_jira_app(jira)) as jira_url,
            serve_in_thread(create_github_app(github)) as github_url,
        ):
            config = tmp_path / "priosync.toml"
            config.write_text(CONFIG.format(jira=jira_url, github=github_url))

            ranked = priosync(config, "rank", "--format", "json")
            assert ranked.returncode == 0, ranked.stderr
            items = [i for i in json.loads(ranked.stdout)["items"] if i["rank"] is not None]
            assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
            assert {i["source"] for i in items} == {"web", "app"}
            top_three = [i["priority"] for i in items[:3]]
            assert top_three == ["Highest"] * 3

            synced = priosync(config, "sync", "--format", "json")
            assert synced.returncode == 0, synced.stderr
            report = json.loads(synced.stdout)
            assert report["failed"] == []
            by_key = {i["key"]: i for i in items}
            written = [c for c in report["changes"] if c["key"] in by_key]
            assert {c["source"] for c in written} == {"web", "app"}
            for change in written:
                expected = by_key[change["key"]]
                if change["source"] == "web":
                    view = jira.issue(change["key"])
                    assert view.fields_by_name["RICE score"] == expected["score"]
                    assert view.priority == expected["priority"]
                    assert f"roadmap:{expected['bucket']}" in view.labels
                else:
                    repo_number = change["key"].split("/", 1)[1]  # "app#12"
                    snap = github.item(repo_number)
                    assert snap.fields["RICE score"] == expected["score"]
                    assert snap.fields["Priority"] == expected["priority"]
                    repo, number = repo_number.split("#")
                    assert f"roadmap:{expected['bucket']}" in github.issue(repo, int(number)).labels

            again = priosync(config, "plan", "--format", "json")
            assert again.returncode == 0, again.stderr
            assert json.loads(again.stdout)["changes"] == []

    def test_one_source_selected_keeps_global_ranks(self, tmp_path: Path) -> None:
        """--source web writes only Jira, with the ranks the full portfolio gives them."""
        jira = JiraSandbox.seeded(issues=15, seed=5)
        github = GitHubSandbox.seeded(issues=20, seed=5)
        with (
            serve_in_thread(create_jira_app(jira)) as jira_url,
            serve_in_thread(create_github_app(github)) as github_url,
        ):
            config = tmp_path / "priosync.toml"
            config.write_text(CONFIG.format(jira=jira_url, github=github_url))
            github_before = github.count_requests("graphql")
            only_web = priosync(config, "sync", "--source", "web", "--format", "json")
            assert only_web.returncode == 0, only_web.stderr
            written = json.loads(only_web.stdout)["changes"]
            assert written
            assert {c["source"] for c in written} == {"web"}
            mutations = sum(e.mutations for e in github.request_log)
            assert mutations == 0
            assert github.count_requests("graphql") > github_before  # read for the ranking

            everything = priosync(config, "plan", "--format", "json")
            changes = json.loads(everything.stdout)["changes"]
            assert changes
            assert {c["source"] for c in changes} == {"app"}  # Jira already holds global ranks

    def test_unreadable_source_holds_back_every_write(self, tmp_path: Path) -> None:
        """If one source of a global ranking cannot be read, nothing is written anywhere; exit 2."""
        jira = JiraSandbox.seeded(issues=15, seed=5)
        github = GitHubSandbox.seeded(issues=20, seed=5, token="another-token")
        with (
            serve_in_thread(create_jira_app(jira)) as jira_url,
            serve_in_thread(create_github_app(github)) as github_url,
        ):
            config = tmp_path / "priosync.toml"
            config.write_text(CONFIG.format(jira=jira_url, github=github_url))
            result = priosync(config, "sync", "--format", "json")
            assert result.returncode == 2
            assert "app could not be read" in result.stderr
            report = json.loads(result.stdout)
            assert report["written"] == 0
            assert "nothing was written" in report["stopped"]["all sources"]
            assert not [e for e in jira.request_log if e.kind == "write"]
