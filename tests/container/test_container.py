"""The image, built from the Dockerfile and run for real: `priosync serve` against a sandbox
Jira on loopback, healthy by its own HEALTHCHECK on a port moved by PRIOSYNC_SERVER__PORT,
as a non-root user with a read-only config (and root filesystem), its audit log surviving a
restart, and SIGTERM stopping it cleanly. Bounded: each wait has a deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import free_port, serve_in_thread

from .conftest import Docker

pytestmark = pytest.mark.container

NAME = "priosync-container-test"
VOLUME = "priosync-container-test-state"
CONFIG = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }
scales.confidence = { High = 1.0, Medium = 0.8, Low = 0.5 }

[outputs]
score_field = "RICE score"
priority_field = "priority"
label_prefix = "roadmap:"
priority = [{ name = "Highest", top = 3 }, { name = "High", min_score = 100 }, { name = "Low" }]
roadmap = [{ name = "now", capacity = 6 }, { name = "later" }]

[server]
report = true

[[sources]]
name = "web"
kind = "jira"
url = "{url}"
jql = "project = WEB AND statusCategory != Done"
"""


def wait_for(what: str, check: object, *, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {within_s:.0f} s"
        time.sleep(0.5)


@pytest.fixture
def sandbox() -> Iterator[tuple[JiraSandbox, str]]:
    jira = JiraSandbox.seeded(issues=40, seed=5)
    with serve_in_thread(create_jira_app(jira)) as url:
        yield jira, url


class Container:
    """One named container of the image, and what a test asks of it."""

    def __init__(self, docker: Docker, port: int) -> None:
        self.docker = docker
        self.port = port

    def health(self) -> str:
        return self.docker.inspect(NAME, "{{.State.Health.Status}}")

    def healthy(self) -> bool:
        status = self.health()
        assert status != "unhealthy", self.docker("logs", NAME, check=False).stderr[-3000:]
        return status == "healthy"

    def exec(self, *argv: str, check: bool = True) -> str:
        done = self.docker("exec", NAME, *argv, check=check)
        return done.stdout + done.stderr

    def runs(self) -> list[dict[str, object]]:
        history = json.loads(self.exec("priosync", "history", "--format", "json"))
        return list(history["runs"])

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)


@pytest.fixture
def container(
    docker: Docker, image: str, sandbox: tuple[JiraSandbox, str], tmp_path: Path
) -> Iterator[Container]:
    """`priosync serve` from the image: host network, config mounted read-only, state on a volume."""
    _, url = sandbox
    config = tmp_path / "priosync.toml"
    config.write_text(CONFIG.replace("{url}", url))
    config.chmod(0o666)  # writable by anyone: only the read-only mount may stop a write
    docker("rm", "--force", NAME, check=False)
    docker("volume", "rm", "--force", VOLUME, check=False)
    port = free_port()
    docker(
        "run", "--detach", "--name", NAME, "--network", "host",
        "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the container's own /tmp, in memory)
        "--volume", f"{config}:/config/priosync.toml:ro", "--volume", f"{VOLUME}:/state",
        "--env", "JIRA_EMAIL=demo@example.com", "--env", "JIRA_API_TOKEN=sandbox-token",
        "--env", "PRIOSYNC_JIRA_WEBHOOK_SECRET=container-test-secret",
        "--env", "PRIOSYNC_SERVER__HOST=127.0.0.1", "--env", f"PRIOSYNC_SERVER__PORT={port}",
        # The image's own probe, checked every second instead of every 30 s.
        "--health-interval", "1s", "--health-timeout", "4s", "--health-retries", "3",
        "--health-start-period", "30s",
        image,
    )  # fmt: skip
    try:
        yield Container(docker, port)
    finally:
        docker("rm", "--force", NAME, check=False)
        docker("volume", "rm", "--force", VOLUME, check=False)


class TestContainer:
    def test_serves_healthy_unprivileged_keeps_state_and_stops_on_sigterm(
        self, container: Container, docker: Docker, sandbox: tuple[JiraSandbox, str]
    ) -> None:
        """Healthy on a moved port, uid 10001, config read-only, history across a restart, exit 0 on SIGTERM."""
        jira, _ = sandbox
        wait_for("HEALTHCHECK healthy", container.healthy, within_s=90)
        assert container.get("/healthz").json()["status"] == "ok"

        assert container.exec("id", "-u").strip() == "10001"
        assert docker.inspect(NAME, "{{.Config.User}}") == "10001:10001"
        refused = container.exec("sh", "-c", "echo x >> /config/priosync.toml", check=False)
        assert "Read-only file system" in refused
        mounts = container.exec("cat", "/proc/mounts").splitlines()
        (config_mount,) = [m for m in mounts if m.split()[1] == "/config/priosync.toml"]
        assert config_mount.split()[3].split(",")[0] == "ro"
        assert "Read-only file system" in container.exec("sh", "-c", "touch /app/x", check=False)
        # PostgreSQL support is built in (the replicas' Deployment runs this image).
        assert container.exec(
            "python", "-c", "import sync.postgres, procrastinate; print('pg')"
        ).split() == ["pg"]

        wait_for(
            "the first sync", lambda: container.get("/healthz").json()["snapshot"], within_s=60
        )
        first = container.runs()
        assert [r["command"] for r in first] == ["sync"]
        assert any(i.fields_by_name.get("RICE score") is not None for i in jira.issues())
        report = container.get("/report")
        assert report.status_code == 200
        assert "Since the last sync" in report.text

        started = time.monotonic()
        docker("restart", "--time", "30", NAME, timeout=60)
        assert time.monotonic() - started < 30  # SIGTERM drained it; no kill after the timeout
        wait_for("healthy after the restart", container.healthy, within_s=90)
        wait_for("the second sync", lambda: len(container.runs()) >= 2, within_s=60)
        runs = container.runs()
        assert runs[-1]["id"] == first[0]["id"]  # the first boot's run is still there
        assert {"audit.sqlite3", "audit.standings.json"} <= set(
            container.exec("ls", "/state").split()
        )

        started = time.monotonic()
        docker("stop", "--time", "30", NAME, timeout=60)
        assert time.monotonic() - started < 20
        assert docker.inspect(NAME, "{{.State.ExitCode}}") == "0"
        assert docker.inspect(NAME, "{{.State.OOMKilled}}") == "false"
        assert "stopped" in docker("logs", NAME).stderr
