"""Incremental reads: a scheduled sync reads in full only what changed since the last one.

With ``[sync] incremental`` (the default) and a state store, a source whose connector is an
``IncrementalReader`` (Jira) is read as: the ids its query holds now (id-only pages, cheap),
and in full only the issues updated since the last sync's read began, less ``overlap``, and
any id the stored snapshot does not hold; every other item comes from the snapshot. The
result is the list a full read would return (``tests/unit/sync/test_incremental.py`` compares
the two after random edits), because every change to an issue's fields moves its ``updated``.

Anything unsure reads the source in full, and the log says why: ``sync --full``; no
snapshot; a snapshot of another format, of another config or field map (the signature);
one that does not decode; the last full read older than ``full_every``; the clock behind the
snapshot; a query the tracker refuses in its narrowed form. With dependencies on, a kept
issue linked to one outside the backlog is read in full too, and the other kept issues'
links take the linked issue's status as read now (``JiraConnector.read_since``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from config.models import PriosyncConfig, duration_s
from connectors.base import Connector
from connectors.incremental import IncrementalReader
from priosync.domain import Change, WorkItem
from priosync.errors import PriosyncError, QueryRejected
from sync.audit import AuditLog
from sync.pipeline import Reads, SourceFailure, landed_outputs
from sync.snapshot import (
    FORMAT,
    SnapshotMeta,
    SnapshotUnreadable,
    item_from_json,
    item_to_json,
    snapshot_id,
    storable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadMode:
    """How one source was read: ``incremental`` or not, and why (or what it cost)."""

    source: str
    incremental: bool
    reason: str
    #: Items read from the tracker in full (all of them on a full read).
    fetched: int = 0
    items: int = 0
    #: A snapshot of the source is kept (its connector can read incrementally).
    snapshot: bool = True


@dataclass(frozen=True, slots=True)
class _Read:
    items: list[WorkItem]
    mode: ReadMode
    fetched: frozenset[str] | None  # None: a full read
    #: What the snapshot is stored under; None for a source that is never read incrementally.
    signature: str | None = None
    gone: frozenset[str] = frozenset()
    base: SnapshotMeta | None = None


def config_signature(config: PriosyncConfig, source_name: str) -> str:
    """What in the config decides what a source's read returns (pacing does not)."""
    source = config.source(source_name)
    data = {
        "format": FORMAT,
        "source": source.model_dump(mode="json", exclude={"pacing"}),
        "inputs": config.inputs_for(source),
        "outputs": config.outputs.model_dump(mode="json"),
        "dependencies": config.scoring.dependencies,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


async def read_incrementally(
    connectors: Mapping[str, Connector],
    config: PriosyncConfig,
    store: AuditLog,
    *,
    full: bool = False,
    clock: Callable[[], float],
) -> tuple[Reads, list[ReadMode]]:
    """Read every source (concurrently), incrementally where it can be, and store the
    snapshot each read leaves; a failing source is recorded, the others go on."""
    started = clock()
    names = list(connectors)
    results = await asyncio.gather(
        *(
            _read_one(name, connectors[name], config, store, full=full, now=started)
            for name in names
        ),
        return_exceptions=True,
    )
    reads = Reads()
    modes: list[ReadMode] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, PriosyncError):
            reads.failures.append(SourceFailure(name, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            reads.items[name] = result.items
            modes.append(result.mode)
            _store(store, name, result, started=started)
    return reads, modes


async def _read_one(
    name: str,
    connector: Connector,
    config: PriosyncConfig,
    store: AuditLog,
    *,
    full: bool,
    now: float,
) -> _Read:
    if not isinstance(connector, IncrementalReader):
        items = await connector.read()
        reason = "the tracker offers no filter by update time"
        mode = ReadMode(name, False, reason, len(items), len(items), snapshot=False)
        return _Read(items, mode, fetched=None)
    signature = hashlib.sha256(
        (config_signature(config, name) + await connector.read_signature()).encode()
    ).hexdigest()
    unsure, known, base = _why_full(name, config, store, signature, full=full, now=now)
    if unsure is None:
        assert base is not None
        window_s = now - base.read_at + duration_s(config.sync.overlap)
        # +1: JQL compares to the minute, so a partial minute is a whole one.
        minutes = math.ceil(window_s / 60) + 1
        try:
            stored_ids = frozenset(known)  # read_since lets go of what it reads again
            since = await connector.read_since(known, minutes)
        except QueryRejected as exc:
            unsure = f"the tracker refused the narrowed query ({exc})"
        else:
            ids = {snapshot_id(i) for i in since.items}
            mode = ReadMode(
                name,
                True,
                f"updated in the last {minutes} min",
                fetched=len(since.fetched),
                items=len(since.items),
            )
            log.info(
                "%s: incremental read, %d of %d items read in full (updated in the last %d min)",
                name,
                len(since.fetched),
                len(since.items),
                minutes,
            )
            gone = stored_ids - ids
            return _Read(
                since.items,
                mode,
                fetched=since.fetched,
                signature=signature,
                gone=gone,
                base=base,
            )
    log.info("%s: full read (%s)", name, unsure)
    items = await connector.read()
    mode = ReadMode(name, False, unsure, fetched=len(items), items=len(items))
    return _Read(items, mode, fetched=None, signature=signature)


def _why_full(
    name: str,
    config: PriosyncConfig,
    store: AuditLog,
    signature: str,
    *,
    full: bool,
    now: float,
) -> tuple[str | None, dict[str, WorkItem], SnapshotMeta | None]:
    """Why the source must be read in full (None: it need not), the snapshot's items by id,
    and its meta."""
    if full:
        return "--full", {}, None
    stored = store.load_snapshot(name)
    if stored is None:
        return "no snapshot yet", {}, None
    meta, rows = stored
    if meta.format != FORMAT:
        return f"snapshot format {meta.format}, this priosync writes {FORMAT}", {}, None
    if meta.signature != signature:
        return "the source's query, fields or outputs changed since the snapshot", {}, None
    if now < meta.read_at:
        return "the clock is behind the snapshot's time", {}, None
    every = duration_s(config.sync.full_every)
    if now - meta.full_at >= every:
        return f"last full read {(now - meta.full_at) / 3600:.1f} h ago (full_every)", {}, None
    try:
        items = [item_from_json(row) for row in rows]
    except SnapshotUnreadable as exc:
        return f"snapshot unreadable: {exc}", {}, None
    if any(i.source != name for i in items):
        return "snapshot holds items of another source", {}, None
    return None, {snapshot_id(i): i for i in items}, meta


def _store(store: AuditLog, name: str, read: _Read, *, started: float) -> None:
    """Keep what this read saw: every item after a full read, the fetched ones otherwise."""
    signature = read.signature
    if signature is None:
        return  # not an incremental source: nothing kept
    if not all(storable(i) for i in read.items):
        store.drop_snapshot(name)
        return
    if read.fetched is None:
        meta = SnapshotMeta(name, FORMAT, signature, read_at=started, full_at=started)
        rows = ((snapshot_id(i), item_to_json(i)) for i in read.items)
        store.save_snapshot(meta, name, items=rows, whole=True)
        return
    assert read.base is not None
    meta = SnapshotMeta(name, FORMAT, signature, read_at=started, full_at=read.base.full_at)
    fetched = read.fetched
    rows = ((snapshot_id(i), item_to_json(i)) for i in read.items if snapshot_id(i) in fetched)
    store.save_snapshot(meta, name, items=rows, gone=sorted(read.gone))


def store_written(
    store: AuditLog, settled: Reads, written: Sequence[Change], sources: Collection[str]
) -> None:
    """Fold priosync's own landed writes into the stored snapshots of ``sources``
    (``settled``: the reads with those writes applied, ``pipeline.settle_reads``)."""
    _store_landed_items(store, settled, written, sources, settle=False)


def store_landed(
    store: AuditLog, reads: Reads, written: Sequence[Change], sources: Collection[str]
) -> None:
    """``store_written`` for the reads as they were before the writes: each landed item's
    outputs are settled one at a time as it is stored, not the whole backlog copied first
    (a first sync writes nearly every item)."""
    _store_landed_items(store, reads, written, sources, settle=True)


def _store_landed_items(
    store: AuditLog,
    reads: Reads,
    written: Sequence[Change],
    sources: Collection[str],
    *,
    settle: bool,
) -> None:
    landed = {(c.source, c.key): c for c in written if c.source in sources}
    for source in sorted({s for s, _ in landed}):
        rows = (
            (
                snapshot_id(i),
                item_to_json(
                    replace(i, current=landed_outputs(i.current, change)) if settle else i
                ),
            )
            for i in reads.items.get(source, [])
            if (change := landed.get((source, i.key))) is not None and storable(i)
        )
        store.save_snapshot(None, source, items=rows)


def snapshot_sources(modes: Sequence[ReadMode]) -> set[str]:
    """The sources a run keeps a snapshot of."""
    return {m.source for m in modes if m.snapshot}
