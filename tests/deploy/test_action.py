"""The GitHub Action, run step by step the way a runner would, against a sandbox Jira on loopback."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.loopback import free_port, serve_in_thread

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
SANDBOX_AUTH = ("demo@example.com", "sandbox-token")
CONFIG = """
[scoring]
model = "rice"
decimals = 1
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }

[outputs]
score_field = "RICE score"
priority_field = "priority"
label_prefix = "roadmap:"
needs_input_label = "needs-scoring"
priority = [{ name = "Highest", top = 3 }, { name = "High", min_score = 100 }, { name = "Low" }]
roadmap = [{ name = "now", capacity = 6 }, { name = "next", capacity = 12 }, { name = "later" }]

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "project = WEB AND statusCategory != Done"
"""


def load_runner(name: str = "run_action") -> ModuleType:
    """A script of scripts/ as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


run_action = load_runner()
action_step = load_runner("action_step")


def wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sandbox exited early"
        try:
            if httpx.get(f"{url}/rest/api/3/serverInfo", auth=SANDBOX_AUTH).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"sandbox at {url} did not start")


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """`priosync sandbox jira` serving 40 issues on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "priosync", "sandbox", "jira", "--port", str(port), "--issues", "40", "--seed", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands in for actions/setup-python: a fresh interpreter whose installs land in its own venv.

    There is no network here, so it sees this environment's packages (a .pth file) and pip
    runs offline; the action's install step still builds and installs priosync from the
    copied action checkout into this venv.
    """
    home = tmp_path_factory.mktemp("toolcache") / "python"
    venv.create(home, with_pip=False, symlinks=True)
    site = (
        home / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    )
    (site / "test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home / "bin" / "python"


@pytest.fixture
def workspace(tmp_path: Path, sandbox_url: str) -> Path:
    """A repository checkout holding priosync.toml for the sandbox."""
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "priosync.toml").write_text(CONFIG.replace("{url}", sandbox_url))
    return root


def run(
    workspace: Path,
    runner_python: Path,
    tmp: Path,
    *,
    extra_env: dict[str, str] | None = None,
    **inputs: str,
) -> Any:
    """Run action.yml with ``inputs`` and the workflow's env (tokens, offline pip), the way a
    fresh runner would: the workspace's audit log is gone unless the cache brings it back."""
    environ = {
        **os.environ,
        "JIRA_EMAIL": "demo@example.com",
        "JIRA_API_TOKEN": "sandbox-token",
        "PIP_NO_INDEX": "1",
        # pip's inverted switch: 0 turns build isolation off (isolation would need the index).
        "PIP_NO_BUILD_ISOLATION": "0",
        "GITHUB_WORKFLOW": "priosync (scheduled sync)",
        **(extra_env or {}),
    }
    environ.pop("PRIOSYNC_STATE", None)
    shutil.rmtree(workspace / ".priosync", ignore_errors=True)  # a new runner, a new checkout
    temp = tmp / f"runner-temp-{len(list(tmp.glob('runner-temp-*')))}"
    temp.mkdir()
    return run_action.run_action(
        ACTION,
        inputs={k.replace("_", "-"): v for k, v in inputs.items()},
        workspace=workspace,
        temp=temp,
        python=runner_python,
        environ=environ,
        cache_dir=tmp / "actions-cache",
    )


def history(workspace: Path) -> list[dict[str, Any]]:
    """The runs in the workspace's audit log (after a run restored or wrote it)."""
    done = subprocess.run(
        [sys.executable, "-m", "priosync", "history", "--state", str(workspace / ".priosync" / "audit.sqlite3"), "--format", "json"],
        capture_output=True, text=True, check=True, env={**os.environ, "PRIOSYNC_CONFIG": str(workspace / "missing.toml")},
    )  # fmt: skip
    return list(json.loads(done.stdout)["runs"])


def plan_changes(workspace: Path, sandbox_url: str) -> int:
    """What a plan run directly (outside the action) says is left to change."""
    done = subprocess.run(
        [sys.executable, "-m", "priosync", "plan", "--config", str(workspace / "priosync.toml"), "--format", "json"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "sandbox-token"},
    )  # fmt: skip
    return len(json.loads(done.stdout)["changes"])


