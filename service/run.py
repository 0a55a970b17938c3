"""`priosync serve`: the service app under uvicorn, draining on SIGTERM.

uvicorn handles SIGTERM and SIGINT: it stops accepting connections, lets requests in flight
finish, then runs the app's lifespan shutdown, which drains the rescoring queue and waits for
the write in flight before the process exits. uvicorn's access log is off: a Jira token
webhook carries its token in the query string, and URLs must not reach the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from config.loading import LoadedConfig
from priosync.errors import ConfigError
from priosync.logs import configure as configure_logging
from service.app import create_service_app
from service.server import GracefulServer
from sync.state import open_audit, resolve_state

log = logging.getLogger("priosync.server")

#: How long requests in flight may take once SIGTERM arrived (GitHub waits at most 10 s).
GRACEFUL_REQUESTS_S = 10


def run_service(
    loaded: LoadedConfig,
    *,
    host: str | None,
    port: int | None,
    accept_unsigned: bool,
    state_path: str | Path | None,
    echo: Callable[[str], None],
    schedule_trigger: Any = None,
) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean drain, 1 when it could not start.

    With a PostgreSQL state this process is one replica of several (``service.replicas``);
    opening the audit log migrates the store first. ``schedule_trigger`` replaces the
    ``[schedule]`` cron (tests tick every few seconds).
    """
    config = loaded.config
    try:
        location = resolve_state(state_path, config.state)
        audit = open_audit(location)
    except ConfigError as exc:
        echo(f"priosync serve: {exc}")
        return 1
    try:
        app = create_service_app(
            loaded,
            audit=audit,
            accept_unsigned=accept_unsigned,
            state=location,
            schedule_trigger=schedule_trigger,
        )
        bind_host, bind_port = host or config.server.host, port or config.server.port
        show_service_log()
        server = GracefulServer(
            uvicorn.Config(
                app,
                host=bind_host,
                port=bind_port,
                lifespan="on",
                access_log=False,
                log_config=None,
                timeout_graceful_shutdown=GRACEFUL_REQUESTS_S,
            )
        )
        mode = f"a replica on {location.display}" if location.postgres else location.display
        echo(
            f"priosync serve: listening on http://{bind_host}:{bind_port} "
            "(POST /webhooks/jira, /webhooks/github; GET /, /healthz, /metrics); "
            f"state: {mode}"
        )
        server.run()
    except ConfigError as exc:
        echo(f"priosync serve: {exc}")
        return 1
    finally:
        audit.close()
    return 0 if server.started else 1


def show_service_log() -> None:
    """``priosync.server`` at INFO (runs, next run time), also without the CLI's logging setup."""
    if not logging.getLogger().handlers:
        configure_logging(logging.WARNING)
    logger = logging.getLogger("priosync.server")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
