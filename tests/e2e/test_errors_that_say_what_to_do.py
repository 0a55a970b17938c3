"""Errors a newcomer meets first, through the CLI: each names what to fix, with the right
exit code, and never talks about tokens when the token is not the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from sandbox.loopback import free_port, serve_in_thread
from tests.child_env import child_env
from tests.e2e.jira_site import EMAIL, TOKEN, Site

CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "{jql}"
"""


def plan(tmp: Path, url: str, jql: str = "project = WEB") -> subprocess.CompletedProcess[str]:
    config = tmp / "priosync.toml"
    config.write_text(CONFIG.format(url=url, jql=jql))
    env = child_env(JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "priosync", "plan", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def closed_port() -> int:
    return free_port()  # nothing listens there: connecting is refused


class TestAddresses:
    def test_a_refused_port_names_the_host_and_exits_2(self, tmp_path: Path) -> None:
        """Nothing listens there: 'could not connect to 127.0.0.1:PORT (connection refused)'."""
        port = closed_port()
        result = plan(tmp_path, f"http://127.0.0.1:{port}")
        assert result.returncode == 2, result.stderr
        assert f"could not connect to 127.0.0.1:{port} (connection refused)" in result.stderr
        assert "token" not in result.stderr.lower()

    def test_a_host_that_does_not_resolve(self, tmp_path: Path) -> None:
        """An unknown host name (.invalid never resolves) says so and exits 2."""
        result = plan(tmp_path, "https://jira.example.invalid")
        assert result.returncode == 2, result.stderr
        assert "could not connect to jira.example.invalid:443" in result.stderr
        assert "token" not in result.stderr.lower()

    def test_a_url_that_answers_but_is_not_jira(self, tmp_path: Path) -> None:
        """A web server that is not Jira: a config error naming sources[0].url, exit 1."""
        page = Starlette(routes=[Route("/{path:path}", lambda _: HTMLResponse("<h1>Welcome</h1>"))])
        with serve_in_thread(page) as url:
            result = plan(tmp_path, url)
        assert result.returncode == 1, result.stderr
        assert "sources[0].url" in result.stderr
        assert "not a Jira site" in result.stderr or "web page" in result.stderr


class TestQueries:
    def test_a_jql_syntax_error_is_a_config_error_naming_the_key(self, site: Site) -> None:
        """Jira refusing the JQL: exit 1 (not 2), naming sources[0].jql and Jira's words."""
        result = plan(site.tmp, site.url, jql="project = WEB AND AND")
        assert result.returncode == 1, result.stderr
        assert "sources[0].jql" in result.stderr
        assert "Error in the JQL Query" in result.stderr