class TestActionPlan:
    def test_plan_writes_the_summary_and_counts(
        self, workspace: Path, runner_python: Path, tmp_path: Path, sandbox_url: str
    ) -> None:
        """`command: plan` succeeds, reports counts as outputs and the plan as the job summary."""
        pending = plan_changes(workspace, sandbox_url)
        result = run(workspace, runner_python, tmp_path, command="plan")
        summary = result.summary.read_text()
        assert result.conclusion == "success", summary
        assert result.skipped_steps == ["actions/setup-python@v5", "actions/cache@v4"]
        assert "warning" not in summary.split("\n", 2)[1]
        assert int(result.outputs["changed"]) == pending > 0
        assert result.outputs["failed"] == "0"
        assert int(result.outputs["skipped"]) > 0
        assert result.outputs["exit-code"] == "0"
        assert summary.startswith("## priosync plan\n")
        assert f"items: {pending} to change, 0 unchanged" in summary
        assert "| key | source | change | reason |" in summary
        assert "need input (" in summary
        assert plan_changes(workspace, sandbox_url) == pending  # a plan writes nothing


class TestActionSync:
    def test_sync_writes_within_the_budget_then_finishes(
        self, workspace: Path, runner_python: Path, tmp_path: Path, sandbox_url: str
    ) -> None:
        """`max-writes` caps a sync; the next run, on a fresh runner, writes the rest and sees the first run in its history."""
        pending = plan_changes(workspace, sandbox_url)
        first = run(workspace, runner_python, tmp_path, command="sync", max_writes="5")
        assert first.conclusion == "success", first.summary.read_text()
        assert first.outputs["changed"] == "5"
        assert int(first.outputs["left"]) == pending - 5
        summary = first.summary.read_text()
        assert summary.startswith("## priosync sync\n")
        assert summary.count("| written |") == 5
        assert summary.count("| left |") == pending - 5
        assert [r["id"] for r in history(workspace)] == [1]
        second = run(workspace, runner_python, tmp_path, command="sync")
        assert second.conclusion == "success"
        assert int(second.outputs["changed"]) == pending - 5
        assert plan_changes(workspace, sandbox_url) == 0
        # The audit log came back from the Actions cache: run two's history holds run one.
        runs = history(workspace)
        assert [r["id"] for r in runs] == [2, 1]
        assert runs[1]["counts"]["written"] == 5
        assert len(list((tmp_path / "actions-cache").iterdir())) == 2  # one entry per run


