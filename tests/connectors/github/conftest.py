"""Shared builders for the GitHub connector tests: sources, outputs, connectors, sandboxes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from pydantic import SecretStr

from config.models import CutConfig, GitHubSource, OutputsConfig
from config.secrets import BearerCredentials, GitHubAppCredentials
from connectors.github import GitHubConnector, ProjectConnector, RepositoryConnector
from connectors.http import RetryPolicy

API = "https://api.github.com"
TOKEN = "sandbox-token"
INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
SCALES = {
    "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
    "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
}
FAST = {"concurrency": 4, "reads_per_second": 1000, "writes_per_second": 1000}


async def fast_sleep(seconds: float) -> None:
    """Yield to the loop without waiting: retries and pauses cost no wall time in tests."""
    await asyncio.sleep(0)


def make_source(**overrides: object) -> GitHubSource:
    values: dict[str, object] = {
        "name": "app",
        "kind": "github",
        "project": "acme/1",
        "pacing": FAST,
    }
    values.update(overrides)
    return GitHubSource.model_validate(values)


def make_outputs(**overrides: object) -> OutputsConfig:
    values: dict[str, object] = {
        "score_field": "RICE score",
        "priority_field": "Priority",
        "explain_field": "Score rationale",
        "label_prefix": "roadmap:",
        "priority": [
            CutConfig(name="Highest", top=5),
            CutConfig(name="High", min_score=100),
            CutConfig(name="Medium", min_score=20),
            CutConfig(name="Low"),
        ],
        "roadmap": [
            CutConfig(name="now", top=10),
            CutConfig(name="next", top=40),
            CutConfig(name="later"),
        ],
    }
    values.update(overrides)
    return OutputsConfig.model_validate(values)


def make_connector(
    transport: httpx.AsyncBaseTransport | None,
    *,
    source: GitHubSource | None = None,
    outputs: OutputsConfig | None = None,
    inputs: Mapping[str, str] = INPUTS,
    credentials: BearerCredentials | GitHubAppCredentials | None = None,
    retry: RetryPolicy | None = None,
    dependencies: bool = False,
) -> GitHubConnector:
    source = source or make_source()
    kind = ProjectConnector if source.project else RepositoryConnector
    return kind.from_config(
        source,
        inputs=inputs,
        outputs=outputs or make_outputs(),
        credentials=credentials or BearerCredentials(token=SecretStr(TOKEN)),
        transport=transport,
        scales=SCALES,
        priority_names=["Highest", "High", "Medium", "Low"],
        retry=retry or RetryPolicy(sleep=fast_sleep),
        dependencies=dependencies,
    )
