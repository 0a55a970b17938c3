"""A newcomer's first sync: an empty directory, a tracker without priosync's fields, and three
commands — `init`, `setup --yes`, `sync` — as subprocesses against a sandbox on loopback.

Each test then runs `setup` again (it creates nothing) and `sync` again (it writes nothing),
and counts the requests every command sent, so a change that makes the path costlier shows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

ISSUES = 30


@dataclass
class Newcomer:
    """An empty directory, the environment a newcomer exports, and the CLI run there."""

    cwd: Path
    env: dict[str, str]
    count_requests: Any
    commands: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        before = self.count_requests()
        result = subprocess.run(
            [sys.executable, "-m", "priosync", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        name = " ".join(a for a in args if not a.startswith("http"))
        self.commands.append(name)
        self.requests[f"{len(self.commands)}. {name}"] = self.count_requests() - before
        return result


def environment(**variables: str) -> dict[str, str]:
    return child_env(NO_COLOR="1", **variables)


def three_commands(newcomer: Newcomer, *init: str) -> tuple[str, str, str]:
    """`init`, `setup --yes`, `sync`: each must succeed; their outputs."""
    started = newcomer.run("init", *init)
    assert started.returncode == 0, started.stdout + started.stderr
    assert (newcomer.cwd / "priosync.toml").is_file()
    setup = newcomer.run("setup", "--yes")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    synced = newcomer.run("sync", "--format", "json")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    return started.stdout, setup.stdout, synced.stdout


def again(newcomer: Newcomer, writes: Any) -> None:
    """A second setup creates nothing; a second sync plans and writes nothing."""
    before = writes()
    setup = newcomer.run("setup", "--yes")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "nothing to set up" in setup.stdout
    synced = newcomer.run("sync", "--format", "json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["changes"] == []
    assert writes() == before


def written(sync_output: str) -> list[dict[str, Any]]:
    """The first sync's changes, every one of them written."""
    document = json.loads(sync_output)
    assert document["failed"] == []
    assert document["written"] == len(document["changes"])
    changes: list[dict[str, Any]] = document["changes"]
    return changes


@pytest.fixture
def jira_site(request: pytest.FixtureRequest) -> Iterator[tuple[JiraSandbox, str]]:
    sandbox = JiraSandbox.seeded(issues=ISSUES, seed=11, bare=True, dc=request.param == "dc")
    with serve_in_thread(create_jira_app(sandbox)) as url:
        yield sandbox, url


class TestJira:
    @pytest.mark.parametrize("jira_site", ["cloud", "dc"], indirect=True)
    def test_three_commands_give_a_correct_first_sync(
        self, jira_site: tuple[JiraSandbox, str], tmp_path: Path
    ) -> None:
        """init --discover, setup --yes, sync: every scored issue carries its score, tier and
        bucket label; setup and sync again change nothing."""
        sandbox, url = jira_site
        credentials = (
            {"JIRA_PAT": sandbox.pat}
            if sandbox.dc
            else {"JIRA_EMAIL": sandbox.email, "JIRA_API_TOKEN": sandbox.token}
        )
        newcomer = Newcomer(
            tmp_path,
            environment(PRIOSYNC_STATE=str(tmp_path / "audit.sqlite3"), **credentials),
            lambda: len(sandbox.request_log),
        )
        init_out, setup_out, sync_out = three_commands(
            newcomer, "--url", url, "--jql", "project = WEB"
        )
        assert "proposed cuts:" in init_out
        assert "setup: 2 created" in setup_out
        changes = written(sync_out)
        assert len(changes) == ISSUES  # nothing was scored before
        for change in changes:
            view, after = sandbox.issue(change["key"]), change["after"]
            assert view.fields_by_name["RICE score"] == after["score"]
            assert view.priority == (after["priority"] or view.priority)
            assert set(after["labels"]) <= set(view.labels)
            if after["score"] is None:
                assert "needs-scoring" in view.labels
            else:
                assert any(label.startswith("roadmap:") for label in view.labels)
                assert view.fields_by_name["Score rationale"]

        def writes() -> int:
            return sum(1 for e in sandbox.request_log if e.kind == "write")

        again(newcomer, writes)
        counts = list(newcomer.requests.values())
        # init (fields + one read of the backlog), setup (plan, 2 fields, check), sync: a
        # write per issue, the reads, the backlog's order (init turns reorder on) and moves.
        assert counts[1] == 5 + 2 * 2 + 3
        moves = json.loads(sync_out)["move_requests"]
        assert 0 < moves <= 10
        assert counts[2] <= ISSUES + 8 + 1 + moves
        assert counts[4] <= 8
        assert len(newcomer.commands) == 5
        print(f"\n{'DC' if sandbox.dc else 'Cloud'} requests per command: {newcomer.requests}")


class TestGitHubProject:
    def test_three_commands_give_a_correct_first_sync(self, tmp_path: Path) -> None:
        """init --discover --api-url, setup --yes, sync: every Project item carries its score
        and tier and its issue the bucket label; setup and sync again change nothing."""
        sandbox = GitHubSandbox.seeded(issues=ISSUES, seed=11, bare=True)
        with serve_in_thread(create_github_app(sandbox)) as url:
            newcomer = Newcomer(
                tmp_path,
                environment(
                    PRIOSYNC_STATE=str(tmp_path / "audit.sqlite3"), GITHUB_TOKEN=sandbox.token
                ),
                lambda: sandbox.count_requests(),
            )
            init_out, setup_out, sync_out = three_commands(
                newcomer, "--kind", "github", "--project", "acme/1", "--api-url", url
            )
            assert "proposed cuts:" in init_out
            assert "setup: 11 created" in setup_out
            for change in written(sync_out):
                after = change["after"]
                if change["key"].startswith("draft:"):
                    item = sandbox.item(change["key"].removeprefix("draft:"))
                    assert item.fields.get("RICE score") == after["score"]
                    continue
                repo, number = change["key"].split("/", 1)[1].split("#")
                item = sandbox.item(f"{repo}#{number}")
                labels = sandbox.issue(repo, int(number)).labels
                assert item.fields.get("RICE score") == after["score"]
                assert item.fields.get("Priority") == after["priority"]
                assert set(after["labels"]) <= set(labels)

            def writes() -> int:
                return sandbox.count_requests("rest-write") + sum(
                    e.mutations for e in sandbox.request_log
                )

            again(newcomer, writes)
        counts = list(newcomer.requests.values())
        assert counts[1] == 4 + 11 + 1
        assert len(newcomer.commands) == 5
        print(f"\nGitHub requests per command: {newcomer.requests}")
