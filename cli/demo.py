"""`priosync demo`: the whole flow against an embedded sandbox Jira, in a few seconds.

The sandbox runs in-process (``httpx.ASGITransport``): no account, no network, no port.
The demo plans, writes with a progress bar, shows the ranking, then syncs again to show
that nothing is left to write — the invariant a PM can check with their own eyes.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from cli import exit_codes
from cli.progress import WriteProgress
from config import validate_config
from reports.text import plan_summary, render_plan, render_rank
from sync.audit import SqliteAuditLog
from sync.pipeline import run_sync

DEMO_CONFIG: dict[str, Any] = {
    "scoring": {
        "model": "rice",
        "decimals": 1,
        "inputs": {
            "reach": "Reach",
            "impact": "Impact",
            "confidence": "Confidence",
            "effort": "Effort",
        },
        "scales": {
            "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
            "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
        },
    },
    "outputs": {
        "score_field": "RICE score",
        "priority_field": "priority",
        "label_prefix": "roadmap:",
        "needs_input_label": "needs-scoring",
        "explain_field": "Score rationale",
        "pin_label": "priority-pinned",
        "priority": [
            {"name": "Highest", "top": 3},
            {"name": "High", "top_percent": 25},
            {"name": "Medium", "top_percent": 70},
            {"name": "Low"},
        ],
        "roadmap": [
            {"name": "now", "capacity": 10},
            {"name": "next", "capacity": 20},
            {"name": "later"},
        ],
    },
    "sources": [
        {
            "name": "web",
            "kind": "jira",
            "url": "https://jira.sandbox.invalid",
            "jql": "project = WEB AND statusCategory != Done ORDER BY key",
        }
    ],
}


async def run_demo(console: Console, *, issues: int = 40, seed: int = 7) -> int:
    from sandbox.jira import JiraSandbox, create_jira_app

    sandbox = JiraSandbox.seeded(issues=issues, seed=seed)
    transports = {"web": httpx.ASGITransport(app=create_jira_app(sandbox))}
    environ = {"JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "sandbox-token"}
    loaded = validate_config(DEMO_CONFIG, file=Path("demo (built in)"), environ={})
    console.print(
        f"priosync demo: a sandbox Jira with {issues} issues in project WEB (seed {seed}), "
        "scored with RICE, written back as score, priority and roadmap:now/next/later labels.\n",
        markup=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        audit = SqliteAuditLog(Path(tmp) / "audit.sqlite3")
        try:
            console.rule("1. plan: what a sync would change")
            first = await run_sync(loaded, environ=environ, transports=transports)
            render_plan(first.plan, "table", console)

            console.rule("2. sync: write only what differs")
            before = len(sandbox.request_log)
            with WriteProgress(console) as progress:
                wrote = await run_sync(
                    loaded,
                    environ=environ,
                    transports=transports,
                    write=True,
                    audit=audit,
                    on_plan=progress.start,
                    on_result=progress.tick,
                )
            assert wrote.report is not None
            console.print(plan_summary(wrote.plan, wrote.report), markup=False)
            console.print(f"requests: {count_requests(sandbox.request_log[before:])}", markup=False)

            console.rule("3. the ranked backlog, as Jira now shows it")
            render_rank(wrote.plan.ranking, "table", console)

            console.rule("4. sync again: nothing left to write")
            before = len(sandbox.request_log)
            again = await run_sync(
                loaded, environ=environ, transports=transports, write=True, audit=audit
            )
            assert again.report is not None
            console.print(plan_summary(again.plan, again.report), markup=False)
            console.print(f"requests: {count_requests(sandbox.request_log[before:])}", markup=False)
        finally:
            audit.close()
    failed = bool(wrote.report.failed or again.plan.changes)
    return exit_codes.WRITES if failed else exit_codes.OK


def count_requests(log: list[Any]) -> str:
    kinds = Counter(entry.kind for entry in log)
    return f"{len(log)} ({kinds.get('read', 0)} reads, {kinds.get('write', 0)} writes)"
