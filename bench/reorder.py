"""Benchmark: ``reorder`` in the fewest moves against moving every item.

For each tracker and size, on the sandbox served on loopback with injected latency and the
connector's default pacing (Jira: 25 writes/s, GitHub: one write a second), two starting
points:

- **random**: the backlog's order shuffled;
- **one change**: the backlog already in ranking order, then one item's reach raised so it
  belongs near the top.

Each is ordered twice from identical fresh sandboxes: by priosync's plan (keep the longest
increasing subsequence, move the rest, chains of up to 50 in one request) and by a naive
"move every item" plan (each ranked item but the first placed after the one above it, chained 50 a
request, the cheapest way to move them all: N − 1 moves). Prints items moved against the minimum
N − LIS (computed here with its own patience sort), move requests (Jira rank calls, GitHub
mutation documents), and the wall time of the moves. Both plans are checked to leave the
same order. Not part of the test suite; run with::

    .venv/bin/python bench/reorder.py [--trackers jira github] [--sizes 1000 10000]
        [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from common import format_count, markdown_table
from pydantic import SecretStr

from config.models import GitHubSource, JiraSource, OutputsConfig, PriosyncConfig
from config.secrets import BasicCredentials, BearerCredentials
from connectors.base import Connector
from connectors.github import ProjectConnector
from connectors.jira import JiraConnector
from priosync.domain import Move, Place, Plan, WorkItem
from sandbox.github import Faults as GitHubFaults
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, catalog, create_jira_app
from sandbox.jira.faults import Faults as JiraFaults
from sandbox.loopback import serve_in_thread
from sync.pipeline import Reads, plan_reads
from sync.writer import apply_plan

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
SCALES = {
    "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
    "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
}
OUTPUTS = OutputsConfig(reorder=True, pin_label="priority-pinned")
FAST = {"reads_per_second": 2000, "writes_per_second": 2000, "concurrency": 16}


@dataclass(frozen=True, slots=True)
class Row:
    tracker: str
    size: int
    start: str
    approach: str
    ranked: int
    minimum: int
    moved: int
    requests: int
    wall_s: float


def lis_length(values: Sequence[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sort, length only)."""
    tails: list[int] = []
    for value in values:
        n = bisect_left(tails, value)
        if n == len(tails):
            tails.append(value)
        else:
            tails[n] = value
    return len(tails)


def movable_ranking(plan: Plan) -> list[str]:
    ranked = [r for r in plan.ranking if r.rank is not None]
    return [
        r.item.key
        for r in sorted(ranked, key=lambda r: r.rank or 0)
        if "priority-pinned" not in r.item.current.labels
    ]


def naive_moves(plan: Plan, items: Sequence[WorkItem]) -> tuple[Move, ...]:
    """Every ranked item but the first placed right after the one ranked above it: N − 1
    moves, chained into requests of 50 (the first stays; everything else follows it)."""
    by_key = {i.key: i for i in items}
    target = movable_ranking(plan)
    return tuple(
        Move(
            key,
            "b",
            "",
            Place(after=target[n - 1]),
            Place(),
            item=by_key[key],
            anchor=by_key[target[n - 1]],
        )
        for n, key in enumerate(target)
        if n
    )


def config_for(source: JiraSource | GitHubSource) -> PriosyncConfig:
    return PriosyncConfig.model_validate(
        {
            "scoring": {"model": "rice", "inputs": INPUTS, "scales": SCALES},
            "outputs": OUTPUTS.model_dump(),
            "sources": [source.model_dump()],
        }
    )


