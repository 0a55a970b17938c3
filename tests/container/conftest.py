"""The container test's machinery: a Docker engine of its own, a base image from Debian
packages, a wheelhouse served on loopback, and the image built from the Dockerfile.

Everything is installed by ``scripts/ensure-docker.sh`` and built by
``scripts/container-base.sh``; nothing is expected by hand. The engine is Debian's
``dockerd``, started here with no bridge and no iptables (containers use ``--network host``)
on a socket of its own, and stopped at the end. Its image store and the base tarball live
under ``.cache/container`` (git-ignored) and its image store outside the tree (thousands of
unpacked files that nothing walking the checkout should see), so a second run reuses the
base image and the build cache.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PRIOSYNC_CONTAINER_CACHE", REPO / ".cache" / "container"))
#: The engine's image store: kept between runs, outside the checkout.
DOCKER_ROOT = Path(
    os.environ.get("PRIOSYNC_DOCKER_ROOT", Path.home() / ".cache" / "priosync-test-docker")
)
#: Socket and runtime files: short paths (a unix socket path is limited to 108 bytes).
RUN_DIR = Path(tempfile.gettempdir()) / f"priosync-dockerd-{os.getuid()}"
BASE_IMAGE = "priosync-base:bookworm"
IMAGE = "priosync:container-test"


class Docker:
    """The ``docker`` command line against the test's own engine."""

    def __init__(self, host: str) -> None:
        self.env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "0"}
        self.executable = shutil.which("docker") or "/usr/bin/docker"

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 120, quiet: bool = False
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.executable, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args[:3])} … exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def inspect(self, name: str, template: str) -> str:
        return self("inspect", "--format", template, name).stdout.strip()


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(150):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def docker() -> Iterator[Docker]:
    """A dockerd of our own (``--bridge=none --iptables=false``), stopped at the end."""
    subprocess.run([str(REPO / "scripts" / "ensure-docker.sh")], check=True)
    RUN_DIR.mkdir(mode=0o700, exist_ok=True)
    pidfile = RUN_DIR / "dockerd.pid"
    if pidfile.exists():  # one of ours left by a run that was killed
        with contextlib.suppress(ValueError):
            _stop(int(pidfile.read_text()))
        pidfile.unlink(missing_ok=True)
    socket = RUN_DIR / "docker.sock"
    DOCKER_ROOT.mkdir(parents=True, exist_ok=True)
    log = (RUN_DIR / "dockerd.log").open("w")
    daemon = subprocess.Popen(
        [
            shutil.which("dockerd") or "/usr/sbin/dockerd",
            "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
            f"--data-root={DOCKER_ROOT}", f"--exec-root={RUN_DIR / 'exec'}",
            f"--pidfile={pidfile}", f"--host=unix://{socket}",
        ],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = Docker(f"unix://{socket}")
    try:
        deadline = time.monotonic() + 60
        while client("version", check=False, timeout=10).returncode != 0:
            assert daemon.poll() is None, (RUN_DIR / "dockerd.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dockerd did not answer within 60 s"
            time.sleep(0.3)
        yield client
    finally:
        _stop(daemon.pid)
        daemon.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def base_image(docker: Docker) -> str:
    """``priosync-base:bookworm``: debootstrapped Debian with python3, imported once."""
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        tarball = subprocess.run(
            [str(REPO / "scripts" / "container-base.sh"), str(CACHE / "bookworm-python3.tar")],
            capture_output=True, text=True, check=True, timeout=900,
        ).stdout.strip()  # fmt: skip
        docker("import", tarball, BASE_IMAGE, timeout=300)
    return BASE_IMAGE


def runtime_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    extras = project["project"]["optional-dependencies"]["postgres"]  # the image's default
    return [*project["project"]["dependencies"], *extras, *build, "wheel"]


@pytest.fixture(scope="session")
def wheelhouse() -> Iterator[str]:
    """priosync's dependencies as wheels for CPython 3.11 on Linux, served on loopback.

    The image's pip reaches no index here, so it installs from these (``PIP_FIND_LINKS``)
    with ``PIP_NO_INDEX``; they are downloaded once, by this machine's pip, into the cache.
    """
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheels),
            "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
            "--platform", "manylinux_2_17_x86_64", "--platform", "linux_x86_64",
            *runtime_requirements(),
        ],
        check=True, timeout=600,
    )  # fmt: skip

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(wheels))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def image(docker: Docker, base_image: str, wheelhouse: str) -> str:
    """The Dockerfile built on the Debian base, pip installing from the wheelhouse."""
    build_args: Sequence[str] = (
        f"BASE_IMAGE={base_image}", "PIP_NO_INDEX=1", f"PIP_FIND_LINKS={wheelhouse}",
    )  # fmt: skip
    docker(
        "build", "--network", "host", "--tag", IMAGE,
        *(part for arg in build_args for part in ("--build-arg", arg)), str(REPO),
        timeout=900,
    )  # fmt: skip
    return IMAGE
