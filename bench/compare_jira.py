"""Benchmark: priosync vs a plain ``jira``-library script doing the same sync (design §11).

Serves the sandbox Jira Cloud on loopback with injected latency and, against fresh identical
sandboxes in the same run, makes three programs do one job — score the open issues of
``project = WEB AND statusCategory != Done`` with RICE and write the score, the priority
tier and the ``roadmap:`` label (``needs-scoring`` on items missing an input) back:

- ``priosync``: ``priosync sync`` as a subprocess, default pacing;
- ``script (diff)``: a team script on the independent ``jira`` library — JQL search pages
  with the needed fields (``enhanced_search_issues``, ``maxResults`` + ``nextPageToken``),
  then ``issue.update(fields=..., update=...)`` for each issue whose values differ;
- ``script (naive)``: the same script writing every issue, as many scripts do.

Both scripts call priosync's pure ``score_backlog`` so the math is identical: the
comparison is about I/O, not scoring. Every program runs as a subprocess so its peak RSS is
its own. Figures per size and phase (first sync, then a no-op re-sync on the same tracker):
HTTP requests by kind (from the sandbox's request log), wall time, peak RSS. Afterwards the
end states (score, priority, labels of every issue) of all programs are compared.

Sizes above ``--first-sync-max`` get only the no-op phase: one sandbox is brought to the
synced state with latency off (priosync with pacing lifted), then each program re-syncs it.

    .venv/bin/python bench/compare_jira.py [--sizes 1000 10000] [--latency-ms 50]

``baseline`` is the script itself (run by the benchmark as a child process)::

    JIRA_EMAIL=… JIRA_API_TOKEN=… python bench/compare_jira.py baseline --url URL [--naive]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import (
    ChildRun,
    RequestCounts,
    child_env,
    count_requests,
    format_count,
    markdown_table,
    run_child,
)

from priosync.domain import Cut, ModelSpec, RankedItem, WorkItem

if TYPE_CHECKING:
    from jira import JIRA
    from jira.resources import Issue

    from sandbox.jira import JiraSandbox

# ── the job, stated once: both the priosync config and the script are built from this ────

JQL = "project = WEB AND statusCategory != Done"
INPUT_FIELDS = {
    "reach": "Reach",
    "impact": "Impact",
    "confidence": "Confidence",
    "effort": "Effort",
}
IMPACT_SCALE = {"Massive": 3.0, "High": 2.0, "Medium": 1.0, "Low": 0.5, "Minimal": 0.25}
CONFIDENCE_SCALE = {"High": 1.0, "Medium": 0.8, "Low": 0.5}
DECIMALS = 1
SCORE_FIELD = "RICE score"
LABEL_PREFIX = "roadmap:"
NEEDS_INPUT = "needs-scoring"
TIERS = (
    Cut("Highest", top=5),
    Cut("High", min_score=100),
    Cut("Medium", min_score=20),
    Cut("Low"),
)
BUCKETS = (Cut("now", capacity=6), Cut("next", capacity=12), Cut("later"))
SPEC = ModelSpec(
    model="rice",
    inputs=("reach", "impact", "confidence", "effort"),
    scales={"impact": IMPACT_SCALE, "confidence": CONFIDENCE_SCALE},
    percent_inputs=frozenset({"confidence"}),
    decimals=DECIMALS,
    effort_input="effort",
)
EMAIL, TOKEN = "demo@example.com", "sandbox-token"  # the sandbox's documented defaults
SEED = 7
README = Path(__file__).resolve().parent / "README.md"
CHILD_TIMEOUT_S = 1800.0


# ── the baseline: a plain team script on the `jira` library ─────────────────────────────


def run_baseline(url: str, *, naive: bool) -> dict[str, int]:
    """Search, score, write back; return how many issues were read and written."""
    from jira import JIRA

    client = JIRA(server=url, basic_auth=(os.environ["JIRA_EMAIL"], os.environ["JIRA_API_TOKEN"]))
    ids = field_ids(client)
    wanted = [ids[name] for name in (*INPUT_FIELDS.values(), SCORE_FIELD)]
    issues = search_all(client, [*wanted, "summary", "priority", "labels"])
    items = [work_item_from(issue, ids, url) for issue in issues]
    ranking = score_backlog_of(items)
    by_key = {issue.key: issue for issue in issues}
    written = 0
    for ranked in ranking:
        issue = by_key[ranked.item.key]
        edit = edit_for(ranked, issue, ids, naive=naive)
        if edit is not None:
            issue.update(fields=edit[0], update=edit[1], notify=False)
            written += 1
    return {"issues": len(issues), "written": written}


def field_ids(client: JIRA) -> dict[str, str]:
    """Field name → id; the first field wins when two share a name (as Jira's UI shows)."""
    ids: dict[str, str] = {}
    for field in client.fields():
        ids.setdefault(field["name"], field["id"])
    return ids


def search_all(client: JIRA, fields: Sequence[str]) -> list[Issue]:
    """Every issue of the JQL, page by page with ``nextPageToken``, with only ``fields``."""
    issues: list[Issue] = []
    token: str | None = None
    while True:
        page = client.enhanced_search_issues(
            JQL, nextPageToken=token, maxResults=100, fields=list(fields)
        )
        assert not isinstance(page, dict)  # json_result=False returns a ResultList
        issues.extend(page)
        token = page.nextPageToken
        if not token:
            return issues


def work_item_from(issue: Issue, ids: Mapping[str, str], url: str) -> WorkItem:
    """The scoring input: raw field values by model input name (option names for selects)."""
    inputs = {
        name: raw_value(getattr(issue.fields, ids[field], None))
        for name, field in INPUT_FIELDS.items()
    }
    return WorkItem(
        key=issue.key,
        title=issue.fields.summary,
        url=f"{url}/browse/{issue.key}",
        source="web",
        inputs=inputs,
    )


def raw_value(value: Any) -> str | float | None:
    """A number as is, a select option as its name, empty as None."""
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value.value)


