"""The service on loopback (uvicorn, lifespan on) against a sandbox Jira sending real webhooks.

Everything runs in the test's event loop: uvicorn serves the service app as a task, the
service reaches the sandbox through ``httpx.ASGITransport``, and the sandbox posts its signed
``jira:issue_updated`` webhooks over loopback HTTP to the service.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from cli.demo import DEMO_CONFIG
from config import LoadedConfig, validate_config
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira.webhooks import deliver_pending
from sandbox.loopback import bind_free_socket
from service import create_service_app
from service.service import Service
from sync.pipeline import plan_reads

SECRET = "webhook-s3cret"
ENVIRON = {
    "JIRA_EMAIL": "demo@example.com",
    "JIRA_API_TOKEN": "sandbox-token",
    "PRIOSYNC_JIRA_WEBHOOK_SECRET": SECRET,
}
# The demo's scoring and outputs, with a faster-paced source and a small body limit.
CONFIG: dict[str, Any] = {
    **copy.deepcopy(DEMO_CONFIG),
    "sources": [
        {
            **DEMO_CONFIG["sources"][0],
            "pacing": {"reads_per_second": 1000, "writes_per_second": 1000},
        }
    ],
    "server": {"max_body_bytes": 4096},
}


def load_test_config(outputs: Mapping[str, Any] | None = None, **server: Any) -> LoadedConfig:
    raw = {**CONFIG, "server": {**CONFIG["server"], **server}}
    if outputs:
        raw["outputs"] = {**CONFIG["outputs"], **outputs}
    return validate_config(raw, file=Path("service-test.toml"), environ={})


async def eventually(
    check: Callable[[], bool], *, timeout_s: float = 10.0, what: str = "condition"
) -> float:
    """Poll ``check`` until true; return the seconds it took, fail after ``timeout_s``."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)
    return time.monotonic() - began


@asynccontextmanager
async def serve(
    app: Starlette, *, on_bound: Callable[[str], None] | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn (lifespan on) on a free loopback port in this loop."""
    sock = bind_free_socket()  # sets TCP_NODELAY, which accepted sockets inherit
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    if on_bound is not None:
        on_bound(base)
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), what="uvicorn to start")
        if task.done():
            task.result()
        yield base
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


@dataclass
class Running:
    """A served service with its sandbox, and helpers to look at both."""

    sandbox: JiraSandbox
    app: Starlette
    base: str
    client: httpx.AsyncClient
    loaded: LoadedConfig

    @property
    def service(self) -> Service:
        service: Service = self.app.state.service
        return service

    def metric(self, name: str, **labels: str) -> float:
        return float(self.app.state.metrics.value(name, **labels))

    def bot_edits(self) -> list[Any]:
        return [
            e
            for e in self.sandbox.edit_log
            if e.actor_account_id == self.sandbox.account.account_id
        ]

    def ranking(self) -> dict[str, Any]:
        snapshot = self.service.rescorer.snapshot
        assert snapshot is not None
        return {r.item.key: r for r in plan_reads(self.loaded.config, snapshot).ranking}

    async def deliver(self) -> None:
        """Send the webhooks the sandbox queued for human edits."""
        await deliver_pending(self.sandbox)

    async def settled(self, timeout_s: float = 10.0) -> None:
        """Wait until nothing is queued, nothing runs, and the sandbox has nothing to send."""
        service = self.service

        def idle() -> bool:
            return (
                service.queue.depth == 0
                and not service.rescorer.busy
                and not self.sandbox.pending_events
            )

        await eventually(idle, timeout_s=timeout_s, what="the service to go idle")
        await asyncio.sleep(0.3)  # longer than the quiet window: a late webhook would show
        await eventually(idle, timeout_s=timeout_s, what="the service to go idle")


@asynccontextmanager
async def running_service(
    *,
    issues: int = 40,
    seed: int = 7,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    environ: Mapping[str, str] = ENVIRON,
    wait_for_snapshot: bool = True,
    server: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    **options: Any,
) -> AsyncIterator[Running]:
    """A sandbox Jira and the service on loopback, first full sync done."""
    sandbox = JiraSandbox.seeded(issues=issues, seed=seed, webhook_secret=SECRET)
    jira_app: ASGIApp = create_jira_app(sandbox)
    if wrap is not None:
        jira_app = wrap(jira_app)
    loaded = load_test_config(outputs, **(server or {}))
    options.setdefault("quiet_s", 0.15)
    app = create_service_app(
        loaded, environ=environ, transports={"web": httpx.ASGITransport(app=jira_app)}, **options
    )

    def point_webhooks(base: str) -> None:
        sandbox.webhook_url = f"{base}/webhooks/jira"

    async with (
        serve(app, on_bound=point_webhooks) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        running = Running(sandbox, app, base, client, loaded)
        if wait_for_snapshot:
            await eventually(
                lambda: running.service.rescorer.snapshot is not None,
                timeout_s=60,
                what="the first full sync",
            )
            await running.settled()
        yield running