class TestActionFailures:
    def test_bad_config_fails_the_step_with_the_summary_written(
        self, workspace: Path, runner_python: Path, tmp_path: Path
    ) -> None:
        """A config error (exit 1) fails the run step, and the summary still says why."""
        (workspace / "broken.toml").write_text('[scoring]\nmodel = "rise"\n')
        result = run(workspace, runner_python, tmp_path, command="plan", config="broken.toml")
        summary = result.summary.read_text()
        assert result.conclusion == "failure"
        assert result.failed_step == "Fail when priosync failed"
        assert result.exit_code == 1
        assert result.outputs["exit-code"] == "1"
        assert "**The step failed: priosync exited with 1.**" in summary
        assert "error:" in summary

    def test_refused_credentials_fail_with_exit_2_and_no_secret(
        self, workspace: Path, runner_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A token the tracker refuses fails the step with exit 2; the token is not in the summary."""
        monkeypatch.setenv("JIRA_API_TOKEN_WRONG", "wrong-token-123")
        (workspace / "priosync.toml").write_text(
            (workspace / "priosync.toml").read_text() + 'token_env = "JIRA_API_TOKEN_WRONG"\n'
        )
        result = run(workspace, runner_python, tmp_path, command="sync")
        summary = result.summary.read_text()
        assert result.conclusion == "failure"
        assert result.exit_code == 2
        assert "wrong-token-123" not in summary
        assert "**The step failed: priosync exited with 2.**" in summary

    def test_unknown_command_input_fails_before_running(
        self, workspace: Path, runner_python: Path, tmp_path: Path
    ) -> None:
        """`command: deploy` is refused with exit 1 and a summary naming the allowed commands."""
        result = run(workspace, runner_python, tmp_path, command="deploy")
        assert result.conclusion == "failure"
        assert result.exit_code == 1
        assert "must be one of sync, plan" in result.summary.read_text()


class TestRunnerEmulation:
    def test_refuses_unknown_inputs(self, tmp_path: Path) -> None:
        """An input the action does not declare is an error, as on a runner."""
        with pytest.raises(run_action.ActionError, match="unexpected input"):
            run_action.resolve_inputs(run_action.load_action(ACTION), {"comand": "plan"})

    def test_refuses_expressions_it_cannot_evaluate(self) -> None:
        """Functions and operators are refused rather than guessed."""
        with pytest.raises(run_action.ActionError, match="unsupported expression"):
            run_action.substitute("${{ hashFiles('x') }}", {})

    def test_reads_multiline_outputs(self) -> None:
        """GITHUB_OUTPUT's `name<<DELIM` blocks and `name=value` lines are both read."""
        text = "a=1\nbody<<EOF\nline 1\nline=2\nEOF\nb=x=y\n"
        assert run_action.parse_command_file(text) == {
            "a": "1",
            "body": "line 1\nline=2",
            "b": "x=y",
        }


@pytest.fixture
def github_api() -> Iterator[tuple[GitHubSandbox, str]]:
    """The sandbox GitHub on loopback: where the PR comment goes."""
    sandbox = GitHubSandbox.seeded(issues=30, seed=2)
    with serve_in_thread(create_github_app(sandbox)) as url:
        yield sandbox, url


class TestPullRequestComment:
    def test_the_plan_is_one_comment_updated_in_place(
        self,
        workspace: Path,
        runner_python: Path,
        tmp_path: Path,
        github_api: tuple[GitHubSandbox, str],
    ) -> None:
        """Two plan runs on a PR leave one priosync comment, edited to the latest plan; others stay."""
        sandbox, api = github_api
        number = next(i.number for i in sandbox.state.repos["app"].issues.values())
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": number}}))
        comments = f"{api}/repos/acme/app/issues/{number}/comments"
        auth = {"Authorization": "Bearer sandbox-token"}
        httpx.post(comments, json={"body": "Looks good to me"}, headers=auth).raise_for_status()
        env = {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_API_URL": api,
            "GITHUB_TOKEN": "sandbox-token",
        }
        first = run(
            workspace, runner_python, tmp_path, extra_env=env, command="plan", comment="true"
        )
        assert first.conclusion == "success", first.summary.read_text()
        listed = httpx.get(comments, headers=auth).json()
        assert [c["body"].split("\n", 1)[0] for c in listed] == [
            "Looks good to me",
            "<!-- priosync:plan-comment -->",
        ]
        assert "items: " in listed[1]["body"]
        assert "| key | source | change | reason |" in listed[1]["body"]
        synced = subprocess.run(
            [sys.executable, "-m", "priosync", "sync", "--config", str(workspace / "priosync.toml"), "--state", str(tmp_path / "direct.sqlite3")],
            capture_output=True, text=True, check=False,
            env={**os.environ, "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "sandbox-token"},
        )  # fmt: skip
        assert synced.returncode == 0, synced.stderr
        second = run(
            workspace, runner_python, tmp_path, extra_env=env, command="plan", comment="true"
        )
        assert second.conclusion == "success"
        again = httpx.get(comments, headers=auth).json()
        assert len(again) == 2
        assert again[1]["id"] == listed[1]["id"]
        assert "Nothing to change: all " in again[1]["body"]
        assert again[0]["body"] == "Looks good to me"

    def test_outside_a_pull_request_no_comment_is_posted(self, tmp_path: Path) -> None:
        """A run with comment: true on a schedule or a push posts nothing and says why."""
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"schedule": "17 * * * *"}))
        env = {"INPUT_COMMENT": "true", "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "a/b"}
        assert action_step.post_comment(env, "## priosync plan") == (
            "comment: not a pull request event, no comment posted"
        )
        assert action_step.post_comment({**env, "INPUT_COMMENT": "false"}, "x") == ""


class TestSummary:
    def test_warnings_and_an_empty_plan_are_said_in_words(self) -> None:
        """A plan's warnings head the summary, and zero changes is a sentence, not a table header."""
        doc = {
            "changes": [],
            "unchanged": 7,
            "skipped": [],
            "warnings": ["scales.impact has no number for option 'Huge'"],
        }
        summary = action_step.render_summary("plan", doc, 0, "")
        assert summary.index(
            "> **warning:** scales.impact has no number for option"
        ) < summary.index("Nothing to change: all 7 items hold the values a sync would write.")
        assert "| key |" not in summary

    def test_items_needing_input_name_whom_to_ask(self) -> None:
        """Each item needing input is listed by key (a draft by its title) with its assignee."""
        doc = {
            "changes": [], "unchanged": 2,
            "skipped": [
                {"key": "WEB-4", "source": "web", "title": "t", "assignee": "Ana Ruiz", "missing": ["Reach: empty"]},
                {"key": "draft:PVTI_x", "source": "app", "title": "Idea: SSO", "assignee": None, "missing": ["Effort: empty"]},
            ],
        }  # fmt: skip
        summary = action_step.render_summary("plan", doc, 0, "")
        assert "- WEB-4 (ask Ana Ruiz): Reach: empty" in summary
        assert "- draft “Idea: SSO”: Effort: empty" in summary
