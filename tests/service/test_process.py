"""`run_service` as a real process: serves, rescores, and drains on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.jira import JiraSandbox, catalog, create_jira_app
from sandbox.jira.webhooks import deliver_pending
from sandbox.loopback import free_port, serve_in_thread

from .conftest import SECRET

CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
priority_field = "priority"
label_prefix = "roadmap:"
priority = [{{ name = "Highest", top = 3 }}, {{ name = "Low" }}]
roadmap = [{{ name = "now", capacity = 10 }}, {{ name = "later" }}]

[[sources]]
name = "web"
kind = "jira"
deployment = "cloud"
url = "{site}"
jql = "project = WEB AND statusCategory != Done"

[schedule]
cron = "0 3 * * *"
"""

RUN = (
    "import sys; from pathlib import Path; from config import load_config; "
    "from service import run_service; "
    "sys.exit(run_service(load_config(Path(sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]), "
    "accept_unsigned=False, state_path=Path(sys.argv[3]), echo=print))"
)


def wait_for(url: str, *, key: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).json().get(key):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never reported {key}")


class TestProcess:
    def test_sigterm_drains_the_queue_then_exits_cleanly(self, tmp_path: Path) -> None:
        """A webhook queued when SIGTERM arrives is still rescored and written; exit code 0."""
        sandbox = JiraSandbox.seeded(issues=30, seed=3, webhook_secret=SECRET)
        with serve_in_thread(create_jira_app(sandbox)) as site:
            port = free_port()
            sandbox.webhook_url = f"http://127.0.0.1:{port}/webhooks/jira"
            config = tmp_path / "priosync.toml"
            config.write_text(CONFIG.format(site=site), encoding="utf-8")
            env = {**os.environ, "JIRA_EMAIL": sandbox.email, "JIRA_API_TOKEN": sandbox.token,
                   "PRIOSYNC_JIRA_WEBHOOK_SECRET": SECRET}  # fmt: skip
            process = subprocess.Popen(
                [sys.executable, "-c", RUN, str(config), str(port), str(tmp_path / "audit.db")],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                wait_for(f"http://127.0.0.1:{port}/healthz", key="snapshot")
                time.sleep(0.5)  # let the first sync's own webhooks come back
                key = sorted(i.key for i in sandbox.issues() if "roadmap:now" not in i.labels)[0]
                sandbox.human_edit(key, fields={catalog.REACH: 50_000_000, catalog.EFFORT: 1})
                asyncio.run(deliver_pending(sandbox))
                process.send_signal(signal.SIGTERM)
                out, err = process.communicate(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        assert process.returncode == 0, err
        assert "roadmap:now" in sandbox.issue(key).labels
        assert sandbox.issue(key).priority == "Highest"
        assert "listening on http://127.0.0.1" in out
        assert "next full sync at" in err
        assert "draining: 1 queued items" in err
        assert SECRET not in out + err
        assert sandbox.token not in out + err
