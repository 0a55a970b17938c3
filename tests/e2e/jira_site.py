"""A small Jira site for the CLI tests: the sandbox Jira on loopback with six issues a
person left in known states, a config that maps them, and the CLI run as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread
from tests.child_env import child_env

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
        env = child_env(
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


def serve_site(tmp_path: Path) -> Iterator[Site]:
    """The seeded site served on loopback for the duration of a test."""
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
