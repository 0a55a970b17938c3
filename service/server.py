"""A uvicorn server that ends cleanly on SIGTERM/SIGINT, for `serve` and the sandboxes.

Stock uvicorn re-raises the captured signal once it has shut down, so the process dies of
SIGTERM (exit -15) before any cleanup after ``server.run()`` — draining the service's queue
or saving a sandbox's state — can run, and a supervisor sees a crash instead of a clean
stop. This server restores the previous handlers instead, so ``run()`` simply returns.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import uvicorn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