def score_backlog_of(items: Sequence[WorkItem]) -> tuple[RankedItem, ...]:
    """priosync's pure scoring, so both programs compute the very same targets."""
    from scoring import score_backlog

    return score_backlog(items, SPEC, tiers=TIERS, buckets=BUCKETS)


def edit_for(
    ranked: RankedItem, issue: Issue, ids: Mapping[str, str], *, naive: bool
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(fields, update)`` for ``issue.update``, or None when nothing differs (diff mode).

    Scored: the score, the priority tier and one ``roadmap:`` label. Unscored (an input
    missing): score and priority are left alone, the roadmap label goes, ``needs-scoring``
    comes. Naive mode sends the score, the priority and the label for every issue.
    """
    from scoring import round_half_up

    current = issue.fields
    owned = {
        label
        for label in current.labels or ()
        if label.startswith(LABEL_PREFIX) or label == NEEDS_INPUT
    }
    fields: dict[str, Any] = {}
    if ranked.rank is None:
        target = {NEEDS_INPUT}
    else:
        target = {LABEL_PREFIX + ranked.bucket} if ranked.bucket else set()
        score = getattr(current, ids[SCORE_FIELD], None)
        if naive or score is None or round_half_up(score, DECIMALS) != ranked.score.value:
            fields[ids[SCORE_FIELD]] = ranked.score.value
        priority = current.priority.name if current.priority else None
        if ranked.tier is not None and (naive or priority != ranked.tier):
            fields["priority"] = {"name": ranked.tier}
    to_add = target if naive else target - owned
    ops = [{"add": label} for label in sorted(to_add)]
    ops += [{"remove": label} for label in sorted(owned - target)]
    if not naive and not fields and not ops:
        return None
    return fields, ({"labels": ops} if ops else {})


# ── the benchmark ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Result:
    """One program's run of one phase at one size."""

    size: int
    program: str
    phase: str
    requests: RequestCounts
    child: ChildRun


#: An issue's owned state: (RICE score, priority, labels).
IssueState = tuple[float | None, str | None, tuple[str, ...]]
PRIOSYNC_UNPACED = "priosync, pacing lifted"
PROGRAMS = ("priosync", PRIOSYNC_UNPACED, "script (diff)", "script (naive)")


def priosync_config(url: str, *, unpaced: bool) -> str:
    """The TOML config saying exactly what the script's constants say."""

    def cuts(items: Sequence[Cut]) -> str:
        return ",\n".join("  { " + cut_fields(c) + " }" for c in items)

    pacing = "pacing = { writes_per_second = 2000, reads_per_second = 2000, concurrency = 16 }"
    scales = {"impact": IMPACT_SCALE, "confidence": CONFIDENCE_SCALE}
    return "\n".join(
        [
            "[scoring]",
            'model = "rice"',
            f"decimals = {DECIMALS}",
            "inputs = { " + ", ".join(f'{k} = "{v}"' for k, v in INPUT_FIELDS.items()) + " }",
            *(
                f"scales.{name} = {{ " + ", ".join(f"{k} = {v}" for k, v in scale.items()) + " }"
                for name, scale in scales.items()
            ),
            "",
            "[outputs]",
            f'score_field = "{SCORE_FIELD}"',
            'priority_field = "priority"',
            f'label_prefix = "{LABEL_PREFIX}"',
            f'needs_input_label = "{NEEDS_INPUT}"',
            f"priority = [\n{cuts(TIERS)},\n]",
            f"roadmap = [\n{cuts(BUCKETS)},\n]",
            "",
            "[[sources]]",
            'name = "web"',
            'kind = "jira"',
            f'url = "{url}"',
            f'jql = "{JQL}"',
            'deployment = "cloud"',
            pacing if unpaced else "",
            "",
        ]
    )


def cut_fields(cut: Cut) -> str:
    parts = [f'name = "{cut.name}"']
    for key in ("min_score", "top", "top_percent", "capacity"):
        value = getattr(cut, key)
        if value is not None:
            parts.append(f"{key} = {value}")
    return ", ".join(parts)


def child_argv(program: str, url: str, config: Path, state: Path) -> list[str]:
    if program in ("priosync", PRIOSYNC_UNPACED):
        return [
            sys.executable,
            "-m",
            "priosync",
            "sync",
            "--config",
            str(config),
            "--state",
            str(state),
            "--format",
            "json",
        ]
    naive = ["--naive"] if program == "script (naive)" else []
    return [sys.executable, str(Path(__file__).resolve()), "baseline", "--url", url, *naive]


def sandbox_env() -> dict[str, str]:
    return child_env(JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN)


def tracker_state(sandbox: JiraSandbox) -> dict[str, IssueState]:
    """Every issue's score, priority and labels (sorted), by key."""
    return {
        view.key: (view.fields_by_name[SCORE_FIELD], view.priority, tuple(sorted(view.labels)))
        for view in sandbox.issues()
    }


@contextmanager
def served_sandbox(size: int, latency_ms: float) -> Iterator[tuple[JiraSandbox, str]]:
    """A freshly seeded sandbox Jira on a free loopback port; the same seed every time."""
    from sandbox.jira import Faults, JiraSandbox, create_jira_app
    from sandbox.loopback import serve_in_thread

    sandbox = JiraSandbox.seeded(issues=size, seed=SEED, faults=Faults(latency_ms=latency_ms))
    with serve_in_thread(create_jira_app(sandbox)) as url:
        yield sandbox, url


def run_phase(
    sandbox: JiraSandbox, url: str, program: str, *, size: int, phase: str, workdir: Path
) -> Result:
    """Run one program once against ``sandbox``; fail loudly when it fails."""
    config = workdir / "priosync.toml"
    config.write_text(priosync_config(url, unpaced=program == PRIOSYNC_UNPACED))
    sandbox.request_log.clear()
    child = run_child(
        child_argv(program, url, config, workdir / "audit.sqlite3"),
        env=sandbox_env(),
        workdir=workdir / phase,
        timeout_s=CHILD_TIMEOUT_S,
    )
    if child.returncode != 0:
        raise SystemExit(
            f"{program} {phase} at {size} exited {child.returncode}:\n{child.stderr[-2000:]}"
        )
    result = Result(size, program, phase, count_requests(sandbox.request_log), child)
    print(
        f"  {size:>6,} {program:<15} {phase:<6} {result.requests.reads:>6} reads "
        f"{result.requests.writes:>6} writes {child.wall_s:7.1f} s "
        f"{child.peak_rss_mib:6.0f} MiB",
        flush=True,
    )
    return result


def bench_full(
    size: int, programs: Sequence[str], latency_ms: float, tmp: Path
) -> tuple[list[Result], list[str]]:
    """First sync then a no-op re-sync, each program on its own fresh sandbox."""
    results: list[Result] = []
    states: dict[str, dict[str, IssueState]] = {}
    for program in programs:
        workdir = tmp / f"{size}-{program.replace(' ', '_')}"
        workdir.mkdir()
        with served_sandbox(size, latency_ms) as (sandbox, url):
            for phase in ("first", "no-op"):
                results.append(
                    run_phase(sandbox, url, program, size=size, phase=phase, workdir=workdir)
                )
            states[program] = tracker_state(sandbox)
    return results, compare_states(size, states)


def bench_noop_only(
    size: int, programs: Sequence[str], latency_ms: float, tmp: Path
) -> tuple[list[Result], list[str]]:
    """Sync one sandbox with latency off, then time each program's no-op re-sync on it."""
    workdir = tmp / f"{size}-prep"
    workdir.mkdir()
    results: list[Result] = []
    states: dict[str, dict[str, IssueState]] = {}
    with served_sandbox(size, latency_ms) as (sandbox, url):
        prepare_synced(sandbox, url, workdir)
        states["synced"] = tracker_state(sandbox)
        for program in programs:
            program_dir = tmp / f"{size}-{program.replace(' ', '_')}"
            program_dir.mkdir()
            results.append(
                run_phase(sandbox, url, program, size=size, phase="no-op", workdir=program_dir)
            )
            states[program] = tracker_state(sandbox)
    return results, compare_states(size, states)


def prepare_synced(sandbox: JiraSandbox, url: str, workdir: Path) -> None:
    """Bring ``sandbox`` to the synced state fast: latency off, priosync's pacing lifted."""
    config = workdir / "unpaced.toml"
    config.write_text(priosync_config(url, unpaced=True))
    latency_ms, sandbox.faults.latency_ms = sandbox.faults.latency_ms, 0.0
    try:
        argv = child_argv("priosync", url, config, workdir / "audit.sqlite3")
        child = run_child(argv, env=sandbox_env(), workdir=workdir, timeout_s=CHILD_TIMEOUT_S)
    finally:
        sandbox.faults.latency_ms = latency_ms
    if child.returncode != 0:
        raise SystemExit(f"preparing the synced state failed:\n{child.stderr[-2000:]}")
    print(
        f"  prepared the synced state of {len(sandbox.issues()):,} issues "
        f"({len(sandbox.edit_log):,} edits, latency off) in {child.wall_s:.1f} s",
        flush=True,
    )


def compare_states(size: int, states: Mapping[str, dict[str, IssueState]]) -> list[str]:
    """One line per program saying whether its end state equals the first program's."""
    names = list(states)
    reference = states[names[0]]
    lines = []
    for name in names[1:]:
        differing = sorted(k for k in reference if reference[k] != states[name].get(k))
        verdict = (
            "identical"
            if not differing and len(states[name]) == len(reference)
            else (
                f"DIFFERENT on {len(differing)} issues, e.g. "
                + "; ".join(f"{k}: {reference[k]} vs {states[name].get(k)}" for k in differing[:3])
            )
        )
        lines.append(
            f"{format_count(size)} issues: {name} vs {names[0]}: "
            f"{format_count(len(reference))} issues compared (score, priority, labels) — "
            f"{verdict}"
        )
    return lines


# ── output ───────────────────────────────────────────────────────────────────────────────

HEADERS = ("issues", "program", "sync", "reads", "writes", "requests", "wall time", "peak RSS")


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    return [
        [
            format_count(r.size),
            r.program,
            r.phase,
            format_count(r.requests.reads),
            format_count(r.requests.writes),
            format_count(r.requests.total),
            f"{r.child.wall_s:.1f} s",
            f"{r.child.peak_rss_mib:.0f} MiB",
        ]
        for r in results
    ]


def endpoint_rows(results: Sequence[Result]) -> list[list[str]]:
    return [
        [format_count(r.size), r.program, r.phase, r.requests.describe() or "—"] for r in results
    ]


def render_results(
    results: Sequence[Result], checks: Sequence[str], *, command: str, latency_ms: float
) -> str:
    """The generated part of bench/README.md: command, setup, tables, state checks."""
    return "\n".join(
        [
            f"Command: `{command}`",
            "",
            f"Setup: sandbox Jira Cloud served by uvicorn on 127.0.0.1 in the benchmark process, "
            f"{latency_ms:g} ms injected latency per request, no rate limiting; each program a "
            f"subprocess (peak RSS is its own `ru_maxrss`); {os.cpu_count()} cores shared with "
            "other work. priosync runs with its default pacing (reads 50/s, writes 25/s, 8 in "
            'flight); "pacing lifted" is the same sync with `pacing = { writes_per_second = 2000, '
            "reads_per_second = 2000, concurrency = 16 }`, to show what the pacing costs; the "
            "scripts are sequential, as the `jira` library is.",
            "",
            markdown_table(HEADERS, table_rows(results)),
            "",
            "Requests by endpoint:",
            "",
            markdown_table(("issues", "program", "sync", "requests"), endpoint_rows(results)),
            "",
            "End state check (every issue's RICE score, priority and labels after the run):",
            "",
            *(f"- {line}" for line in checks),
            "",
        ]
    )


def update_readme(path: Path, generated: str) -> None:
    """Replace the text between the results markers, keeping the hand-written reading."""
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{start}\n{generated}{end}{tail}")


def main_bench(args: argparse.Namespace) -> None:
    results: list[Result] = []
    checks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="priosync-bench-") as tmp:
        for size in args.sizes:
            programs = [p for p in PROGRAMS if p != "script (naive)" or size <= args.naive_max]
            bench = bench_full if size <= args.first_sync_max else bench_noop_only
            size_results, size_checks = bench(size, programs, args.latency_ms, Path(tmp))
            results += size_results
            checks += size_checks
    command = "python bench/compare_jira.py " + " ".join(sys.argv[1:])
    generated = render_results(results, checks, command=command.strip(), latency_ms=args.latency_ms)
    print("\n" + generated)
    if args.readme:
        update_readme(README, generated)
        print(f"wrote {README}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    baseline = sub.add_parser("baseline", help="run the plain jira-library script once")
    baseline.add_argument("--url", required=True)
    baseline.add_argument("--naive", action="store_true", help="write every issue")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--first-sync-max",
        type=int,
        default=1000,
        help="larger sizes run only the no-op re-sync (default 1000)",
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        default=1000,
        help="larger sizes skip the naive script (default 1000)",
    )
    parser.add_argument(
        "--no-readme",
        dest="readme",
        action="store_false",
        help="print only; do not update bench/README.md",
    )
    args = parser.parse_args()
    if args.command == "baseline":
        print(json.dumps(run_baseline(args.url, naive=args.naive)))
    else:
        main_bench(args)


if __name__ == "__main__":
    main()
