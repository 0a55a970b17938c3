"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe``, for driving the
report in headless Chromium: no WebSocket library, no port, nothing but two pipes.

Chromium reads commands from fd 3 and writes answers and events to fd 4, each message one
JSON text ended by a NUL byte. One page target is attached in flat mode; every event is
kept, so a test can ask afterwards what the console said.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any


class CdpError(Exception):
    """Chromium answered a command with an error, or did not answer in time."""


class Page:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(
        self, executable: Path, profile: Path, flags: Sequence[str], *, timeout_s: float = 60
    ) -> None:
        self.timeout_s = timeout_s
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()

        def wire() -> None:  # in the child, before exec: the pipes become fds 3 and 4
            # Via fresh numbers first: either pipe end may already sit on 3 or 4.
            read_end, write_end = os.dup(commands_r), os.dup(answers_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [str(executable), *flags, "--remote-debugging-pipe", f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(commands_r)
        os.close(answers_w)
        self.events: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._answers, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))
        self._inbox.put(None)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and wait for its answer, keeping the events that arrive meanwhile."""
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                answer = self._inbox.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise CdpError(f"{method}: no answer in {self.timeout_s:.0f} s") from None
            if answer is None:
                raise CdpError(f"{method}: Chromium closed the pipe")
            if answer.get("id") == ident:
                if "error" in answer:
                    raise CdpError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to the attached page."""
        return self.call(method, params, session=self.session)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` (already seen, or still to come)."""
        deadline = time.monotonic() + self.timeout_s
        seen = 0
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            seen = len(self.events)
            self.evaluate("0")  # a round trip: whatever arrived meanwhile is now in events
            time.sleep(0.02)
        raise CdpError(f"no {method} in {self.timeout_s:.0f} s")

    def open(self, url: str, *, width: int = 1280, height: int = 1000) -> None:
        """Load ``url`` at the given viewport and wait for its load event."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        # A load event of the blank page before may still arrive: wait for this document.
        deadline = time.monotonic() + self.timeout_s
        check = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        while not self.evaluate(check):
            if time.monotonic() > deadline:
                raise CdpError(f"{url} did not load in {self.timeout_s:.0f} s")
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise CdpError(f"page threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the viewport (or of the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors (a refused
        script or style under the Content-Security-Policy shows up here)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning"}:
                found.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                thrown = details.get("exception", {}).get("description", "")
                found.append(f"{details.get('text', '')} {thrown}".strip())
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(str(params["entry"].get("text")))
        return found

    def close(self) -> None:
        with contextlib.suppress(CdpError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._answers)

    def __enter__(self) -> Page:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
