"""The GitHub Action's main step: run priosync once, write the job summary and step outputs.

Called by ``action.yml`` with the inputs in ``INPUT_COMMAND``, ``INPUT_CONFIG``,
``INPUT_MAX_WRITES`` and ``INPUT_SOURCE`` (passed through ``env:``, never spliced into the
script, so an input cannot inject shell). priosync runs once with ``--format json``; the
Markdown summary is rendered from that document with priosync's own report code, so one run
yields both the summary and the counts.

Outputs (``$GITHUB_OUTPUT``): ``changed`` (``plan``: items a sync would change; ``sync``: items
written), ``unchanged``, ``skipped`` (need input), ``failed``, ``left`` (over the write
budget), ``exit-code``. This step itself always succeeds, so the audit log is saved to the
cache after a failed run too; the action's last step fails with priosync's exit code.

With ``INPUT_COMMENT=true`` on a pull request, the summary is also the PR's one priosync
comment: found by a hidden marker and edited in place (REST, ``INPUT_GITHUB_TOKEN``), so a
PR gets one comment however often it is pushed. A refused comment (a fork's read-only
token) is a warning; the plan is in the job summary anyway.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from priosync.domain import Change, Outputs, Plan, Skipped, WorkItem, WriteResult
from priosync.errors import ChangeRejected, PriosyncError
from reports.literal import shown_key
from reports.text import _md, plan_summary, render_plan
from sync.writer import WriteReport

COMMANDS = ("sync", "plan")
#: Marks priosync's PR comment, so the next run edits it instead of adding another.
COMMENT_MARKER = "<!-- priosync:plan-comment -->"
#: GitHub refuses comment bodies over 65,536 characters.
MAX_COMMENT = 65_000
#: GitHub caps one step's summary at 1 MiB; a few thousand rows stay well below it.
MAX_SUMMARY_ROWS = 1_000
EXIT_USAGE = 1


def build_argv(env: Mapping[str, str]) -> list[str]:
    """The priosync command line for the action's inputs; ValueError on a bad input."""
    command = env.get("INPUT_COMMAND", "sync").strip() or "sync"
    if command not in COMMANDS:
        raise ValueError(f"input 'command' must be one of {', '.join(COMMANDS)}, got {command!r}")
    argv = ["priosync", command, "--format", "json"]
    config = env.get("INPUT_CONFIG", "").strip()
    if config:
        argv += ["--config", config]
    state = env.get("INPUT_STATE", "").strip()
    if state:
        argv += ["--state", state]
    for source in split_sources(env.get("INPUT_SOURCE", "")):
        argv += ["--source", source]
    max_writes = env.get("INPUT_MAX_WRITES", "").strip()
    if max_writes:
        if not max_writes.isdigit():
            raise ValueError(f"input 'max-writes' must be a whole number, got {max_writes!r}")
        if command == "sync":
            argv += ["--max-writes", max_writes]
    return argv


def split_sources(text: str) -> list[str]:
    """Source names from an input: comma- or newline-separated, blanks dropped."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def count_outputs(command: str, doc: Mapping[str, Any] | None, exit_code: int) -> dict[str, str]:
    """The step outputs; counts are 0 when priosync printed no report (exit 1 or 2)."""
    doc = doc or {}
    changes = len(doc.get("changes", []))
    failed = len(doc.get("failed", []))
    left = len(doc.get("left", []))
    changed = int(doc.get("written", 0)) if command == "sync" else changes
    return {
        "changed": str(changed),
        "unchanged": str(int(doc.get("unchanged", 0))),
        "skipped": str(len(doc.get("skipped", []))),
        "failed": str(failed),
        "left": str(left),
        "exit-code": str(exit_code),
    }


def render_summary(command: str, doc: Mapping[str, Any] | None, exit_code: int, errors: str) -> str:
    """The job summary: a headline, warnings, priosync's Markdown plan table (or, with nothing
    to change, a sentence saying so), items needing input, errors."""
    lines = [f"## priosync {command}", ""]
    if doc is not None:
        lines.append(render_plan_markdown(doc))
        lines += render_needs_input(doc)
    if exit_code != 0:
        lines += [f"**The step failed: priosync exited with {exit_code}.**", ""]
    if errors.strip():
        lines += ["```text", errors.strip(), "```", ""]
    return "\n".join(lines) + "\n"


def render_plan_markdown(doc: Mapping[str, Any]) -> str:
    """priosync's own Markdown table for the plan (and its write report, after a sync)."""
    plan, report = plan_from_document(doc)
    shown = plan.changes[:MAX_SUMMARY_ROWS]
    buffer = io.StringIO()
    render_plan(replace(plan, changes=shown), "markdown", Console(file=buffer), report)
    text = buffer.getvalue()
    if len(plan.changes) > len(shown):
        text += f"\n… and {len(plan.changes) - len(shown):,} more changes (see the job log).\n"
    # "3 changes, …; written 2, failed 0, left 1" plus any source that stopped writing.
    return text + "\n" + plan_summary(plan, report).replace("\n", "\n\n") + "\n"


