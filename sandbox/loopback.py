"""Serve an ASGI app on loopback in a background thread (tests, benchmarks, the demo).

``serve_in_thread(app)`` binds 127.0.0.1 on a free port (port 0), runs uvicorn in a daemon
thread, yields the base URL once the server accepts connections, and stops the server on
exit. Generic: it knows nothing about any tracker.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

_STARTUP_TIMEOUT_S = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, for a child process to bind (it may be taken
    in between; the callers' children fail to start then, and say so)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def bind_free_socket(host: str = "127.0.0.1") -> socket.socket:
    """Return a listening TCP socket on ``host`` with a port the OS chose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it every small response waits on a delayed ACK (~40 ms on loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextmanager
def serve_in_thread(
    app: Any, *, host: str = "127.0.0.1", log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield ``http://host:port``.

    Raises ``RuntimeError`` when the server does not start within 10 s. The server is shut
    down (and the thread joined) when the context exits, also on error.
    """
    sock = bind_free_socket(host)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"loopback-{port}", daemon=True
    )
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_STARTUP_TIMEOUT_S)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Block until uvicorn reports it started; fail fast if its thread died."""
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
