"""Benchmark: a first and a no-op sync of a GitHub Project, and the write rate reached.

Runs the sandbox GitHub on loopback with injected latency and syncs Project acme/1 with
``ProjectConnector`` the way ``run_sync`` does (read → plan → apply), twice per size, after
a baseline in the same run: a plain httpx script reading the same Project. Prints
HTTP requests by kind, GraphQL mutations and documents, wall time, and the secondary-limit
points spent per minute against GitHub's documented ceiling (2,000 points a minute on the
GraphQL endpoint; a document with mutations costs 5, docs/tracker-apis.md §3.7). Not part of the
test suite; run with::

    .venv/bin/python bench/github_sync.py [--sizes 1000 10000] [--latency-ms 20]
        [--writes-per-second 1]

The default pacing (one write a second, GitHub's best practice) makes a 10k first sync take
a while; ``--writes-per-second`` raises it, and the points budget (half the ceiling) still
holds the rate under the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

import httpx
from pydantic import SecretStr

from config.models import CutConfig, GitHubSource, OutputsConfig, PriosyncConfig
from config.secrets import BearerCredentials
from connectors.github import ProjectConnector
from connectors.github.client import GRAPHQL_POINTS_PER_MINUTE, WRITE_POINTS
from sandbox.github import Faults, GitHubSandbox, create_github_app
from sandbox.loopback import serve_in_thread
from sync.pipeline import Reads, plan_reads
from sync.writer import apply_plan

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
SCALES = {
    "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
    "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
}
OUTPUTS = OutputsConfig(
    score_field="RICE score",
    priority_field="Priority",
    explain_field="Score rationale",
    priority=[
        CutConfig(name="Highest", top=5),
        CutConfig(name="High", min_score=100),
        CutConfig(name="Medium", min_score=20),
        CutConfig(name="Low"),
    ],
    roadmap=[
        CutConfig(name="now", top_percent=10),
        CutConfig(name="next", top_percent=30),
        CutConfig(name="later"),
    ],
)


#: What a careful hand-written script asks for: every field value of each item (it does not
#: know which ones it needs until it sees their names), and the issue's labels.
BASELINE_ITEMS = """query($project: ID!, $after: String) {
  node(id: $project) {
    ... on ProjectV2 {
      items(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          fieldValues(first: 20) {
            nodes {
              ... on ProjectV2ItemFieldNumberValue { number field { ... on ProjectV2FieldCommon { name } } }
              ... on ProjectV2ItemFieldTextValue { text field { ... on ProjectV2FieldCommon { name } } }
              ... on ProjectV2ItemFieldSingleSelectValue { name field { ... on ProjectV2FieldCommon { name } } }
            }
          }
          content {
            ... on Issue { number title url labels(first: 100) { nodes { name } } }
            ... on DraftIssue { title }
          }
        }
      }
    }
  }
}"""
BASELINE_PROJECT = (
    "query($owner: String!, $number: Int!) "
    "{ organization(login: $owner) { projectV2(number: $number) { id } } }"
)


async def baseline_read(url: str) -> tuple[int, int, float]:
    """The baseline: a plain httpx script reading the same Project, sequentially.
    (items, requests, seconds). PyGithub has no Projects v2 API, so GraphQL by hand it is."""
    started = time.perf_counter()
    headers = {"Authorization": "Bearer sandbox-token"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def query(document: str, variables: dict[str, object]) -> dict[str, Any]:
            response = await client.post(
                "/graphql", json={"query": document, "variables": variables}
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            assert not body.get("errors"), body["errors"]
            data: dict[str, Any] = body["data"]
            return data

        data = await query(BASELINE_PROJECT, {"owner": "acme", "number": 1})
        project = data["organization"]["projectV2"]["id"]
        requests, items, after = 1, 0, None
        while True:
            page = (await query(BASELINE_ITEMS, {"project": project, "after": after}))["node"]
            requests += 1
            items += len(page["items"]["nodes"])
            if not page["items"]["pageInfo"]["hasNextPage"]:
                break
            after = page["items"]["pageInfo"]["endCursor"]
    return items, requests, time.perf_counter() - started


async def sync_once(
    connector: ProjectConnector, config: PriosyncConfig
) -> tuple[int, float, float]:
    """One sync; (changes, read seconds, total seconds)."""
    started = time.perf_counter()
    reads = Reads(items={connector.name: await connector.read()})
    read_s = time.perf_counter() - started
    plan = plan_reads(config, reads)
    report = await apply_plan(plan, {connector.name: connector}, audit=None, run_id=None)
    assert not report.failed, report.failed[:3]
    return len(plan.changes), read_s, time.perf_counter() - started


def report_run(
    label: str, sandbox: GitHubSandbox, since: int, changes: int, read_s: float, total_s: float
) -> None:
    log = sandbox.request_log[since:]
    kinds = Counter(e.kind for e in log)
    docs = [e for e in log if e.mutations]
    mutations = sum(e.mutations for e in docs)
    write_s = max(total_s - read_s, 1e-9)
    points_per_min = len(docs) * WRITE_POINTS / write_s * 60 if docs else 0.0
    refused = sum(1 for e in log if e.outcome == "secondary-limit")
    print(
        f"  {label:<9} changes={changes:<6} requests={dict(kinds)} mutation_docs={len(docs)} "
        f"mutations={mutations} wall={total_s:.1f}s (read {read_s:.1f}s) refused={refused}"
    )
    if docs:
        print(
            f"            write rate: {len(docs) / write_s * 60:.0f} docs/min, "
            f"{mutations / write_s * 60:.0f} mutations/min, {points_per_min:.0f} points/min "
            f"= {points_per_min / GRAPHQL_POINTS_PER_MINUTE:.0%} of the {GRAPHQL_POINTS_PER_MINUTE} ceiling"
        )


async def bench(size: int, latency_ms: float, writes_per_s: float) -> None:
    sandbox = GitHubSandbox.seeded(
        issues=size, seed=11, faults=Faults(latency_ms=(latency_ms, latency_ms))
    )
    with serve_in_thread(create_github_app(sandbox)) as url:
        source = GitHubSource(
            name="bench",
            kind="github",
            project="acme/1",
            api_url=url,
            pacing={"writes_per_second": writes_per_s},
        )
        config = PriosyncConfig.model_validate(
            {
                "scoring": {"model": "rice", "inputs": INPUTS, "scales": SCALES},
                "outputs": OUTPUTS.model_dump(),
                "sources": [source.model_dump()],
            }
        )
        connector = ProjectConnector.from_config(
            source,
            inputs=INPUTS,
            outputs=OUTPUTS,
            scales=SCALES,
            credentials=BearerCredentials(token=SecretStr("sandbox-token")),
        )
        print(f"{size} items, {latency_ms:.0f} ms latency, {writes_per_s} writes/s:")
        since = len(sandbox.request_log)
        items, requests, seconds = await baseline_read(url)
        print(
            f"  baseline  read {items} items: requests={requests} wall={seconds:.1f}s "
            "(plain httpx GraphQL script, fieldValues(first: 20), sequential)"
        )
        assert len(sandbox.request_log) - since == requests
        for label in ("first", "no-op"):
            since = len(sandbox.request_log)
            changes, read_s, total_s = await sync_once(connector, config)
            report_run(label, sandbox, since, changes, read_s, total_s)
        await connector.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--writes-per-second", type=float, default=1.0)
    args = parser.parse_args()
    for size in args.sizes:
        asyncio.run(bench(size, args.latency_ms, args.writes_per_second))


if __name__ == "__main__":
    main()
