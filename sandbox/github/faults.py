"""Injected latency, server errors and dropped connections, drawn from a seed.

A dropped connection is raised as :class:`DroppedConnection`, a subclass of
``httpx.RemoteProtocolError``, after the response has started: through
``httpx.ASGITransport`` the client sees exactly that exception, and under uvicorn the
connection is closed before the body, which the client sees as a protocol error too.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Literal

import httpx

FaultKind = Literal["5xx", "drop"]


class DroppedConnection(httpx.RemoteProtocolError):
    """The sandbox closed the connection without finishing the response (injected)."""


@dataclass(frozen=True, slots=True)
class Faults:
    """What to inject into requests, with which probability."""

    seed: int = 0
    #: Extra latency per request, uniform between the two bounds.
    latency_ms: tuple[float, float] = (0.0, 0.0)
    #: Probability that a request is answered with one of ``error_statuses``.
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (502, 503)
    #: Probability that the connection is dropped mid-response.
    drop_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request."""

    latency_s: float = 0.0
    status: int | None = None
    drop: bool = False


class FaultInjector:
    """Draws one :class:`FaultDecision` per request; scripted faults take precedence."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)  # noqa: S311 (reproducible faults)
        self._scripted: deque[FaultDecision] = deque()

    def script(self, decision: FaultDecision, *, count: int = 1) -> None:
        """Make the next ``count`` requests meet ``decision`` (before any random draw)."""
        self._scripted.extend([decision] * count)

    def decide(self) -> FaultDecision:
        """Return what happens to the next request."""
        if self._scripted:
            return self._scripted.popleft()
        f = self.faults
        low, high = f.latency_ms
        latency_s = self._rng.uniform(low, high) / 1000 if high > 0 else 0.0
        roll = self._rng.random()
        if roll < f.drop_rate:
            return FaultDecision(latency_s=latency_s, drop=True)
        if roll < f.drop_rate + f.error_rate:
            return FaultDecision(latency_s=latency_s, status=self._rng.choice(f.error_statuses))
        return FaultDecision(latency_s=latency_s)