def render_needs_input(doc: Mapping[str, Any]) -> list[str]:
    """A list of items that could not be scored, each with its reasons."""
    skipped = doc.get("skipped", [])
    if not skipped:
        return []
    lines = ["", f"**{len(skipped)} need input**", ""]
    for item in skipped[:MAX_SUMMARY_ROWS]:
        reasons = "; ".join(item.get("missing", [])) or "unscored"
        who = f" (ask {_md(item['assignee'])})" if item.get("assignee") else ""
        key = _md(shown_key(str(item["key"]), str(item.get("title") or "")))
        lines.append(f"- {key}{who}: {_md(reasons, limit=None)}")
    return [*lines, ""]


def plan_from_document(doc: Mapping[str, Any]) -> tuple[Plan, WriteReport | None]:
    """Rebuild the Plan (and the WriteReport, for a sync) from priosync's JSON document."""
    changes = tuple(
        Change(
            key=c["key"],
            source=c["source"],
            url=c.get("url", ""),
            before=outputs_from(c["before"]),
            after=outputs_from(c["after"]),
            reason=c.get("reason", ""),
            item=WorkItem(
                key=c["key"], title=c.get("title", ""), url=c.get("url", ""),
                source=c["source"], inputs={},
            ),
        )
        for c in doc.get("changes", [])
    )  # fmt: skip
    skipped = tuple(
        Skipped(key=s["key"], source=s.get("source", ""), missing=())
        for s in doc.get("skipped", [])
    )
    plan = Plan(
        changes=changes,
        unchanged=int(doc.get("unchanged", 0)),
        skipped=skipped,
        warnings=tuple(str(w) for w in doc.get("warnings", [])),
    )
    if "written" not in doc:
        return plan, None
    by_key = {(c.source, c.key): c for c in changes}
    failed = [
        WriteResult(
            change=by_key[(f["source"], f["key"])],
            error=ChangeRejected(str(f["error"]), tracker=str(f["source"]), status=None),
        )
        for f in doc.get("failed", [])
        if (f.get("source"), f.get("key")) in by_key
    ]
    left_keys = set(doc.get("left", []))
    failed_ids = {(r.change.source, r.change.key) for r in failed}
    report = WriteReport(
        written=[
            c for c in changes if c.key not in left_keys and (c.source, c.key) not in failed_ids
        ],
        failed=failed,
        left=[c for c in changes if c.key in left_keys],
        stopped={source: PriosyncError(str(why)) for source, why in doc.get("stopped", {}).items()},
    )
    return plan, report


def outputs_from(data: Mapping[str, Any]) -> Outputs:
    """An ``Outputs`` from its JSON form (``score``, ``priority``, ``labels``, …)."""
    return Outputs(
        score=data.get("score"),
        priority=data.get("priority"),
        labels=frozenset(data.get("labels", [])),
        explanation=data.get("explanation"),
        rank=data.get("rank"),
    )


