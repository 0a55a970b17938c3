"""`[outputs] reorder = true` as a user runs it: the CLI as a subprocess against the sandbox
Jira (Cloud and Data Center) and the sandbox GitHub on loopback. A shuffled backlog ends in
ranking order in N − LIS moves; a second sync moves nothing; one edited score moves one
item; revert puts moved items back. Bounded by request counts, never by seconds."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config import validate_config
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.loopback import serve_in_thread
from sync.pipeline import run_sync
from tests.child_env import child_env

RANK = "/rest/agile/1.0/issue/rank"

SCORING = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }

[outputs]
reorder = true
pin_label = "priority-pinned"
"""

JIRA_SOURCE = """
[[sources]]
name = "web"
kind = "jira"
url = "{url}"
deployment = "{deployment}"
jql = "project = WEB AND statusCategory != Done ORDER BY created DESC"
"""

GITHUB_SOURCE = """
[[sources]]
name = "app"
kind = "github"
project = "acme/1"
api_url = "{url}"
"""


def lis_length(values: list[int]) -> int:
    """The longest increasing subsequence, O(n²): an independent referee for the CLI."""
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i] = best[j] + 1
    return max(best, default=0)


@dataclass
class Cli:
    config: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = child_env()
        env.update(
            self.environ(),
            PRIOSYNC_STATE=str(self.config.parent / "audit.sqlite3"),
            NO_COLOR="1",
        )
        return subprocess.run(
            [sys.executable, "-m", "priosync", *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    def json(self, *args: str) -> dict[str, Any]:
        result = self.run(*args, "--format", "json")
        assert result.returncode == 0, result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def ranking(self) -> list[str]:
        """The ranked keys, rank 1 first (pinned included), read and ranked in this process
        with the same config: cheaper than one more CLI run, and ranking is tested apart."""
        loaded = validate_config(
            tomllib.loads(self.config.read_text()), file=self.config, environ={}
        )
        outcome = asyncio.run(run_sync(loaded, environ=self.environ()))
        ranked = [r for r in outcome.plan.ranking if r.rank is not None]
        return [r.item.key for r in sorted(ranked, key=lambda r: r.rank or 0)]

    @staticmethod
    def environ() -> dict[str, str]:
        return {
            "JIRA_EMAIL": "demo@example.com",
            "JIRA_API_TOKEN": "sandbox-token",
            "JIRA_PAT": "sandbox-pat",
            "GITHUB_TOKEN": "sandbox-token",
        }


@dataclass
class JiraSite:
    sandbox: JiraSandbox
    cli: Cli

    def rank_calls(self) -> int:
        return sum(1 for e in self.sandbox.request_log if e.endpoint == RANK)

    def order(self, keys: list[str]) -> list[str]:
        wanted = set(keys)
        return [k for k in self.sandbox.rank_order() if k in wanted]

    def source_order(self) -> list[str]:
        """The Rank order of the issues the source reads (not done). Revert puts an item
        back next to its neighbour in the source; where it stood among done issues it
        cannot know."""
        done = {i.key for i in self.sandbox.issues() if i.status_category == "Done"}
        return [k for k in self.sandbox.rank_order() if k not in done]


def jira_site(tmp_path: Path, *, issues: int, dc: bool) -> Iterator[JiraSite]:
    sandbox = JiraSandbox.seeded(issues=issues, seed=14, dc=dc)
    sandbox.ranks.shuffle(random.Random(14))
    with serve_in_thread(create_jira_app(sandbox)) as url:
        config = tmp_path / "priosync.toml"
        deployment = "dc" if dc else "cloud"
        config.write_text(SCORING + JIRA_SOURCE.format(url=url, deployment=deployment))
        yield JiraSite(sandbox, Cli(config))


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[JiraSite]:
    yield from jira_site(tmp_path, issues=1000, dc=False)


@pytest.fixture
def dc(tmp_path: Path) -> Iterator[JiraSite]:
    yield from jira_site(tmp_path, issues=200, dc=True)


class TestJiraCloud:
    def test_thousand_shuffled_issues_end_in_ranking_order_in_fewest_moves(
        self, cloud: JiraSite
    ) -> None:
        """1,000 shuffled issues: the sync moves N − LIS of them in the rank calls it counted,
        the ranked issues end in ranking order and the others (done, needs input, pinned)
        keep their relative order; a second sync moves nothing; a person raising one
        issue's reach makes the next sync move that one issue in one call, and reverting
        that run puts it back."""
        ranking = cloud.cli.ranking()
        pinned = {i.key for i in cloud.sandbox.issues() if "priority-pinned" in i.labels}
        movable = [k for k in ranking if k not in pinned]
        index = {k: i for i, k in enumerate(movable)}
        start = cloud.order(movable)
        others = [k for k in cloud.sandbox.rank_order() if k not in index]

        synced = cloud.cli.json("sync")
        assert synced["changes"] == []
        assert len(synced["moves"]) == len(movable) - lis_length([index[k] for k in start])
        assert synced["moved"] == len(synced["moves"])
        assert synced["move_failed"] == []
        assert synced["moves_left"] == []
        assert cloud.rank_calls() == synced["move_requests"] < len(synced["moves"]) // 5
        assert cloud.order(movable) == movable
        assert [k for k in cloud.sandbox.rank_order() if k not in index] == others

        calls = cloud.rank_calls()
        again = cloud.cli.json("sync")
        assert again["moves"] == []
        assert again["move_requests"] == 0
        assert cloud.rank_calls() == calls

        bottom = movable[-1]
        cloud.sandbox.human_edit(bottom, fields={c.REACH: 10_000_000})
        before = cloud.source_order()
        one = cloud.cli.json("sync")
        assert [(m["key"], m["before"]) for m in one["moves"]] == [(bottom, movable[0])]
        assert cloud.rank_calls() == calls + 1
        assert cloud.order(movable)[0] == bottom

        (last, *_) = json.loads(cloud.cli.run("history", "--format", "json").stdout)["runs"]
        (row,) = [w for w in last["writes"] if w["field"] == "position"]
        assert (row["item"], row["status"], row["new"]) == (bottom, "ok", {"before": movable[0]})
        reverted = cloud.cli.run("revert", str(last["id"]), "--yes")
        assert reverted.returncode == 0, reverted.stderr
        assert "1 moved back" in reverted.stdout
        assert cloud.source_order() == before


class TestJiraDataCenter:
    def test_orders_and_reverts_whole_runs(self, dc: JiraSite) -> None:
        """Data Center takes the same rank calls; --max-writes counts a call as one write;
        reverting both runs, newest first, restores the source's shuffled order exactly."""
        start = dc.source_order()
        partial = dc.cli.json("sync", "--max-writes", "1")
        assert dc.rank_calls() == 1
        assert partial["moved"] == len(partial["moves"]) - len(partial["moves_left"]) > 0
        finished = dc.cli.json("sync")
        assert finished["moved"] == len(finished["moves"]) == len(partial["moves_left"])
        assert dc.cli.json("plan")["moves"] == []
        runs = json.loads(dc.cli.run("history", "--format", "json").stdout)["runs"]
        assert [r["command"] for r in runs] == ["sync", "sync"]
        for run in runs:
            assert dc.cli.run("revert", str(run["id"]), "--yes").returncode == 0
        assert dc.source_order() == start


class TestGitHubProject:
    def test_project_positions_follow_the_ranking(self, tmp_path: Path) -> None:
        """A shuffled Project ends in ranking order with position mutations at the default
        pacing; a second sync sends no mutation."""
        sandbox = GitHubSandbox.seeded(issues=150, seed=14)
        random.Random(14).shuffle(sandbox.state.projects[1].items)
        with serve_in_thread(create_github_app(sandbox)) as url:
            config = tmp_path / "priosync.toml"
            config.write_text(SCORING + GITHUB_SOURCE.format(url=url))
            cli = Cli(config)
            synced = cli.json("sync")
            assert synced["moved"] == len(synced["moves"]) > 0
            mutations = sum(e.mutations for e in sandbox.request_log)
            assert mutations == len(synced["moves"])
            ranking = cli.ranking()
            keys = [
                f"acme/{s.content_ref}" if s.kind != "DRAFT_ISSUE" else f"draft:{s.node_id}"
                for s in sandbox.items()
            ]
            assert [k for k in keys if k in set(ranking)] == ranking
            again = cli.json("sync")
            assert again["moves"] == []
            assert sum(e.mutations for e in sandbox.request_log) == mutations
