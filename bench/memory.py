"""Benchmark: peak resident memory of ``rank``, ``plan``, ``sync`` and ``serve`` on large backlogs.

Per tracker (Jira Cloud, GitHub Projects) and size, a sandbox is seeded and served by
``priosync sandbox …`` in a process of its own, so its memory is never counted. Then each
command runs as a subprocess and its peak RSS is its own (``os.wait4`` rusage, as
``/usr/bin/time -v`` reports it): ``rank`` (as JSON, and as the default table), ``plan``
(the first plan: nearly every item to change), the first ``sync`` (pacing lifted), a no-op
``sync``; and, against Jira, the plain ``jira``-library script of ``compare_jira.py``
reading the same fields and writing the same values (its first sync on a fresh sandbox up
to ``--baseline-first-max`` issues, its no-op sync at every size). ``--service`` also
starts ``priosync serve`` on the largest synced backlog and reports its RSS once the
snapshot is loaded. Outputs are JSON on stdout (to a file, never read back: see
``run_measured``). Not part of the test suite::

    .venv/bin/python bench/memory.py [--sizes 1000 10000 50000] [--trackers jira github]
        [--baseline-first-max 2000] [--github-max-writes 2000] [--service]

``phases`` runs the pipeline in this process under ``tracemalloc`` and prints, per phase
(read, score + rank, plan, output), what the phase left allocated, its own peak, and the
lines that allocated most — where the memory goes::

    .venv/bin/python bench/memory.py phases --tracker jira --size 10000 [--top 8] [--rss-only]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ChildRun, child_env, format_count, markdown_table
from compare_jira import EMAIL, SEED, TOKEN, priosync_config

from sandbox.loopback import free_port

CHILD_TIMEOUT_S = 3600.0
SANDBOX_START_S = 600.0

GITHUB_CONFIG = """
[scoring]
model = "rice"
inputs = {{ reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }}
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
score_field = "RICE score"
priority_field = "Priority"
label_prefix = "roadmap:"
priority = [{{ name = "Highest", top = 5 }}, {{ name = "High", min_score = 100 }},
  {{ name = "Medium", min_score = 20 }}, {{ name = "Low" }}]
roadmap = [{{ name = "now", capacity = 6 }}, {{ name = "next", capacity = 12 }},
  {{ name = "later" }}]

[[sources]]
name = "app"
kind = "github"
project = "acme/1"
api_url = "{url}"
pacing = {{ writes_per_second = 2000, reads_per_second = 2000, concurrency = 16 }}
"""


@dataclass(frozen=True, slots=True)
class Row:
    """One program's run of one command at one size."""

    tracker: str
    size: int
    program: str
    command: str
    child: ChildRun


#: The GitHub sandbox's hourly budget here (its default is github.com's 5,000).
GITHUB_POINTS_PER_HOUR = 100_000


def env_for_children() -> dict[str, str]:
    return child_env(JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN, GITHUB_TOKEN=TOKEN)


@contextmanager
def sandbox_process(tracker: str, size: int, workdir: Path) -> Iterator[str]:
    """``priosync sandbox <tracker>`` seeded with ``size`` issues, in its own process."""
    port = free_port()
    log = (workdir / f"sandbox-{tracker}-{size}.log").open("w")
    argv = [sys.executable, "-m", "priosync", "sandbox", tracker]
    argv += ["--issues", str(size), "--seed", str(SEED), "--port", str(port)]
    if tracker == "github":
        # rank, plan, two syncs and their writes read 50,000 items ~4 times: past the 5,000
        # points an hour github.com gives a token, and GitHub sources wait out a spent hour
        argv += ["--points-per-hour", str(GITHUB_POINTS_PER_HOUR)]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env_for_children())  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: listening(port), what=f"the {tracker} sandbox", proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(ready: Callable[[], bool], *, what: str, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + SANDBOX_START_S
    while not ready():
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} was not ready after {SANDBOX_START_S:.0f} s")
        time.sleep(0.2)


def config_for(tracker: str, url: str) -> str:
    return (
        priosync_config(url, unpaced=True) if tracker == "jira" else GITHUB_CONFIG.format(url=url)
    )


def priosync_argv(command: str, config: Path, state: Path, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "priosync", command, "--config", str(config)]
    if command == "sync":
        argv += ["--state", str(state)]
    return [*argv, "--format", "json", *extra]


def baseline_argv(url: str) -> list[str]:
    compare = Path(__file__).resolve().parent / "compare_jira.py"
    return [sys.executable, str(compare), "baseline", "--url", url]


