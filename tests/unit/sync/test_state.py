"""``state`` is a file or a PostgreSQL URL; a password comes from the environment and is never shown."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import validate_config
from priosync.errors import ConfigError
from sync.state import StateLocation, has_password, open_audit, parse_state, redact_url
from tests.postgres import PASSWORD, PostgresServer

SCORING = {"scoring": {"model": "ice", "inputs": {"impact": "I", "confidence": "C", "ease": "E"}}}


class TestLocations:
    def test_a_path_is_sqlite_and_a_url_is_postgres(self) -> None:
        """Anything that is not a postgresql:// URL is a file path, as before."""
        assert parse_state("/var/lib/priosync/audit.sqlite3").path == Path(
            "/var/lib/priosync/audit.sqlite3"
        )
        for url in ("postgresql://u@db/p", "postgres://u@db:5433/p", "POSTGRESQL://u@db/p"):
            assert parse_state(url).postgres

    def test_passwords_are_never_shown(self) -> None:
        """The user part's password and a password= parameter print as ***."""
        url = "postgresql://bot:hunter2@db:5432/prio?sslmode=require&password=hunter3"
        location = parse_state(url)
        for shown in (location.display, str(location), repr(location), redact_url(url)):
            assert "hunter" not in shown
            assert "bot:***@db:5432/prio" in shown
        assert has_password(url)
        assert not has_password("postgresql://bot@db/prio")

    def test_a_port_that_is_not_a_number_is_a_config_error(self) -> None:
        """The error names the key and shows no part of the URL."""
        with pytest.raises(ConfigError) as caught:
            parse_state("postgresql://bot:hunter2@db:port/prio")
        assert "hunter2" not in str(caught.value)
        assert caught.value.key == "state"


class TestConfig:
    def test_a_password_in_the_file_is_refused(self) -> None:
        """The file names no password; the error says to use PGPASSWORD and shows none."""
        raw = {**SCORING, "state": "postgresql://bot:hunter2@db/prio"}
        with pytest.raises(ConfigError) as caught:
            validate_config(raw, file=Path("p.toml"), environ={})
        assert "PGPASSWORD" in str(caught.value)
        assert "hunter2" not in str(caught.value)

    def test_a_url_from_the_environment_may_carry_the_password(self) -> None:
        """PRIOSYNC_STATE (from a secret) holds the whole URL."""
        env = {"PRIOSYNC_STATE": "postgresql://bot:hunter2@db/prio"}
        loaded = validate_config({**SCORING, "state": "x.sqlite3"}, file=Path("p"), environ=env)
        assert loaded.config.state == env["PRIOSYNC_STATE"]
        assert parse_state(loaded.config.state).postgres


class TestUnreachable:
    def test_a_database_that_does_not_answer_is_an_error_within_seconds(self) -> None:
        """Nothing listens: a ConfigError naming the store, without its password."""
        began = time.monotonic()
        with pytest.raises(ConfigError) as caught:
            open_audit(parse_state("postgresql://bot:hunter2@127.0.0.1:1/prio"))
        assert time.monotonic() - began < 15
        assert "cannot reach the PostgreSQL state store" in str(caught.value)
        assert "hunter2" not in str(caught.value)

    def test_a_wrong_password_is_an_error_that_does_not_show_it(
        self, postgres: PostgresServer
    ) -> None:
        """The server refuses; the message says so and shows neither password."""
        url = postgres.url().replace("priosync@", "priosync:wrong-pass@")
        with pytest.raises(ConfigError) as caught:
            open_audit(StateLocation(url=url))
        assert "password authentication failed" in str(caught.value)
        assert "wrong-pass" not in str(caught.value)


class TestHistory:
    def test_history_on_postgres_prints_no_password(
        self, postgres: PostgresServer, tmp_path: Path
    ) -> None:
        """`priosync history` with the URL in PRIOSYNC_STATE and the password in PGPASSWORD, or
        inside the URL: the runs are shown, the password never."""
        database = postgres.database()
        audit = open_audit(parse_state(postgres.url(database, password=True)))
        audit.finish_run(
            audit.start_run(command="sync", config_sha256="x", sources=["web"]),
            counts={"written": 0},
            outcome="ok",
        )
        audit.close()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PRIOSYNC_", "PG"))}
        for env in (
            {"PRIOSYNC_STATE": postgres.url(database), "PGPASSWORD": PASSWORD},
            {"PRIOSYNC_STATE": postgres.url(database, password=True)},
        ):
            shown = subprocess.run(
                [sys.executable, "-m", "priosync", "history", "--format", "json"],
                capture_output=True,
                text=True,
                env={**base, **env, "PRIOSYNC_CONFIG": str(tmp_path / "none.toml")},
                check=False,
                timeout=60,
            )
            assert shown.returncode == 0, shown.stderr
            assert '"command": "sync"' in shown.stdout
            assert PASSWORD not in shown.stdout + shown.stderr
        config = tmp_path / "priosync.toml"
        config.write_text(
            '[scoring]\nmodel = "ice"\ninputs = { impact = "I", confidence = "C", ease = "E" }\n'
        )
        missing = subprocess.run(
            [sys.executable, "-m", "priosync", "revert", "99", "--yes", "--config", str(config)],
            capture_output=True,
            text=True,
            env={**base, "PRIOSYNC_STATE": postgres.url(database, password=True)},
            check=False,
            timeout=60,
        )
        assert missing.returncode == 1
        assert "there is no run 99 in the audit log postgresql://priosync:***@" in missing.stderr
        assert PASSWORD not in missing.stdout + missing.stderr


class TestMigrate:
    def test_migrate_from_several_places_at_once(self, postgres: PostgresServer) -> None:
        """`priosync migrate` run by three processes at once: each exits 0, one schema."""
        url = postgres.url(postgres.database())
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PRIOSYNC_", "PG"))}
        env = {**base, "PRIOSYNC_STATE": url, "PGPASSWORD": PASSWORD, "PRIOSYNC_CONFIG": "none"}
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "priosync", "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for run in runs:
            out, err = run.communicate(timeout=60)
            assert run.returncode == 0, err
            assert "is up to date" in out
            assert PASSWORD not in out + err
        audit = open_audit(parse_state(postgres.url(url.rsplit("/", 1)[1], password=True)))
        audit.close()