class Site:
    """One fresh sandbox of a tracker, served on loopback, and connectors to it."""

    def __init__(self, tracker: str, size: int, latency_ms: float) -> None:
        self.tracker = tracker
        if tracker == "jira":
            self.jira = JiraSandbox.seeded(
                issues=size, seed=14, faults=JiraFaults(latency_ms=latency_ms)
            )
            self.jira.ranks.shuffle(random.Random(14))
            self.app: Any = create_jira_app(self.jira)
        else:
            self.github = GitHubSandbox.seeded(
                issues=size, seed=14, faults=GitHubFaults(latency_ms=(latency_ms, latency_ms))
            )
            random.Random(14).shuffle(self.github.state.projects[1].items)
            self.app = create_github_app(self.github)

    def source(self, url: str, pacing: dict[str, float] | None) -> JiraSource | GitHubSource:
        if self.tracker == "jira":
            return JiraSource.model_validate(
                {"name": "b", "kind": "jira", "url": url, "deployment": "cloud",
                 "jql": "project = WEB AND statusCategory != Done", "pacing": pacing or {}}
            )  # fmt: skip
        return GitHubSource.model_validate(
            {"name": "b", "kind": "github", "project": "acme/1", "api_url": url,
             "pacing": pacing or {}}
        )  # fmt: skip

    def connector(self, source: JiraSource | GitHubSource) -> Connector:
        if isinstance(source, JiraSource):
            return JiraConnector.from_config(
                source,
                inputs=INPUTS,
                outputs=OUTPUTS,
                scales=SCALES,
                credentials=BasicCredentials(
                    email="demo@example.com", token=SecretStr("sandbox-token")
                ),
            )
        return ProjectConnector.from_config(
            source,
            inputs=INPUTS,
            outputs=OUTPUTS,
            scales=SCALES,
            credentials=BearerCredentials(token=SecretStr("sandbox-token")),
        )

    def requests(self, since: int) -> int:
        if self.tracker == "jira":
            return sum(
                1 for e in self.jira.request_log[since:] if e.endpoint.endswith("/issue/rank")
            )
        return sum(1 for e in self.github.request_log[since:] if e.mutations)

    def log_size(self) -> int:
        return len(self.jira.request_log if self.tracker == "jira" else self.github.request_log)

    def raise_reach(self, key: str) -> None:
        """A person raises one item's reach far enough to put it near the top."""
        if self.tracker == "jira":
            self.jira.human_edit(key, fields={catalog.REACH: 10_000_000})
            return
        project = self.github.state.projects[1]
        reach = project.find_field(name="Reach")
        assert reach is not None
        item = next(
            it for it in project.items
            if key.endswith(f"/{it.content_ref}") or key == f"draft:{it.node_id}"
        )  # fmt: skip
        item.values[reach.id] = 10_000_000.0


async def plan_of(connector: Connector, config: PriosyncConfig) -> tuple[Plan, list[WorkItem]]:
    items = await connector.read()
    return plan_reads(config, Reads(items={connector.name: items})), items


async def case(tracker: str, size: int, start: str, approach: str, latency_ms: float) -> Row:
    site = Site(tracker, size, latency_ms)
    with serve_in_thread(site.app) as url:
        config = config_for(site.source(url, None))
        if start == "one change":
            fast = site.connector(site.source(url, FAST))
            plan, _ = await plan_of(fast, config)
            await apply_plan(plan, {fast.name: fast}, audit=None, run_id=None)
            site.raise_reach(movable_ranking(plan)[-len(movable_ranking(plan)) // 4])
            await fast.aclose()
        connector = site.connector(site.source(url, None))  # default pacing
        plan, items = await plan_of(connector, config)
        target = movable_ranking(plan)
        index = {k: n for n, k in enumerate(target)}
        minimum = len(target) - lis_length([index[i.key] for i in items if i.key in index])
        moves = plan.moves if approach == "fewest moves" else naive_moves(plan, items)
        since = site.log_size()
        began = time.perf_counter()
        report = await apply_plan(
            Plan(moves=moves), {connector.name: connector}, audit=None, run_id=None
        )
        wall_s = time.perf_counter() - began
        assert not report.move_failed, report.move_failed[:3]
        after, _ = await plan_of(connector, config)
        assert after.moves == (), f"{approach} left {len(after.moves)} items out of order"
        await connector.aclose()
    return Row(
        tracker, size, start, approach, len(target), minimum, len(moves),
        site.requests(since), wall_s,
    )  # fmt: skip


def table(rows: Sequence[Row]) -> str:
    return markdown_table(
        ["tracker", "items", "start", "approach", "ranked", "N − LIS", "moved", "requests",
         "wall time"],
        [
            [r.tracker, format_count(r.size), r.start, r.approach, format_count(r.ranked),
             format_count(r.minimum), format_count(r.moved), format_count(r.requests),
             f"{r.wall_s:.1f} s"]
            for r in rows
        ],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trackers", nargs="+", default=["jira", "github"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    rows: list[Row] = []
    for tracker in args.trackers:
        for size in args.sizes:
            for start in ("random", "one change"):
                for approach in ("fewest moves", "move every item"):
                    row = asyncio.run(case(tracker, size, start, approach, args.latency_ms))
                    print(
                        f"{tracker} {size} {start} {approach}: moved {row.moved} "
                        f"(minimum {row.minimum}) in {row.requests} requests, "
                        f"{row.wall_s:.1f} s",
                        flush=True,
                    )
                    rows.append(row)
    print()
    print(f"Command: `python bench/reorder.py --trackers {' '.join(args.trackers)} --sizes "
          f"{' '.join(map(str, args.sizes))} --latency-ms {args.latency_ms:g}`")  # fmt: skip
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
