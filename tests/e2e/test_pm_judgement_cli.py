"""Key metrics and fresh inputs as a user meets them: the CLI as a subprocess against the
sandbox Jira on loopback (an item goes stale, then fresh again) and against a CSV export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

ROOT = Path(__file__).parents[2]
TOKEN = "tok-SECRET-4242"
EMAIL = "bot@example.com"
REACH, IMPACT, CONFIDENCE, EFFORT, METRIC = (
    "customfield_10050",
    "customfield_10051",
    "customfield_10052",
    "customfield_10053",
    "customfield_10066",
)
NOW = datetime.now(UTC).replace(microsecond=0)

CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[scoring.metrics]
field = "Key metric"
weights = {{ Activation = 1.5, Retention = 1.2, Revenue = 2.0 }}

[scoring.freshness]
review_after_days = 90
stale_label = "needs-review"
confidence_decay = 0.5

[outputs]
score_field = "RICE score"
explain_field = "Score rationale"
label_prefix = "roadmap:"
roadmap = [{{ name = "now", capacity = 3 }}, {{ name = "later" }}]

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "project = WEB AND key in (WEB-1, WEB-2, WEB-3)"
"""


@dataclass
class Site:
    sandbox: JiraSandbox
    url: str
    tmp: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        config = self.tmp / "priosync.toml"
        config.write_text(CONFIG.format(url=self.url))
        env = child_env(
            JIRA_EMAIL=EMAIL,
            JIRA_API_TOKEN=TOKEN,
            PRIOSYNC_STATE=str(self.tmp / "audit.sqlite3"),
            NO_COLOR="1",
        )
        return subprocess.run(
            [sys.executable, "-m", "priosync", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
            cwd=ROOT,
        )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Three issues a person filled in 134 days ago (WEB-1, WEB-2) and last week (WEB-3)."""
    sandbox = JiraSandbox.seeded(issues=6, seed=3, email=EMAIL, token=TOKEN)
    for key, days, metric in (("WEB-1", 134, "Revenue"), ("WEB-2", 134, None), ("WEB-3", 7, None)):
        sandbox.now = lambda d=days: NOW - timedelta(days=d)  # type: ignore[misc]
        sandbox.human_edit(
            key,
            fields={
                REACH: 1000 + days,
                IMPACT: {"value": "High"},
                CONFIDENCE: {"value": "High"},
                EFFORT: 1,
                METRIC: {"value": metric} if metric else None,
                "labels": ["customer"],
            },
        )
    sandbox.now = lambda: datetime.now(UTC)
    with serve_in_thread(create_jira_app(sandbox)) as url:
        yield Site(sandbox=sandbox, url=url, tmp=tmp_path)


class TestStaleThenFresh:
    def test_stale_label_comes_and_goes_one_by_one(self, site: Site) -> None:
        """Stale WEB-1 and WEB-2 get needs-review (added alone, the person's label kept), a
        decayed confidence and a dated remark; a second sync writes nothing; once a person
        changes WEB-2's reach it loses the label (removed alone) and its full confidence."""
        first = site.run("sync", "--format", "json")
        assert first.returncode == 0, first.stderr
        web1 = site.sandbox.issue("WEB-1")
        assert set(web1.labels) == {"customer", "needs-review", "roadmap:now"}
        assert web1.fields_by_name["RICE score"] == 1134 * 2 * 0.5 / 1 * 2.0
        stale_since = (NOW - timedelta(days=134)).date().isoformat()
        assert web1.fields_by_name["Score rationale"] == (
            f"RICE 1134×2×0.5/1 = 1134 × Revenue 2 = 2268 · now · stale: inputs unchanged "
            f"since {stale_since}, confidence × 0.5"
        )
        assert "needs-review" not in site.sandbox.issue("WEB-3").labels
        writes = len(site.sandbox.edit_log)

        second = site.run("sync", "--format", "json")
        assert json.loads(second.stdout)["changes"] == []
        assert len(site.sandbox.edit_log) == writes
        assert site.run("plan", "--detailed-exitcode").returncode == 0

        site.sandbox.human_edit("WEB-2", fields={REACH: 5000})
        third = site.run("sync", "--format", "json")
        assert third.returncode == 0, third.stderr
        web2 = site.sandbox.issue("WEB-2")
        assert set(web2.labels) == {"customer", "roadmap:now"}
        assert web2.fields_by_name["RICE score"] == 10000
        changed = [e for e in site.sandbox.edit_log[writes + 1 :] if e.key == "WEB-2"]
        labels = [c for e in changed for c in e.changes if c.field_id == "labels"]
        assert len(labels) == 1
        assert set((labels[0].from_string or "").split()) - set(
            (labels[0].to_string or "").split()
        ) == {"needs-review"}
        assert "needs-review" in site.sandbox.issue("WEB-1").labels

    def test_rank_shows_the_days_and_the_split(self, site: Site) -> None:
        """`rank` says how stale, from which history, and how now splits across metrics."""
        result = site.run("rank", "--format", "json")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        rows = {r["key"]: r for r in document["items"]}
        assert (rows["WEB-1"]["metric"], rows["WEB-1"]["stale"]) == ("Revenue", True)
        assert rows["WEB-3"]["stale"] is False
        assert rows["WEB-3"]["inputs_basis"] == "tracker"
        assert document["capacity_by_metric"][0]["bucket"] == "now"
        table = site.run("rank")
        assert "stale 134 d" in table.stdout
        assert "Capacity by key metric" in table.stdout
        assert "now: Revenue 33 %, none 67 %" in table.stdout


class TestCsv:
    def test_rank_a_csv_with_a_metric_and_a_date_column(self, tmp_path: Path) -> None:
        """A CSV names each row's metric and when its inputs were reviewed; `rank` weighs,
        flags the old row and splits the buckets, also in the HTML report."""
        old = (NOW - timedelta(days=200)).date().isoformat()
        recent = (NOW - timedelta(days=5)).date().isoformat()
        (tmp_path / "backlog.csv").write_text(
            "Issue key,Summary,Reach,Impact,Confidence,Effort,Key metric,Reviewed\n"
            f"A-1,Checkout,100,2,100%,3,Revenue,{recent}\n"
            f"A-2,Onboarding,300,1,100%,1,Retention,{old}\n"
            f"A-3,Docs,150,1,100%,1,,{recent}\n",
            encoding="utf-8",
        )
        config = tmp_path / "priosync.toml"
        config.write_text(
            """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
[scoring.metrics]
field = "Key metric"
weights = { Revenue = 2.0, Retention = 1.0 }
targets = { Revenue = 0.5 }
[scoring.freshness]
review_after_days = 90
[outputs]
roadmap = [{ name = "now", capacity = 5 }, { name = "later" }]
[[sources]]
name = "export"
kind = "file"
path = "backlog.csv"
changed_column = "Reviewed"
""",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRIOSYNC_")}
        env.update(PRIOSYNC_STATE=str(tmp_path / "audit.sqlite3"), NO_COLOR="1")

        def rank(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "priosync", "rank", "--config", str(config), *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )

        table = rank()
        assert table.returncode == 0, table.stderr
        assert "now: Revenue 60 % (target 50 %, +10 pts), Retention 20 %, none 20 %" in table.stdout
        rows = {r["key"]: r for r in json.loads(rank("--format", "json").stdout)["items"]}
        assert [rows[k]["score"] for k in ("A-1", "A-2", "A-3")] == [133.3, 300.0, 150.0]
        assert (rows["A-2"]["stale"], rows["A-1"]["stale"]) == (True, False)
        html = rank("--format", "html").stdout
        assert "Capacity by key metric" in html
        assert "now: Revenue 60 %" in html
