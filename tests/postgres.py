"""A throwaway PostgreSQL for the tests: Debian's server binaries, a temporary cluster.

``initdb`` into a temporary directory, then ``pg_ctl start`` listening on 127.0.0.1 only
(and a unix socket inside that directory), durability off since nothing here must survive.
The server refuses to run as root, so under root it runs as the ``postgres`` system user the
Debian package creates. The superuser ``priosync`` has a password and TCP connections need
it (scram-sha-256): the tests reach the server the way a deployment does, with the password
from ``PGPASSWORD`` or inside a URL that came from the environment.

``scripts/ensure-postgres.sh`` installs the package when it is missing (``make test`` runs it).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.loopback import free_port

USER = "priosync"
PASSWORD = "pg-s3cret-for-tests"
_names = itertools.count(1)


def server_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian's layout), else ``$PATH``."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    """One running cluster; ``database()`` makes a fresh, empty database for a test."""

    bindir: Path
    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", *, password: bool = False) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        as_user = _run_as()
        if as_user is not None:
            os.chown(self.root, as_user.pw_uid, as_user.pw_gid)
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if as_user is not None:
            os.chown(pwfile, as_user.pw_uid, as_user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = " ".join(
            (
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-k {self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            )
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = f"test_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(password=True), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return name

    def _run(self, program: str, *args: str) -> None:
        as_user = _run_as()
        extra: dict[str, Any] = {}
        if as_user is not None:
            extra = {"user": as_user.pw_uid, "group": as_user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            timeout=120,
            **extra,
        )
        if result.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stderr[-2000:]}\n{tail}")


def _run_as() -> pwd.struct_passwd | None:
    """The user the server runs as: ``postgres`` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root and there is no postgres user to run the server as: "
            "install Debian's postgresql package (scripts/ensure-postgres.sh)"
        ) from None


def start_server() -> PostgresServer:
    bindir = server_binaries()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL's server binaries are missing: run scripts/ensure-postgres.sh "
            "(installs Debian's postgresql package)"
        )
    root = Path(tempfile.mkdtemp(prefix="priosync-pg-"))
    server = PostgresServer(bindir, root)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
