"""SIGTERM and Ctrl-C during a sync: stop taking new writes, finish what is in flight, say so.

The first signal sets the stop event the writer watches (``sync.writer``): no new chunk is
handed to a connector, the one in flight finishes (bounded), every outcome is recorded and
the run is closed as ``interrupted`` with its counts. A second signal cancels at once; the
writes it cuts off stay ``pending`` in the audit log and the next run resolves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal:
    """Turns SIGTERM/SIGINT into ``event`` (first) and a cancellation of ``task`` (second)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.received: signal.Signals | None = None

    @property
    def exit_code(self) -> int:
        """128 + the signal's number (143 for SIGTERM, 130 for SIGINT), as shells report it."""
        return 128 + int(self.received) if self.received is not None else 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Install the handlers on the running loop for the duration of the block."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._handle, sig, task)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def _handle(self, sig: signal.Signals, task: asyncio.Task[object] | None) -> None:
        if self.received is None:
            self.received = sig
            self.event.set()
        elif task is not None:
            task.cancel()
