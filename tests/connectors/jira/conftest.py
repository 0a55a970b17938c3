"""Shared builders for the Jira connector tests: a source, outputs, and a connector."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
import pytest
from pydantic import SecretStr

from config.models import CutConfig, JiraSource, OutputsConfig
from config.secrets import BasicCredentials, BearerCredentials
from connectors.http import RetryPolicy
from connectors.jira import JiraConnector

SITE = "https://acme.atlassian.net"
EMAIL = "demo@example.com"
TOKEN = "sandbox-token"
PAT = "sandbox-pat"
INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
SCALES = {
    "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
    "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
}


async def fast_sleep(seconds: float) -> None:
    """Yield to the loop without waiting: retries and pauses cost no wall time in tests."""
    await asyncio.sleep(0)


def make_source(**overrides: object) -> JiraSource:
    values: dict[str, object] = {
        "name": "web",
        "kind": "jira",
        "url": SITE,
        "jql": "project = WEB",
        "pacing": {"concurrency": 8, "reads_per_second": 1000, "writes_per_second": 1000},
    }
    values.update(overrides)
    return JiraSource.model_validate(values)


def make_outputs() -> OutputsConfig:
    return OutputsConfig(
        score_field="RICE score",
        priority_field="priority",
        explain_field="Score rationale",
        rank_field="Backlog rank",
        priority=[
            CutConfig(name="High", top=5),
            CutConfig(name="Medium", min_score=20),
            CutConfig(name="Low"),
        ],
    )


def make_connector(
    transport: httpx.AsyncBaseTransport | None,
    *,
    dc: bool = False,
    source: JiraSource | None = None,
    inputs: Mapping[str, str] = INPUTS,
    read_strategy: str = "bulkfetch",
    outputs: OutputsConfig | None = None,
) -> JiraConnector:
    credentials: BasicCredentials | BearerCredentials = (
        BearerCredentials(token=SecretStr(PAT))
        if dc
        else BasicCredentials(email=EMAIL, token=SecretStr(TOKEN))
    )
    return JiraConnector.from_config(
        source or make_source(),
        inputs=inputs,
        outputs=outputs or make_outputs(),
        credentials=credentials,
        transport=transport,
        scales=SCALES,
        priority_names=["High", "Medium", "Low"],
        retry=RetryPolicy(sleep=fast_sleep),
        read_strategy=read_strategy,  # type: ignore[arg-type]
    )


@pytest.fixture
def no_sleep() -> RetryPolicy:
    return RetryPolicy(sleep=fast_sleep)
