"""How long writing a plan takes at a source's pacing: ``priosync check`` says it up front.

Pure arithmetic over a plan: the write requests its changes need (Jira: one ``PUT`` per
issue; a GitHub repository: one request for the fields, one per label added or removed; a
GitHub Project: its mutations, 50 to a document) divided by the writes per second the
source is paced at. Latency, retries and the tracker's own limits can only make it longer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from config.models import FileSource, GitHubSource, JiraSource
from connectors.github.client import PACING as GITHUB_PACING
from connectors.github.graphql import MUTATIONS_PER_DOCUMENT
from connectors.jira.connector import PACING as JIRA_PACING
from priosync.domain import Change

#: The owned fields a change can set beside labels (``Outputs``).
_FIELDS = ("score", "priority", "explanation", "rank")


@dataclass(frozen=True, slots=True)
class WriteEstimate:
    """What writing a source's changes costs: items, write requests, seconds at the pacing."""

    source: str
    items: int
    requests: int
    writes_per_s: float
    seconds: float

    def describe(self) -> str:
        if not self.items:
            return "nothing to write: the tracker holds what priosync would write"
        items = "1 item" if self.items == 1 else f"{self.items:,} items"
        requests = "" if self.requests == self.items else f" ({self.requests:,} write requests)"
        return (
            f"a sync now writes {items}{requests} at {self.writes_per_s:g} writes/s "
            f"(pacing.writes_per_second): about {duration_text(self.seconds)}"
        )


def writes_per_s(source: JiraSource | GitHubSource | FileSource) -> float | None:
    """The writes per second a source is paced at; None for a file (it writes nothing)."""
    if isinstance(source, FileSource):
        return None
    defaults = JIRA_PACING if isinstance(source, JiraSource) else GITHUB_PACING
    return source.pacing.writes_per_second or defaults.writes_per_s


def write_requests(source: JiraSource | GitHubSource, changes: Sequence[Change]) -> int:
    """The write requests ``changes`` need on this source (module docstring)."""
    if isinstance(source, JiraSource):
        return len(changes)
    if source.project:
        mutations = sum(_fields(c) + _labels(c) for c in changes)
        return math.ceil(mutations / MUTATIONS_PER_DOCUMENT)
    return sum(min(_fields(c), 1) + _labels(c) for c in changes)


def estimate(source: JiraSource | GitHubSource, changes: Sequence[Change]) -> WriteEstimate:
    rate = writes_per_s(source)
    assert rate is not None
    requests = write_requests(source, changes)
    return WriteEstimate(source.name, len(changes), requests, rate, requests / rate)


def _fields(change: Change) -> int:
    return sum(getattr(change.before, f) != getattr(change.after, f) for f in _FIELDS)


def _labels(change: Change) -> int:
    return len(change.before.labels ^ change.after.labels)


def duration_text(seconds: float) -> str:
    """``"40 s"``, ``"6 min"``, ``"1.5 h"``: rounded up, as a wait is."""
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds / 360) / 10:g} h"