def parse_document(stdout: str) -> dict[str, Any] | None:
    """priosync's JSON report, or None when it printed none (config or tracker errors)."""
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def append(path: str | None, text: str) -> None:
    """Append to a runner file (summary, outputs); a missing variable means not on a runner."""
    if path:
        with Path(path).open("a", encoding="utf-8") as file:
            file.write(text)


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Write ``name=value`` lines; every value is a number, so no multi-line delimiter is needed."""
    append(path, "".join(f"{name}={value}\n" for name, value in outputs.items()))


def post_comment(env: Mapping[str, str], summary: str) -> str:
    """Create or update the PR's priosync comment; say what was done, in one line."""
    if env.get("INPUT_COMMENT", "false").strip().lower() != "true":
        return ""
    number = pull_request_number(env.get("GITHUB_EVENT_PATH"))
    if number is None:
        return "comment: not a pull request event, no comment posted"
    repo, token = env.get("GITHUB_REPOSITORY", ""), env.get("INPUT_GITHUB_TOKEN", "")
    if not repo or not token:
        return "::warning title=priosync::comment: GITHUB_REPOSITORY or github-token is empty"
    body = COMMENT_MARKER + "\n" + summary
    if len(body) > MAX_COMMENT:
        body = body[:MAX_COMMENT] + "\n\n… cut here; the job summary has the rest.\n"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    api = env.get("GITHUB_API_URL") or "https://api.github.com"
    try:
        with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
            found = find_comment(client, f"/repos/{repo}/issues/{number}/comments")
            if found is None:
                answer = client.post(f"/repos/{repo}/issues/{number}/comments", json={"body": body})
                verb = "posted"
            else:
                answer = client.patch(f"/repos/{repo}/issues/comments/{found}", json={"body": body})
                verb = "updated"
            answer.raise_for_status()
    except httpx.HTTPError as exc:
        return f"::warning title=priosync::the PR comment could not be written: {exc}"
    return f"comment: {verb} the plan on pull request #{number}"


def pull_request_number(event_path: str | None) -> int | None:
    """The pull request's number from the event payload, or None for other events."""
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("pull_request", "issue"):
        found = event.get(key) if isinstance(event, dict) else None
        if isinstance(found, dict) and isinstance(found.get("number"), int):
            return int(found["number"])
    return None


def find_comment(client: httpx.Client, path: str) -> int | None:
    """The id of the comment carrying the marker, following the ``Link`` pages."""
    url: str | None = path
    params: dict[str, int] | None = {"per_page": 100}
    while url:
        answer = client.get(url, params=params)
        answer.raise_for_status()
        for comment in answer.json():
            if str(comment.get("body", "")).startswith(COMMENT_MARKER):
                return int(comment["id"])
        url = answer.links.get("next", {}).get("url")
        params = None
    return None


def main(env: Mapping[str, str] = os.environ) -> int:
    """Run priosync for the action's inputs; return the exit code the step should have."""
    command = env.get("INPUT_COMMAND", "sync").strip() or "sync"
    try:
        argv = build_argv(env)
    except ValueError as exc:
        append(
            env.get("GITHUB_STEP_SUMMARY"),
            render_summary(command, None, EXIT_USAGE, f"error: {exc}"),
        )
        write_outputs(env.get("GITHUB_OUTPUT"), count_outputs(command, None, EXIT_USAGE))
        print(f"::error title=priosync::{exc}", file=sys.stderr)
        return EXIT_USAGE
    print("+ " + " ".join(argv), file=sys.stderr, flush=True)
    # NO_COLOR: plain progress lines in the log; the JSON report goes to stdout untouched.
    # `python -m priosync`: the interpreter that installed it, whatever is on PATH.
    done = subprocess.run(  # noqa: S603 (our own CLI; inputs arrive as separate argv items, no shell)
        [sys.executable, "-m", *argv],
        capture_output=True,
        text=True,
        env={**env, "NO_COLOR": "1"},
        check=False,
    )
    sys.stderr.write(done.stderr)
    doc = parse_document(done.stdout)
    errors = "\n".join(line for line in done.stderr.splitlines() if line.startswith("error:"))
    summary = render_summary(command, doc, done.returncode, errors)
    append(env.get("GITHUB_STEP_SUMMARY"), summary)
    write_outputs(env.get("GITHUB_OUTPUT"), count_outputs(command, doc, done.returncode))
    said = post_comment(env, summary)
    if said:
        print(said, file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    main()  # the exit code is the step's output; the action's last step fails with it
