"""What a connector offers to read a backlog incrementally (``sync.incremental``).

A source that can find its items updated since a time, and list all its item ids cheaply,
implements ``IncrementalReader``; the others (GitHub, files) are always read in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from priosync.domain import WorkItem


@dataclass(frozen=True, slots=True)
class SinceRead:
    """A backlog read incrementally: every item, in the order a full read gives them, and
    the ids (``sync.snapshot.snapshot_id``) of those read from the tracker in full."""

    items: list[WorkItem]
    fetched: frozenset[str]


@runtime_checkable
class IncrementalReader(Protocol):
    async def read_signature(self) -> str:
        """What the read asks for, resolved (deployment, site, field ids): a snapshot taken
        under another signature is not used."""
        ...

    async def read_since(self, known: dict[str, WorkItem], minutes: int) -> SinceRead:
        """The backlog: the ids the query holds now, each read in full if it was updated in
        the last ``minutes`` or is not in ``known`` (by id), else taken from ``known``.
        Items read again are dropped from ``known`` before they are fetched, so the stored
        copy and the fresh one are never held together."""
        ...
