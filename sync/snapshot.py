"""The read snapshot an incremental sync starts from: each item as the last read left it.

One row per item (its JSON form below) and one row per source saying when it was read, when
it was last read in full, and the signature of what was asked for (the source's config and
the fields it resolved to). Stored in the state store beside the audit log
(``AuditLog.load_snapshot`` / ``save_snapshot``), SQLite or PostgreSQL alike.

The JSON form holds every field of a ``WorkItem`` that planning uses; ``FORMAT`` is bumped
whenever it changes, and a snapshot of another format is not used (a full read replaces it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from priosync.compact import EMPTY_MAPPING, shared_labels, shared_text
from priosync.domain import InputsChanged, Link, Outputs, WorkItem

#: The version of the JSON form; a stored snapshot of another version is read again in full.
FORMAT = 2


class SnapshotUnreadable(ValueError):
    """A stored item does not decode: the snapshot is not used."""


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    """What the store keeps about one source's snapshot.

    ``read_at`` is when the last read of the source started and ``full_at`` when its last
    full read started, both seconds since the epoch by the clock of the process that read.
    """

    source: str
    format: int
    signature: str
    read_at: float
    full_at: float


def snapshot_id(item: WorkItem) -> str:
    """The id an item is stored by: its tracker id (the Jira issue id) when it has one, which
    stays when the key changes (an issue moved to another project)."""
    return item.handle if isinstance(item.handle, str) and item.handle else item.key


def storable(item: WorkItem) -> bool:
    """Whether the item's handle survives the JSON form (a plain value, not an object)."""
    return item.handle is None or isinstance(item.handle, str | int)


def item_to_json(item: WorkItem) -> str:
    return json.dumps(item_data(item), separators=(",", ":"), allow_nan=False)


def item_data(item: WorkItem) -> dict[str, Any]:
    """Every field planning uses, as JSON values (the handle as it is: see ``storable``)."""
    return {
        "key": item.key,
        "title": item.title,
        "url": item.url,
        "source": item.source,
        "inputs": dict(item.inputs),
        "current": outputs_data(item.current),
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
        "labelable": item.labelable,
        "handle": item.handle,
        "ref": item.ref,
        "held": dict(item.held),
        "blocks": [[link.key, link.done] for link in item.blocks],
        "blocked_by": [[link.key, link.done] for link in item.blocked_by],
        "done": item.done,
        "assignee": item.assignee,
        "inputs_changed": (
            [item.inputs_changed.at.isoformat(), item.inputs_changed.basis]
            if item.inputs_changed is not None
            else None
        ),
        "created_at": item.created_at.isoformat() if item.created_at else None,
    }


def outputs_data(outputs: Outputs) -> dict[str, Any]:
    """Owned values as JSON values (labels sorted)."""
    return {
        "score": outputs.score,
        "priority": outputs.priority,
        "labels": sorted(outputs.labels),
        "explanation": outputs.explanation,
        "rank": outputs.rank,
    }


def item_from_json(text: str) -> WorkItem:
    """The item back; ``SnapshotUnreadable`` for anything that is not what ``item_to_json`` wrote."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SnapshotUnreadable(f"a stored item does not decode: {exc}") from None
    return item_from_data(data)


def item_from_data(data: Any) -> WorkItem:
    """``item_data`` back; ``SnapshotUnreadable`` for anything it did not write."""
    try:
        current = data["current"]
        updated = data["updated_at"]
        held = _mapping(data["held"])
        return WorkItem(
            key=_text(data["key"]),
            title=_text(data["title"]),
            url=_text(data["url"]),
            source=shared_text(_text(data["source"])),
            inputs=_inputs(data["inputs"]),
            current=Outputs(
                score=current["score"],
                priority=_shared(current["priority"]),
                labels=shared_labels(_text(label) for label in current["labels"]),
                explanation=current["explanation"],
                rank=current["rank"],
            ),
            updated_at=datetime.fromisoformat(updated) if updated is not None else None,
            labelable=bool(data["labelable"]),
            handle=data["handle"],
            ref=data["ref"],
            held=held or EMPTY_MAPPING,
            blocks=tuple(Link(_text(k), done=bool(d)) for k, d in data["blocks"]),
            blocked_by=tuple(Link(_text(k), done=bool(d)) for k, d in data["blocked_by"]),
            done=bool(data["done"]),
            assignee=_optional_text(data["assignee"]),
            inputs_changed=_inputs_changed(data["inputs_changed"]),
            created_at=_time(data["created_at"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotUnreadable(f"a stored item does not decode: {exc}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _shared(value: Any) -> Any:
    """Text many items hold alike (an option name, a priority) as one object."""
    return shared_text(value) if isinstance(value, str) else value


def _inputs(value: Any) -> dict[str, Any]:
    """The inputs with their names and option names shared, as the connectors map them:
    json gives every item its own copy of each."""
    return {shared_text(k): _shared(v) for k, v in _mapping(value).items()}


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(_text(value))


def _inputs_changed(value: Any) -> InputsChanged | None:
    if value is None:
        return None
    at, basis = value
    if basis not in ("tracker", "first-seen"):
        raise ValueError(f"unknown basis {basis!r}")
    return InputsChanged(datetime.fromisoformat(_text(at)), basis)


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return {_text(k): v for k, v in value.items()}
