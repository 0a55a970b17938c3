"""The interface every connector offers the sync engine.

A connector turns one configured source into ``WorkItem``s and applies ``Change``s back.
It owns its tracker's vocabulary, pacing, batching and retries; the engine only decides
what to write and records what happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from priosync.domain import Change, CheckResult, FieldInfo, Move, MoveResult, WorkItem, WriteResult


class Connector(Protocol):
    #: The configured source name, stamped on every WorkItem it reads.
    name: str
    #: False for read-only sources (files): the engine plans but never writes them.
    writable: bool

    async def read(self) -> list[WorkItem]:
        """The whole backlog of the source, or a ``TrackerError``: never a partial list."""
        ...

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """Re-read named items (webhooks, revert); keys the source does not hold are left out.

        A key may also be ``ref:<id>`` for an item whose ``WorkItem.ref`` is known (a Project
        item's node id), which lets a tracker look the item up directly.
        """
        ...

    def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """Write the changes with the tracker's pacing, yielding one result per change as it
        settles. A refused item yields an error and the rest go on; a refusal that would hit
        every item (credentials, the notify permission) raises ``AuthFailed`` and stops."""
        ...

    async def fields(self) -> list[FieldInfo]:
        """The tracker's fields, for `priosync fields` and `init`."""
        ...

    async def check(self) -> list[CheckResult]:
        """Credentials, field mapping, option coverage and write permission, one line each."""
        ...

    async def owned_field_ids(self) -> frozenset[str]:
        """The tracker ids of the fields priosync writes (resolved once), so the service can
        tell its own writes coming back as webhooks that name a field by id only."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Reorders(Protocol):
    """A connector that can set its tracker's own order (``[outputs] reorder``).

    Its ``read`` returns items in that order, top first, and ``apply_moves`` places items.
    """

    async def read_order(self) -> list[WorkItem]:
        """The whole backlog in the tracker's own order, top first, whatever the config."""
        ...

    def apply_moves(self, moves: Sequence[Move]) -> AsyncIterator[MoveResult]:
        """Apply the moves in the order given, grouping chained ones into requests the way
        the tracker allows; one result per move as it settles. A refused item yields an
        error and the rest go on; a refusal every move would meet raises and stops."""
        ...


@runtime_checkable
class InputHistory(Protocol):
    """A connector whose tracker keeps a history of field changes (Jira's changelog).

    Connectors whose reads already carry the dates (field values' ``updatedAt``, a file's
    date column) set ``WorkItem.inputs_changed`` themselves and need not offer this.
    """

    async def inputs_changed(self, items: Sequence[WorkItem]) -> dict[str, datetime]:
        """When each item's mapped inputs last changed, by key: the latest history entry
        for any input field, else the item's creation. An item the history could not date
        is left out; a failed history read raises a ``TrackerError``."""
        ...
