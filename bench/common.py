"""Shared helpers for the comparison benchmarks (``compare_jira.py``, ``compare_github.py``).

Standard library only, so a baseline child process that imports this module pays nothing
for it in peak RSS. What is here:

- ``run_child``: run a program to completion and return its exit code, wall time and its
  *own* peak RSS (``os.wait4`` rusage of that one child; ``RUSAGE_CHILDREN`` would be the
  maximum over every child waited for so far, so a small program run after a big one would
  inherit the big one's figure);
- ``count_requests``: reads and writes, and requests by endpoint, from a sandbox request log;
- ``markdown_table``: the table printed to the terminal and written to ``bench/README.md``.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ChildRun:
    """How one child process went: exit code, wall seconds, peak RSS, and what it printed."""

    returncode: int
    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """HTTP requests a tracker answered during one phase, by kind and by endpoint."""

    reads: int
    writes: int
    by_endpoint: Mapping[str, int]

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def describe(self) -> str:
        """Return ``"12 GET /search/jql, 900 PUT /issue/{key}"``, most frequent first."""
        ordered = sorted(self.by_endpoint.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{n} {endpoint}" for endpoint, n in ordered)


class LoggedRequest(Protocol):
    """What ``count_requests`` needs from a sandbox request-log entry."""

    @property
    def method(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def endpoint(self) -> str: ...


def run_child(
    argv: Sequence[str], *, env: Mapping[str, str], workdir: Path, timeout_s: float
) -> ChildRun:
    """Run ``argv`` to completion and measure it; kill it after ``timeout_s`` seconds.

    Output goes to files in ``workdir`` (no pipe can fill up and stall the child). The peak
    RSS is the child's own ``ru_maxrss`` (KiB on Linux), reported in MiB.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=out, stderr=err)  # noqa: S603
        killer = threading.Timer(timeout_s, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
    return ChildRun(
        returncode=proc.returncode,
        wall_s=wall_s,
        peak_rss_mib=usage.ru_maxrss / 1024,
        stdout=out_path.read_text(),
        stderr=err_path.read_text(),
    )


def count_requests(log: Iterable[LoggedRequest]) -> RequestCounts:
    """Count a request log's entries by kind (``read``/``write``) and by method + endpoint."""
    entries = list(log)
    writes = sum(1 for e in entries if e.kind == "write")
    return RequestCounts(
        reads=len(entries) - writes,
        writes=writes,
        by_endpoint=dict(Counter(f"{e.method} {e.endpoint}" for e in entries)),
    )


#: A developer's own credentials, state path or settings must never reach a measured child.
OWN_PREFIXES = ("PRIOSYNC_", "JIRA_", "GITHUB_")


def child_env(**variables: str) -> dict[str, str]:
    """This process's environment without any ``PRIOSYNC_*``, ``JIRA_*`` or ``GITHUB_*``
    variable, plus ``variables`` (and ``NO_COLOR``: outputs are files, not terminals)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(NO_COLOR="1", **variables)
    return env


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank); NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a GitHub-flavoured Markdown table; numbers should come pre-formatted."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def format_count(n: int) -> str:
    """Return ``n`` with thousands separators (``12,345``)."""
    return f"{n:,}"
