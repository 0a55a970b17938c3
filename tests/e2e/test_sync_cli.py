"""`priosync sync`, `plan`, `history` and `revert` as a user runs them: the CLI as a
subprocess against the sandbox Jira served by uvicorn on loopback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread

ROOT = Path(__file__).parents[2]
TOKEN = "tok-SECRET-9f8e7d6c5b4a"
EMAIL = "bot@example.com"
KEYS = ("WEB-1", "WEB-2", "WEB-3", "WEB-4", "WEB-5", "WEB-6")
REACH, IMPACT, CONFIDENCE, EFFORT = (
    "customfield_10050",
    "customfield_10051",
    "customfield_10052",
    "customfield_10053",
)

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
needs_input_label = "needs-scoring"
explain_field = "Score rationale"
pin_label = "priority-pinned"
priority = [
  {{ name = "{top_tier}", top = 1 }},
  {{ name = "High", min_score = 300 }},
  {{ name = "Medium", min_score = 100 }},
  {{ name = "Low" }},
]
roadmap = [{{ name = "now", capacity = 3 }}, {{ name = "next", capacity = 3 }}, {{ name = "later" }}]

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "project = WEB AND key in ({keys})"
"""

# (key, reach, impact, confidence, effort, priority, labels) as a person left them.
SEED = [
    ("WEB-1", 1000, "High", "High", 2, "Low", ["customer", "roadmap:later"]),
    ("WEB-2", 500, "Medium", "Medium", 1, "Medium", []),
    ("WEB-3", 300, "Massive", "Low", 3, "Medium", []),
    ("WEB-4", 100, "Low", "High", 1, "Highest", ["priority-pinned", "roadmap:now"]),
    ("WEB-5", None, "High", "High", 1, "Medium", ["roadmap:next", "ux"]),
    ("WEB-6", 50, "Minimal", "High", 0.5, "Medium", []),
]

# Hand-computed: RICE = reach × impact × confidence ÷ effort; tiers Highest top 1 / High ≥ 300 /
# Medium ≥ 100 / Low; buckets now 3 / next 3 / later by effort in rank order.
EXPECTED = {
    # 1000×2×1/2 = 1000, rank 1, now (effort 2 of 3)
    "WEB-1": (
        1000.0,
        "Highest",
        {"customer", "roadmap:now"},
        "RICE 1000×2×1/2 = 1000 · Highest · now",
    ),
    # 500×1×0.8/1 = 400, rank 2, now (3 of 3)
    "WEB-2": (400.0, "High", {"roadmap:now"}, "RICE 500×1×0.8/1 = 400 · High · now"),
    # 300×3×0.5/3 = 150, rank 3: does not fit now (6 > 3), next (3 of 3)
    "WEB-3": (150.0, "Medium", {"roadmap:next"}, "RICE 300×3×0.5/3 = 150 · Medium · next"),
    # 100×0.5×1/1 = 50, pinned: keeps Highest and roadmap:now, gets its score
    "WEB-4": (
        50.0,
        "Highest",
        {"priority-pinned", "roadmap:now"},
        "RICE 100×0.5×1/1 = 50 · Low · later",
    ),
    # reach missing: only the labels change (stale roadmap:next out, needs-scoring in)
    "WEB-5": (None, "Medium", {"ux", "needs-scoring"}, None),
    # 50×0.25×1/0.5 = 25, rank 5, later
    "WEB-6": (25.0, "Low", {"roadmap:later"}, "RICE 50×0.25×1/0.5 = 25 · Low · later"),
}


@dataclass
class Site:
    sandbox: JiraSandbox
    url: str
    tmp: Path

    def config(self, top_tier: str = "Highest", swap: tuple[str, str] = ("", "")) -> Path:
        path = self.tmp / f"priosync-{top_tier}.toml"
        text = CONFIG.format(url=self.url, keys=", ".join(KEYS), top_tier=top_tier)
        path.write_text(text.replace(*swap) if swap[0] else text)
        return path

    def run(
        self, *args: str, top_tier: str = "Highest", swap: tuple[str, str] = ("", "")
    ) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PRIOSYNC_", "JIRA_", "GITHUB_"))
        }
        env.update(
            JIRA_EMAIL=EMAIL,
            JIRA_API_TOKEN=TOKEN,
            PRIOSYNC_STATE=str(self.tmp / "audit.sqlite3"),
            NO_COLOR="1",
        )
        return subprocess.run(
            [sys.executable, "-m", "priosync", *args, "--config", str(self.config(top_tier, swap))],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def writes(self) -> int:
        return sum(1 for e in self.sandbox.request_log if e.kind == "write")

    def state(self, key: str) -> tuple[float | None, str | None, set[str], str | None]:
        view = self.sandbox.issue(key)
        return (
            view.fields_by_name["RICE score"],
            view.priority,
            set(view.labels),
            view.fields_by_name["Score rationale"],
        )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    sandbox = JiraSandbox.seeded(issues=12, seed=3, email=EMAIL, token=TOKEN)
    for key, reach, impact, confidence, effort, priority, labels in SEED:
        sandbox.human_edit(
            key,
            fields={
                REACH: reach,
                IMPACT: {"value": impact},
                CONFIDENCE: {"value": confidence},
                EFFORT: effort,
                "priority": {"name": priority},
                "labels": labels,
                "customfield_10059": None,
                "customfield_10060": None,
            },
        )
    with serve_in_thread(create_jira_app(sandbox)) as url:
        yield Site(sandbox=sandbox, url=url, tmp=tmp_path)


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

    def test_needs_input_reported_with_reason(self, site: Site) -> None:
        """The plan names each item missing input and why."""
        result = site.run("plan", "--format", "json")
        assert result.returncode == 0, result.stderr
        skipped = json.loads(result.stdout)["skipped"]
        assert skipped == [{"key": "WEB-5", "source": "web", "missing": ["Reach: empty"]}]

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
        assert site.writes() == 1  # the first refused edit; the rest were never sent


class TestHistoryAndRevert:
    def test_revert_restores_and_respects_later_edits(self, site: Site) -> None:
        """revert writes back what run 1 replaced, except where a person changed it since."""
        assert site.run("sync").returncode == 0
        site.sandbox.human_edit("WEB-2", fields={"priority": {"name": "Lowest"}})
        result = site.run("revert", "1")
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
        result = site.run("revert", "99")
        assert result.returncode == 1
        assert "no run 99" in result.stderr


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

    def test_init_discovers_the_mapping(self, site: Site) -> None:
        """Given a site and credentials, init asks for the fields and writes a config that checks."""
        target = site.tmp / "new.toml"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRIOSYNC_", "JIRA_"))}
        env.update(JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "priosync",
                "init",
                "--path",
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
        assert 'rank_field = "Backlog rank"' in text
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
