"""`priosync sandbox edit` as a user runs it: a person's edit through the sandbox's API, which
then sends the signed webhook a real tracker would send for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

SECRET = "hook-secret"


def edit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "priosync", "sandbox", "edit", *args],
        capture_output=True,
        text=True,
        env=child_env(NO_COLOR="1"),
        timeout=60,
        check=False,
    )


def capture(into: list[httpx.Request]) -> httpx.MockTransport:
    def receive(request: httpx.Request) -> httpx.Response:
        request.read()
        into.append(request)
        return httpx.Response(202)

    return httpx.MockTransport(receive)


def wait_for(condition: Callable[[], bool]) -> None:
    """The sandbox delivers after answering: poll a bounded number of times."""
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("no webhook was delivered")


def signed(request: httpx.Request, header: str) -> bool:
    digest = hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    return request.headers[header] == f"sha256={digest}"


class TestJira:
    def test_an_edit_lands_as_the_persons_and_sends_a_signed_webhook(self) -> None:
        """Reach and Impact change as Pat Manager's edit; jira:issue_updated goes out signed."""
        received: list[httpx.Request] = []
        sandbox = JiraSandbox.seeded(issues=10, seed=3, webhook_url="http://hook.test/jira")
        sandbox.webhook_secret = SECRET
        sandbox.webhook_transport = capture(received)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            result = edit("WEB-3", "Reach=900", "Impact=High", "--url", url)
            wait_for(lambda: bool(received))
        assert result.returncode == 0, result.stderr
        assert "edited WEB-3 as Pat Manager: Reach=900, Impact=High" in result.stdout
        view = sandbox.issue("WEB-3")
        assert (view.fields[c.REACH], view.fields[c.IMPACT]) == (900.0, "High")
        body = json.loads(received[0].content)
        assert body["webhookEvent"] == "jira:issue_updated"
        assert body["user"]["accountId"] == sandbox.human.account_id
        assert {i["field"] for i in body["changelog"]["items"]} == {"Reach", "Impact"}
        assert signed(received[0], "X-Hub-Signature")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["WEB-3", "Nope=1"], "no field named 'Nope'"),
            (["WEB-3", "Reach=lots"], "'Reach' takes a number"),
        ],
    )
    def test_a_bad_edit_is_one_line_and_exit_1(self, args: list[str], message: str) -> None:
        """An unknown field or a wrong value: one error line, no traceback, nothing edited."""
        sandbox = JiraSandbox.seeded(issues=10, seed=3)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            result = edit(*args, "--url", url)
        assert result.returncode == 1
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert sandbox.edit_log == []


class TestGitHub:
    def test_an_edit_sets_project_fields_and_the_webhook_names_the_person(self) -> None:
        """Reach and Effort of the issue's item change; two edited events, sent by the person."""
        received: list[httpx.Request] = []
        sandbox = GitHubSandbox.seeded(
            issues=10,
            seed=3,
            webhook_url="http://hook.test/github",
            webhook_secret=SECRET,
            webhook_transport=capture(received),
        )
        ref = next(it.content_ref for it in sandbox.state.projects[1].items if it.kind == "ISSUE")
        with serve_in_thread(create_github_app(sandbox)) as url:
            result = edit(f"acme/{ref}", "Reach=901", "Effort=77", "--url", url)
            wait_for(lambda: len(received) >= 2)
        assert result.returncode == 0, result.stderr
        item = sandbox.item(ref)
        assert (item.fields["Reach"], item.fields["Effort"]) == (901.0, 77.0)
        bodies = [json.loads(r.content) for r in received]
        assert {b["action"] for b in bodies} == {"edited"}
        assert {b["sender"]["login"] for b in bodies} == {sandbox.state.human_login}
        assert all(signed(r, "X-Hub-Signature-256") for r in received)
