"""What reading dependencies costs: requests and GraphQL points with and without, and the
time the lifting rule itself takes.

Each tracker is a fresh in-process sandbox (the request log and GraphQL cost are the
sandbox's, which follows the vendors' documented rules: docs/tracker-apis.md §1.10, §3.8).
For every source kind the same backlog is read twice, with ``dependencies`` off and on, and
the requests and points are counted. Then ``score_backlog`` ranks synthetic backlogs with
random links, lifting off and on, to show the rule's own cost.

Run: ``.venv/bin/python bench/dependency_cost.py [--items 1000] [--links 150]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from config.models import GitHubSource, JiraSource, OutputsConfig
from config.secrets import BasicCredentials, BearerCredentials
from connectors.github import ProjectConnector, RepositoryConnector
from connectors.jira import JiraConnector
from priosync.domain import Cut, Link, ModelSpec, WorkItem
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.jira import JiraSandbox, create_jira_app
from scoring import MODEL_INPUTS, score_backlog

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
FAST = {"concurrency": 8, "reads_per_second": 10_000, "writes_per_second": 10_000}
Row = tuple[str, str, int, int, int, int]


async def jira_cost(items: int, links: int, *, dc: bool) -> Row:
    counts = []
    for dependencies in (False, True):
        sandbox = JiraSandbox.seeded(issues=items, seed=11, dc=dc)
        sandbox.dc_max_results = 100
        rng = random.Random(5)
        for _ in range(links):
            a, b = rng.sample(range(1, items + 1), 2)
            sandbox.link(f"WEB-{a}", f"WEB-{b}")
        source = JiraSource.model_validate(
            {"name": "web", "kind": "jira", "url": "https://acme.atlassian.net",
             "jql": "project = WEB", "pacing": FAST}
        )  # fmt: skip
        credentials: BasicCredentials | BearerCredentials = (
            BearerCredentials(token=SecretStr("sandbox-pat"))
            if dc
            else BasicCredentials(email="demo@example.com", token=SecretStr("sandbox-token"))
        )
        connector = JiraConnector.from_config(
            source,
            inputs=INPUTS,
            outputs=OutputsConfig(),
            credentials=credentials,
            transport=httpx.ASGITransport(app=create_jira_app(sandbox)),
            dependencies=dependencies,
        )
        await connector.read()
        await connector.aclose()
        counts.append(len(sandbox.request_log))
    kind = "Jira Data Center" if dc else "Jira Cloud"
    return (kind, f"{items:,} issues, {links} links", counts[0], counts[1], 0, 0)


async def github_cost(items: int, links: int, *, project: bool) -> Row:
    counts, points = [], []
    for dependencies in (False, True):
        sandbox = GitHubSandbox.seeded(issues=items, seed=3, repos=("web",))
        pool = sorted(
            (i for i in sandbox.state.repos["web"].issues.values()
             if not i.is_pull_request and i.state == "open"),
            key=lambda i: i.number,
        )  # fmt: skip
        rng = random.Random(5)
        for _ in range(links):
            a, b = rng.sample(pool, 2)
            sandbox.state.block(a, b)
        values: dict[str, Any] = {"name": "web", "kind": "github", "api_url": "http://sandbox",
                                  "pacing": FAST, "state": "open"}  # fmt: skip
        values.update({"project": "acme/1"} if project else {"repo": "acme/web"})
        kind = ProjectConnector if project else RepositoryConnector
        connector = kind.from_config(
            GitHubSource.model_validate(values),
            inputs=INPUTS,
            outputs=OutputsConfig(),
            credentials=BearerCredentials(token=SecretStr("sandbox-token")),
            transport=httpx.ASGITransport(app=create_github_app(sandbox)),
            dependencies=dependencies,
        )
        await connector.read()
        await connector.aclose()
        counts.append(len(sandbox.request_log))
        points.append(sum(e.cost or 0 for e in sandbox.request_log))
    name = "GitHub Project" if project else "GitHub repository"
    backlog = f"{items:,}-item seed, {links} dependencies"
    return (name, backlog, counts[0], counts[1], points[0], points[1])


def lifting_time(count: int, links: int) -> tuple[float, float]:
    """Seconds to score and rank ``count`` items with ``links`` random links, off and on."""
    rng = random.Random(9)
    spec = ModelSpec("rice", MODEL_INPUTS["rice"], percent_inputs=frozenset({"confidence"}))
    blocks: dict[int, list[Link]] = {}
    for _ in range(links):
        a, b = rng.sample(range(count), 2)
        blocks.setdefault(a, []).append(Link(f"WEB-{b}"))
    items = [
        WorkItem(
            key=f"WEB-{n}", title="", url="", source="web",
            inputs={"reach": rng.randint(1, 1000), "impact": 1, "confidence": 1,
                    "effort": rng.randint(1, 8)},
            blocks=tuple(blocks.get(n, ())),
        )
        for n in range(count)
    ]  # fmt: skip
    cuts = [Cut("now", capacity=count / 10), Cut("next", capacity=count / 5), Cut("later")]
    timings = []
    for lift in (False, True):
        began = time.perf_counter()
        score_backlog(items, spec, tiers=[], buckets=cuts, lift=lift)
        timings.append(time.perf_counter() - began)
    return timings[0], timings[1]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--links", type=int, default=150)
    args = parser.parse_args(argv)
    runs: list[Callable[[], Any]] = [
        lambda: jira_cost(args.items, args.links, dc=False),
        lambda: jira_cost(args.items, args.links, dc=True),
        lambda: github_cost(args.items, args.links, project=True),
        lambda: github_cost(args.items, args.links, project=False),
        lambda: github_cost(args.items, 0, project=False),
    ]
    rows = [asyncio.run(run()) for run in runs]
    print(f"Command: `python bench/dependency_cost.py --items {args.items} --links {args.links}`")
    print()
    header = ["source", "backlog", "requests off", "requests on", "points off", "points on"]
    print(table(header, [(*r[:4], r[4] or "—", r[5] or "—") for r in rows]))
    print()
    sizes = [(1_000, 300), (10_000, 3_000), (100_000, 30_000)]
    timed = [(f"{n:,}", f"{k:,}", *(f"{t * 1000:.0f} ms" for t in lifting_time(n, k)))
             for n, k in sizes]  # fmt: skip
    print(table(["items", "random links", "score_backlog, lift off", "lift on"], timed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
