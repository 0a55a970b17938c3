"""`priosync setup` as a script runs it: refusing to guess off a terminal, --dry-run as JSON,
and a missing permission in one line with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
explain_field = "Score rationale"
priority_field = "priority"
priority = [{{ name = "High", top_percent = 20 }}, {{ name = "Low" }}]

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "project = WEB"
"""


def setup(
    tmp_path: Path, url: str, sandbox: JiraSandbox, *args: str
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "priosync.toml"
    config.write_text(CONFIG.format(url=url), encoding="utf-8")
    env = child_env(JIRA_EMAIL=sandbox.email, JIRA_API_TOKEN=sandbox.token, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "priosync", "setup", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def writes(sandbox: JiraSandbox) -> int:
    return sum(1 for e in sandbox.request_log if e.kind == "write")


class TestSetupCommand:
    def test_off_a_terminal_without_yes_it_asks_for_yes_and_sends_nothing(
        self, tmp_path: Path
    ) -> None:
        """No terminal to ask on and no --yes: exit 1 naming --yes, not one request sent."""
        sandbox = JiraSandbox.seeded(issues=10, seed=7, bare=True)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            result = setup(tmp_path, url, sandbox)
        assert result.returncode == 1
        assert "pass --yes" in result.stderr
        assert sandbox.request_log == []

    def test_dry_run_as_json_lists_the_steps_and_creates_nothing(self, tmp_path: Path) -> None:
        """--dry-run --format json: the plan as one document, exit 0, no write sent."""
        sandbox = JiraSandbox.seeded(issues=10, seed=7, bare=True)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            result = setup(tmp_path, url, sandbox, "--dry-run", "--format", "json")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["dry_run"] is True
        assert document["complete"] is False
        steps = document["sources"][0]["steps"]
        assert [(s["action"], s["target"]) for s in steps] == [
            ("create-field", "RICE score"),
            ("create-field", "Score rationale"),
        ]
        assert writes(sandbox) == 0

    def test_without_administer_jira_it_says_so_in_one_line_and_exits_2(
        self, tmp_path: Path
    ) -> None:
        """A missing permission blocks setup: one problem line naming it and who grants it."""
        sandbox = JiraSandbox.seeded(issues=10, seed=7, bare=True, jira_admin=False)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            result = setup(tmp_path, url, sandbox, "--yes")
        assert result.returncode == 2, result.stdout + result.stderr
        problems = [line for line in result.stdout.splitlines() if "problem" in line]
        assert len(problems) == 1
        assert "'Administer Jira'" in problems[0]
        assert "a Jira administrator can grant it" in problems[0]
        assert writes(sandbox) == 0
