"""`priosync check`: every thing checked, ok or the problem and how to fix it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from config import load_config
from config.models import FileSource, PriosyncConfig
from priosync.domain import CheckResult, Plan
from priosync.errors import ConfigError, PriosyncError
from scoring import cycle_warnings
from sync.pacing import estimate
from sync.pipeline import Reads, open_connector, plan_reads, read_all, select_sources


async def check_everything(config_path: Path | None, only: Sequence[str]) -> list[CheckResult]:
    """Every check line: the config, then each selected source's own checks."""
    results: list[CheckResult] = []
    try:
        loaded = load_config(config_path)
    except ConfigError as exc:
        return [
            CheckResult(
                what="config", ok=False, detail=str(exc), fix="edit the file as the message says"
            )
        ]
    results.append(
        CheckResult(
            what="config", ok=True, detail=f"{loaded.path} ({len(loaded.config.sources)} sources)"
        )
    )
    try:
        sources = select_sources(loaded.config, only)
    except ConfigError as exc:
        results.append(CheckResult(what="sources", ok=False, detail=str(exc)))
        sources = []
    for source in sources:
        try:
            connector = open_connector(source, loaded.config)
        except PriosyncError as exc:
            results.append(CheckResult(what=f"{source.name}: setup", ok=False, detail=str(exc)))
            continue
        try:
            results.extend(await connector.check())
        except PriosyncError as exc:
            results.append(CheckResult(what=f"{source.name}: tracker", ok=False, detail=str(exc)))
        finally:
            await connector.aclose()
    if sources and all(r.ok for r in results):
        names = [s.name for s in sources]
        reads = await read_for_checks(loaded.config, names)
        if reads is not None:
            plan = plan_reads(loaded.config, reads)  # ranked once for both checks
            results.extend(dependency_checks(loaded.config, plan, names))
            results.extend(write_time_checks(loaded.config, plan, names))
    return results


async def read_for_checks(config: PriosyncConfig, only: Sequence[str]) -> Reads | None:
    """The backlog read once for the checks that need it; None when a source cannot be read
    (its own checks report why)."""
    read_from = list(config.sources) if config.scoring.ranking == "global" else None
    sources = read_from or select_sources(config, only)
    connectors = [open_connector(s, config) for s in sources]
    try:
        reads = await read_all(connectors)
    finally:
        await asyncio.gather(*(c.aclose() for c in connectors))
    return None if reads.failures else reads


def write_time_checks(config: PriosyncConfig, plan: Plan, only: Sequence[str]) -> list[CheckResult]:
    """For each writable source, how long a sync now (the first one, say) takes to write
    its plan at the configured pacing (``sync.pacing``)."""
    lines = []
    for name in only:
        source = config.source(name)
        if isinstance(source, FileSource):
            continue
        changes = [c for c in plan.changes if c.source == name]
        detail = estimate(source, changes).describe()
        lines.append(CheckResult(what=f"{name}: write time", ok=True, detail=detail))
    return lines


def dependency_checks(config: PriosyncConfig, plan: Plan, only: Sequence[str]) -> list[CheckResult]:
    """With dependencies on, from the ranking: each dependency cycle is a problem line (its
    links are ignored for ordering), else one line saying how many blockers are lifted."""
    if config.scoring.dependencies != "lift":
        return []
    ranking = [r for r in plan.ranking if r.item.source in only]
    cycles = cycle_warnings(ranking)
    fix = "remove or reverse one of the links in the tracker"
    if cycles:
        return [CheckResult(what="dependencies", ok=False, detail=c, fix=fix) for c in cycles]
    lifted = sum(1 for r in ranking if r.lifted_by)
    blockers = "1 blocker is" if lifted == 1 else f"{lifted} blockers are"
    detail = f"no dependency cycles; {blockers} lifted above what they block"
    return [CheckResult(what="dependencies", ok=True, detail=detail)]