def run_measured(argv: Sequence[str], *, workdir: Path) -> ChildRun:
    """Run ``argv``; its wall time and peak RSS (``os.wait4``), its output left in files.

    Unlike ``common.run_child`` nothing the child printed is read back: Linux records the
    peak RSS of the process a child was forked from as the child's own starting point
    (``exec`` keeps the old address space's high-water mark), so a benchmark that held
    a 50k-item JSON output in memory would report it for every later child.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    err_path = workdir / "stderr.txt"
    with (workdir / "stdout.txt").open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=env_for_children(), stdout=out, stderr=err)  # noqa: S603
        killer = threading.Timer(CHILD_TIMEOUT_S, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    with err_path.open() as err:
        err.seek(max(0, err_path.stat().st_size - 2000))
        tail = err.read()
    return ChildRun(proc.returncode, wall_s, usage.ru_maxrss / 1024, "", tail)


def own_peak_mib() -> float:
    """This benchmark's own peak RSS: a floor under every child's figure (see above)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    rows: list[Row], tracker: str, size: int, program: str, command: str, argv: list[str], d: Path
) -> None:
    child = run_measured(argv, workdir=d / f"{len(rows)}")
    if child.returncode not in (0, 4):
        raise SystemExit(f"{program} {command} exited {child.returncode}:\n{child.stderr[-2000:]}")
    rows.append(Row(tracker, size, program, command, child))
    print(
        f"  {tracker:<6} {size:>7,} {program:<16} {command:<22} {child.wall_s:7.1f} s "
        f"{child.peak_rss_mib:6.0f} MiB",
        flush=True,
    )


def bench_size(
    tracker: str, size: int, args: argparse.Namespace, tmp: Path, rows: list[Row]
) -> None:
    workdir = tmp / f"{tracker}-{size}"
    workdir.mkdir()
    state = workdir / "audit.sqlite3"
    config = workdir / "priosync.toml"
    if tracker == "jira" and size <= args.baseline_first_max:
        with sandbox_process(tracker, size, workdir) as url:
            measure(rows, tracker, size, "script", "first sync", baseline_argv(url), workdir)
            measure(rows, tracker, size, "script", "no-op sync", baseline_argv(url), workdir)
    with sandbox_process(tracker, size, workdir) as url:
        config.write_text(config_for(tracker, url))
        measure(
            rows, tracker, size, "priosync", "rank", priosync_argv("rank", config, state), workdir
        )
        measure(
            rows, tracker, size, "priosync", "plan", priosync_argv("plan", config, state), workdir
        )
        table = priosync_argv("rank", config, state, "--format", "table")  # the default format
        measure(rows, tracker, size, "priosync", "rank --format table", table, workdir)
        first = "first sync"
        extra: list[str] = []
        if tracker == "github" and size > args.github_max_writes:
            # A first sync of a whole Project is GraphQL-paced for hours; reading and planning
            # everything and writing a bounded part shows the same memory.
            first = f"first sync (≤{format_count(args.github_max_writes)} writes)"
            extra = ["--max-writes", str(args.github_max_writes)]
        argv = priosync_argv("sync", config, state, *extra)
        measure(rows, tracker, size, "priosync", first, argv, workdir)
        if not extra:
            measure(rows, tracker, size, "priosync", "no-op sync", argv, workdir)
            if tracker == "jira":  # the incremental read above; the same sync read in full
                full = priosync_argv("sync", config, state, "--full")
                measure(rows, tracker, size, "priosync", "no-op sync --full", full, workdir)
            if tracker == "jira" and size > args.baseline_first_max:
                measure(rows, tracker, size, "script", "no-op sync", baseline_argv(url), workdir)
        # serve starts with a full sync: measured where that sync has nothing left to write.
        if args.service and size == max(args.sizes) and not extra:
            rows.append(measure_service(tracker, size, config, state, workdir))


