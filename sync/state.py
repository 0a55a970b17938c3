"""Where priosync keeps its state: a SQLite file (the default) or a PostgreSQL database.

``state`` (in the config, ``--state`` or ``PRIOSYNC_STATE``) is a file path or a
``postgresql://`` URL. The audit log lives there either way; with PostgreSQL the service's
work queue, delivery ids and snapshot live there too, so several replicas share them.

A password never belongs in the config file: write ``postgresql://priosync@db/priosync`` and
put the password in ``PGPASSWORD`` (or a ``.pgpass`` file: libpq reads both), or pass the
whole URL in ``PRIOSYNC_STATE`` from a secret. Wherever a URL is shown (``location``, errors,
logs) its password is replaced by ``***``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from priosync.errors import ConfigError
from sync.audit import AuditLog, SqliteAuditLog, default_state_path

POSTGRES_SCHEMES = ("postgresql", "postgres")
#: What to install for a PostgreSQL state (psycopg and Procrastinate are an optional extra).
POSTGRES_EXTRA = "pip install 'priosync[postgres]'"


@dataclass(frozen=True, slots=True)
class StateLocation:
    """A state store: ``path`` for SQLite, or ``url`` (secret: may hold a password) for PostgreSQL."""

    path: Path | None = None
    url: str | None = None

    @property
    def postgres(self) -> bool:
        return self.url is not None

    @property
    def display(self) -> str:
        """Fit to print: the path, or the URL with its password replaced by ``***``."""
        return redact_url(self.url) if self.url is not None else str(self.path)

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"StateLocation({self.display!r})"


def is_postgres_url(value: str) -> bool:
    return value.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in value


def has_password(url: str) -> bool:
    """Whether the URL carries a password (``user:secret@host`` or ``?password=``)."""
    parts = urlsplit(url)
    if parts.password:
        return True
    return any(k.lower() == "password" for k, _ in parse_qsl(parts.query))


def redact_url(url: str) -> str:
    """The URL with any password (in the user part or the query) shown as ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            name, sep, _password = user.partition(":")
            netloc = f"{name}:***@{host}" if sep else f"{name}@{host}"
        query = urlencode(
            [
                (k, "***" if k.lower() == "password" else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ]
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "a PostgreSQL URL (not shown: it does not parse)"


def parse_state(value: str | Path) -> StateLocation:
    """A ``state`` setting as a location: a ``postgresql://`` URL, else a file path."""
    text = str(value)
    if is_postgres_url(text):
        try:
            parts = urlsplit(text)
            _ = parts.port  # raises ValueError on a port that is not a number
        except ValueError:
            raise ConfigError(
                "the PostgreSQL URL does not parse",
                key="state",
                expected="postgresql://user@host:5432/database",
                found="a URL (not shown)",
            ) from None
        return StateLocation(url=text)
    return StateLocation(path=Path(text))


def resolve_state(
    given: str | Path | None,
    configured: str | None,
    environ: Mapping[str, str] | None = None,
) -> StateLocation:
    """``--state`` (or ``PRIOSYNC_STATE``), else the config's ``state``, else the default file."""
    for value in (given, configured):
        if value:
            return parse_state(value)
    return StateLocation(path=default_state_path(os.environ if environ is None else environ))


def open_audit(location: StateLocation) -> AuditLog:
    """Open (and migrate) the audit log at ``location``; ``ConfigError`` when it cannot."""
    if location.url is None:
        assert location.path is not None
        return SqliteAuditLog(location.path)
    try:
        from sync.postgres import PostgresAuditLog
    except ImportError:
        raise ConfigError(
            f"state is a PostgreSQL URL, and PostgreSQL support is not installed: {POSTGRES_EXTRA}",
            key="state",
        ) from None
    return PostgresAuditLog(location)
