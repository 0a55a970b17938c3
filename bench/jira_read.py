"""Benchmark: reading a Jira Cloud backlog, sequential search vs ids + parallel bulk fetch.

Runs the sandbox Jira on loopback with injected latency and reads the whole backlog with
``JiraConnector`` twice per size: ``read_strategy="search"`` (enhanced search pages with
fields, one after another) and ``"bulkfetch"`` (one ids-only search, then bulk fetch 100 issues a
request in parallel). Prints HTTP requests by endpoint and wall time. Not part of the test
suite; run with::

    .venv/bin/python bench/jira_read.py [--sizes 1000 10000] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from pydantic import SecretStr

from config.models import JiraSource, OutputsConfig
from config.secrets import BasicCredentials
from connectors.jira import JiraConnector
from sandbox.jira import Faults, JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
OUTPUTS = OutputsConfig(
    score_field="RICE score",
    priority_field="priority",
    explain_field="Score rationale",
    rank_field="Backlog rank",
)


async def read_once(base_url: str, strategy: str) -> tuple[int, float]:
    """Read the whole backlog once; return (items, seconds)."""
    source = JiraSource(
        name="bench", kind="jira", url=base_url, jql="project = WEB", deployment="cloud"
    )
    connector = JiraConnector.from_config(
        source,
        inputs=INPUTS,
        outputs=OUTPUTS,
        credentials=BasicCredentials(email="demo@example.com", token=SecretStr("sandbox-token")),
        read_strategy=strategy,  # type: ignore[arg-type]
    )
    try:
        started = time.perf_counter()
        items = await connector.read()
        return len(items), time.perf_counter() - started
    finally:
        await connector.aclose()


def run(size: int, latency_ms: float) -> None:
    sandbox = JiraSandbox.seeded(issues=size, seed=7, faults=Faults(latency_ms=latency_ms))
    with serve_in_thread(create_jira_app(sandbox)) as base_url:
        for strategy in ("search", "bulkfetch"):
            sandbox.request_log.clear()
            count, seconds = asyncio.run(read_once(base_url, strategy))
            by_endpoint = Counter(f"{e.method} {e.path}" for e in sandbox.request_log)
            label = "sequential search" if strategy == "search" else "ids + bulkfetch"
            detail = ", ".join(f"{n} {k}" for k, n in sorted(by_endpoint.items()))
            print(
                f"{size:>6} issues  {label:<18} {sum(by_endpoint.values()):>4} requests  "
                f"{seconds:6.2f} s  ({count} items; {detail})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.latency_ms)


if __name__ == "__main__":
    main()
