"""`priosync check`: every thing checked, ok or the problem and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from config import load_config
from priosync.domain import CheckResult
from priosync.errors import ConfigError, PriosyncError
from sync.pipeline import open_connector, select_sources


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
    return results