def measure_service(tracker: str, size: int, config: Path, state: Path, workdir: Path) -> Row:
    """``priosync serve`` until its first full sync has loaded the snapshot: its RSS then."""
    port = free_port()
    argv = [sys.executable, "-m", "priosync", "serve", "--config", str(config)]
    argv += ["--state", str(state), "--port", str(port), "--accept-unsigned"]
    log = (workdir / "serve.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env_for_children())  # noqa: S603
    try:
        wait_for(lambda: snapshot_items(port) > 0, what="priosync serve", proc=proc)
        wall = time.perf_counter() - started
        status = Path(f"/proc/{proc.pid}/status").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    kib = {
        k: int(v.split()[0])
        for k, v in (ln.split(":", 1) for ln in status.splitlines())
        if k in ("VmHWM", "VmRSS")
    }
    child = ChildRun(0, wall, kib["VmHWM"] / 1024, "", f"RSS now {kib['VmRSS'] / 1024:.0f} MiB")
    print(
        f"  {tracker:<6} {size:>7,} serve: peak {kib['VmHWM'] / 1024:.0f} MiB, now {kib['VmRSS'] / 1024:.0f} MiB",
        flush=True,
    )
    return Row(tracker, size, "priosync", "serve (snapshot loaded)", child)


def snapshot_items(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("priosync_snapshot_items"):
            return int(float(line.split()[-1]))
    return 0


# ── phases: where the memory goes, by tracemalloc ────────────────────────────────────────


def phases(args: argparse.Namespace) -> None:
    """Run read → score + rank → plan → output in-process, one tracemalloc snapshot a phase."""
    os.environ.update(env_for_children())
    with (
        tempfile.TemporaryDirectory(prefix="priosync-mem-") as tmp,
        sandbox_process(args.tracker, args.size, Path(tmp)) as url,
    ):
        config = Path(tmp) / "priosync.toml"
        config.write_text(config_for(args.tracker, url))
        asyncio.run(_phases(config, args.top, trace=not args.rss_only))


async def _phases(config_path: Path, top: int, *, trace: bool) -> None:
    from rich.console import Console

    from config import load_config
    from reports.text import render_plan, render_rank
    from sync.pipeline import open_connector, rank_reads, read_all, rules_of
    from sync.plan import plan_changes

    config = load_config(config_path).config
    sink = Console(file=Path(os.devnull).open("w"), width=120)  # noqa: SIM115
    connectors = [open_connector(s, config) for s in config.sources]
    held: dict[str, Any] = {}

    async def read() -> None:
        held["reads"] = await read_all(connectors)

    async def rank() -> None:
        held["ranking"] = rank_reads(config, held["reads"])

    async def plan() -> None:
        held["plan"] = plan_changes(held["ranking"], rules_of(config))

    async def output() -> None:
        render_rank(held["ranking"], "json", sink)
        render_plan(held["plan"], "json", sink)

    steps = (("read", read), ("score + rank", rank), ("plan", plan), ("output", output))
    rows = [["start (imports, config)", "", "", *rss_mib()]]
    if trace:
        tracemalloc.start(1)
    for name, step in steps:
        gc.collect()
        before = tracemalloc.take_snapshot() if trace else None
        tracemalloc.reset_peak()
        start_current = tracemalloc.get_traced_memory()[0]
        await step()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        retained, phase_peak = (current - start_current) / 2**20, (peak - start_current) / 2**20
        traced = [f"{retained:+.1f} MiB", f"{phase_peak:.1f} MiB"] if trace else ["", ""]
        rows.append([name, *traced, *rss_mib()])
        if before is not None:
            print(f"\n{name}: retained {retained:+.1f} MiB, peak {phase_peak:.1f} MiB above start")
            for stat in tracemalloc.take_snapshot().compare_to(before, "lineno")[:top]:
                frame = stat.traceback[0]
                where = f"{frame.filename.split('/wt/')[-1]}:{frame.lineno}"
                print(f"  {stat.size_diff / 2**20:+7.1f} MiB {stat.count_diff:+9,} blocks  {where}")
    for c in connectors:
        await c.aclose()
    headers = ("phase", "traced: retained", "traced: peak in phase", "RSS after", "peak RSS so far")
    print("\n" + markdown_table(headers, rows))


def rss_mib() -> list[str]:
    """This process's resident set now and its high-water mark, from /proc."""
    fields = dict(ln.split(":", 1) for ln in Path("/proc/self/status").read_text().splitlines())
    return [f"{int(fields[k].split()[0]) / 1024:.0f} MiB" for k in ("VmRSS", "VmHWM")]


# ── output ───────────────────────────────────────────────────────────────────────────────


def render(rows: Sequence[Row], command: str) -> str:
    headers = ("tracker", "issues", "program", "command", "wall time", "peak RSS")
    cells = [
        [
            r.tracker,
            format_count(r.size),
            r.program,
            r.command,
            f"{r.child.wall_s:.1f} s",
            f"{r.child.peak_rss_mib:.0f} MiB"
            + (f" ({r.child.stderr})" if r.command.startswith("serve") else ""),
        ]
        for r in rows
    ]
    return "\n".join(
        [
            f"Command: `{command}`",
            "",
            f"Setup: each sandbox served by `priosync sandbox` in a process of its own (no "
            f"injected latency); each program a subprocess, peak RSS its own `ru_maxrss`; output "
            f"`--format json` to a file; priosync's pacing lifted; {os.cpu_count()} cores shared "
            "with other work.",
            "",
            markdown_table(headers, cells),
            "",
        ]
    )


def main_bench(args: argparse.Namespace) -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="priosync-mem-") as tmp:
        for tracker in args.trackers:
            for size in args.sizes:
                bench_size(tracker, size, args, Path(tmp), rows)
    command = ("python bench/memory.py " + " ".join(sys.argv[1:])).strip()
    generated = render(rows, command)
    print("\n" + generated)
    print(f"(this benchmark's own peak RSS, a floor under every figure: {own_peak_mib():.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    phase = sub.add_parser("phases", help="tracemalloc per pipeline phase, in this process")
    phase.add_argument("--tracker", choices=("jira", "github"), default="jira")
    phase.add_argument("--size", type=int, default=10_000)
    phase.add_argument("--top", type=int, default=8, help="allocation sites shown per phase")
    phase.add_argument("--rss-only", action="store_true", help="RSS per phase, no tracemalloc")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument(
        "--trackers", nargs="+", choices=("jira", "github"), default=["jira", "github"]
    )
    parser.add_argument("--baseline-first-max", type=int, default=2000)
    parser.add_argument("--github-max-writes", type=int, default=2000)
    parser.add_argument("--service", action="store_true", help="also measure priosync serve")
    args = parser.parse_args()
    if args.command == "phases":
        phases(args)
    else:
        main_bench(args)


if __name__ == "__main__":
    main()
