"""`priosync setup` output: each source's plan (what is there, what setup will do, what only a
person can) and, once applied, how each step went. Table lines or one JSON document.

Field names, messages and ids come from the tracker: table lines go through ``literal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rich.console import Console

from connectors.setup import SetupPlan, SetupProblem, SetupReport, SetupStep
from reports.literal import literal
from reports.text import write_json

Format = Literal["table", "json"]
_VERB = {
    "create-field": "create",
    "add-options": "add",
    "add-to-screen": "put",
    "create-label": "label",
}


def setup_document(
    plans: Sequence[SetupPlan], reports: Sequence[SetupReport] = (), *, dry_run: bool = False
) -> dict[str, Any]:
    """The JSON document: per source its plan and, when applied, the results."""
    applied = {r.plan.source: r for r in reports}
    sources = []
    for plan in plans:
        entry: dict[str, Any] = {
            "source": plan.source,
            "tracker": plan.tracker,
            "present": list(plan.present),
            "steps": [_step(s) for s in plan.steps],
            "blocked": [_step(s) for s in plan.blocked],
            "problems": [_problem(p) for p in plan.problems],
        }
        report = applied.get(plan.source)
        if report is not None:
            entry["results"] = [
                {**_step(r.step), "ok": r.ok, "detail": r.detail, "field_id": r.field_id}
                for r in report.results
            ]
            entry["not_done"] = [_step(s) for s in report.not_done]
            entry["stopped"] = report.stopped
            entry["notes"] = list(report.notes)
            entry["problems"] += [_problem(p) for p in report.problems]
        sources.append(entry)
    return {
        "dry_run": dry_run,
        "complete": all(p.complete for p in plans)
        and all(r.ok and not r.plan.problems for r in reports),
        "sources": sources,
    }


def render_plans(plans: Sequence[SetupPlan], fmt: Format, console: Console) -> None:
    """What setup found and would do, source by source (the prompt's and --dry-run's output)."""
    if fmt == "json":
        write_json(console, setup_document(plans, dry_run=True))
        return
    for plan in plans:
        _line(console, f"{plan.source}: {plan.tracker}")
        for present in plan.present:
            _line(console, f"  ok       {present}")
        for step in plan.steps:
            _line(console, f"  {_VERB[step.action]:<8} {step.detail}")
        for step in plan.blocked:
            _line(console, f"  blocked  {step.detail}")
        for problem in plan.problems:
            _line(console, _problem_line(problem))
        if plan.complete:
            _line(console, "  nothing to set up")


def render_reports(
    plans: Sequence[SetupPlan], reports: Sequence[SetupReport], fmt: Format, console: Console
) -> None:
    """What setup did: each step's result, what was never tried, what is left to a person."""
    if fmt == "json":
        write_json(console, setup_document(plans, reports))
        return
    for report in reports:
        plan = report.plan
        _line(console, f"{plan.source}: {plan.tracker}")
        for result in report.results:
            mark = "done  " if result.ok else "FAILED"
            detail = f": {result.detail}" if result.detail else ""
            _line(console, f"  {mark}   {_VERB[result.step.action]} {result.step.detail}{detail}")
        for note in report.notes:
            _line(console, f"  note     {note}")
        for step in report.not_done:
            _line(
                console,
                f"  not done {_VERB[step.action]} {step.detail} (setup stopped before it)",
            )
        for problem in [*plan.problems, *report.problems]:
            _line(console, _problem_line(problem))


def summary(plans: Sequence[SetupPlan], reports: Sequence[SetupReport]) -> str:
    """One closing line: what was created, and what is left."""
    done = sum(1 for r in reports for x in r.results if x.ok)
    failed = sum(1 for r in reports for x in r.results if not x.ok)
    left = sum(len(r.not_done) for r in reports)
    problems = sum(len(p.problems) for p in plans) + sum(len(r.problems) for r in reports)
    parts = [f"{done} created"]
    if failed:
        parts.append(f"{failed} failed")
    if left:
        parts.append(f"{left} not done")
    if problems:
        parts.append(f"{problems} left to a person (above)")
    return "setup: " + ", ".join(parts)


def _step(step: SetupStep) -> dict[str, Any]:
    return {
        "action": step.action,
        "target": step.target,
        "detail": step.detail,
        "setting": step.setting or None,
        "where": step.where or None,
        "options": list(step.options),
    }


def _problem(problem: SetupProblem) -> dict[str, str]:
    return {"what": problem.what, "detail": problem.detail, "fix": problem.fix}


def _problem_line(problem: SetupProblem) -> str:
    return f"  problem  {problem.what}: {problem.detail} — fix: {problem.fix}"


def _line(console: Console, text: str) -> None:
    console.print(literal(text, limit=None), highlight=False)
