"""What replicas share in PostgreSQL besides the audit log: delivery ids, targets, the snapshot.

Tables (``sync.postgres`` migration 2, in the ``priosync`` schema):

- ``deliveries``: each delivery id seen, so a redelivery is answered ``duplicate`` by any
  replica. Ids older than a week are forgotten.
- ``targets``: the items waiting to be rescored (``key = ''`` is a whole source). A job takes
  every target by stamping its id on them and deletes what it took when it is done, so a
  job killed half-way leaves its targets to whoever runs it again. A delivery for an item
  that a running job already took puts it back (the job may have read before the edit).
- ``snapshot`` and ``snapshot_meta``: the backlog as the trackers hold it after the last
  job, which the next job — on whichever replica — replans from. Each job bumps the
  version and writes only the rows it changed (a row whose item is ``null`` left the
  backlog); a replica keeps what it loaded and reads only rows newer than that. A full sync
  replaces every row and moves ``base_version``, telling replicas to load afresh.

Only item identities and outputs are kept: nothing secret. A connector's handle (the Jira
issue id, GitHub node ids) is kept as JSON: a dataclass from ``connectors`` by its name.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from connectors.webhooks import Target
from priosync.compact import shared_labels
from priosync.domain import Outputs, WorkItem
from priosync.errors import PriosyncError
from service.queue import Batch, QueueStats
from sync.pipeline import Reads, SourceFailure
from sync.snapshot import item_data, item_from_data, outputs_data

ItemId = tuple[str, str]
#: How long a delivery id is remembered (GitHub and Jira redeliver within hours).
DELIVERY_MEMORY_S = 7 * 24 * 3600


@dataclass
class Snapshot:
    """A loaded snapshot: the items, the changes its last plan left pending, its version."""

    version: int
    base_version: int
    config_sha256: str
    items: dict[ItemId, WorkItem]
    failures: list[tuple[str, str]]
    pending: dict[ItemId, Outputs]

    def reads(self) -> Reads:
        by_source: dict[str, list[WorkItem]] = {}
        for (source, _), item in sorted(self.items.items()):
            by_source.setdefault(source, []).append(item)
        failures = [SourceFailure(s, PriosyncError(text)) for s, text in self.failures]
        for source, _ in self.failures:
            by_source.setdefault(source, [])
        return Reads(items=by_source, failures=failures)


class SharedState:
    """The service's tables, through the replica's connection pool."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    # ── deliveries and targets ───────────────────────────────────────────────────────

    async def remember(self, delivery: str) -> bool:
        """Record a delivery id; True when some replica saw it before."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO deliveries (id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id",
                (delivery,),
            )
            return await cursor.fetchone() is None

    async def put(self, targets: Iterable[Target], *, delivery: str | None) -> bool:
        """Remember ``delivery`` and queue its targets in one transaction; False (nothing
        queued) when the delivery was seen before. A target already waiting costs nothing;
        one that a running job took is put back."""
        rows = sorted({(t.source, t.key or "") for t in targets})
        async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if delivery is not None:
                await cursor.execute(
                    "INSERT INTO deliveries (id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id",
                    (delivery,),
                )
                if await cursor.fetchone() is None:
                    return False
            await cursor.executemany(
                "INSERT INTO targets AS t (source, key) VALUES (%s, %s) "
                "ON CONFLICT (source, key) DO UPDATE SET job_id = NULL, "
                "queued_at = CASE WHEN t.job_id IS NULL THEN t.queued_at ELSE now() END",
                rows,
            )
        return True

    async def claim(self, job_id: int) -> Batch | None:
        """Take every waiting target for job ``job_id`` (its own from an earlier try too)."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE targets SET job_id = %s "
                "RETURNING source, key, extract(epoch FROM now() - queued_at)",
                (job_id,),
            )
            rows = await cursor.fetchall()
        if not rows:
            return None
        whole = frozenset(s for s, k, _ in rows if k == "")
        keys: dict[str, list[str]] = {}
        for source, key, _ in sorted(rows):
            if key and source not in whole:
                keys.setdefault(source, []).append(key)
        return Batch(
            keys={s: tuple(k) for s, k in keys.items()},
            whole=whole,
            events=len(rows),
            waited_s=max(float(w) for _, _, w in rows),
        )

    async def release(self, job_id: int) -> None:
        """The job is done with what it took (targets put back since stay)."""
        async with self.pool.connection() as conn:
            await conn.execute("DELETE FROM targets WHERE job_id = %s", (job_id,))

    async def orphaned(self, task_name: str) -> bool:
        """Targets wait and no job of ``task_name`` is queued or running to take them."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM targets) AND NOT EXISTS (SELECT 1 FROM "
                "procrastinate_jobs WHERE task_name = %s AND status IN ('todo', 'doing'))",
                (task_name,),
            )
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def prune_deliveries(self, older_than_s: float = DELIVERY_MEMORY_S) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "DELETE FROM deliveries WHERE seen_at < now() - make_interval(secs => %s)",
                (older_than_s,),
            )

    async def stats(self) -> QueueStats:
        """Items waiting, how long the oldest has waited, and the jobs by status."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(queued_at)), 0) "
                "FROM targets"
            )
            row = await cursor.fetchone()
            cursor = await conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') GROUP BY status"
            )
            jobs = {str(status): int(n) for status, n in await cursor.fetchall()}
        depth, oldest = (int(row[0]), float(row[1])) if row else (0, 0.0)
        return QueueStats(depth=depth, oldest_s=oldest, jobs={"todo": 0, "doing": 0, **jobs})

    async def schema_version(self) -> int:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT coalesce(max(version), 0) FROM migrations WHERE "
                "to_regclass('procrastinate_jobs') IS NOT NULL"
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # ── the snapshot ─────────────────────────────────────────────────────────────────

    async def load(self, cached: Snapshot | None) -> Snapshot | None:
        """The current snapshot: ``cached`` brought up to date, or loaded whole; None if none."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT version, base_version, config_sha256, failures, pending FROM snapshot_meta"
            )
            meta = await cursor.fetchone()
            if meta is None:
                return None
            version, base, sha, failures, pending = meta
            if cached is not None and cached.version == version:
                return cached
            since = cached.version if cached is not None and base <= cached.version else -1
            cursor = await conn.execute(
                "SELECT source, key, item FROM snapshot WHERE version > %s", (since,)
            )
            rows = await cursor.fetchall()
        items = dict(cached.items) if since >= 0 and cached is not None else {}
        for source, key, item in rows:
            if item is None:
                items.pop((source, key), None)
            else:
                items[(source, key)] = item_from_json(item)
        return Snapshot(
            version=int(version),
            base_version=int(base),
            config_sha256=str(sha),
            items=items,
            failures=[(str(s), str(t)) for s, t in failures],
            pending={(s, k): outputs_from_json(o) for s, k, o in pending},
        )

    async def save(
        self,
        before: Snapshot | None,
        reads: Reads,
        pending: Mapping[ItemId, Outputs],
        *,
        config_sha256: str,
        whole: bool,
    ) -> Snapshot:
        """Store the snapshot after a job: every row (``whole``), or the rows that changed."""
        items = {(i.source, i.key): i for found in reads.items.values() for i in found}
        failures = [(f.source, str(f.error)) for f in reads.failures]
        old = before.items if before is not None and not whole else {}
        changed = [(k, v) for k, v in items.items() if old.get(k) is not v]
        gone = [k for k in old if k not in items]
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute("SELECT version FROM snapshot_meta FOR UPDATE")
            row = await cursor.fetchone()
            version = (int(row[0]) if row else 0) + 1
            if whole:
                await conn.execute("DELETE FROM snapshot")
            async with conn.cursor() as rows:
                await rows.executemany(
                    "INSERT INTO snapshot (source, key, item, version) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (source, key) DO UPDATE SET item = excluded.item, "
                    "version = excluded.version",
                    [(s, k, Jsonb(item_to_json(i)), version) for (s, k), i in changed]
                    + [(s, k, None, version) for s, k in gone],
                )
            await conn.execute(
                "INSERT INTO snapshot_meta (version, base_version, config_sha256, failures, "
                "pending, synced_at) VALUES (%(v)s, %(v)s, %(sha)s, %(f)s, %(p)s, now()) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
                "base_version = CASE WHEN %(whole)s THEN excluded.version "
                "ELSE snapshot_meta.base_version END, config_sha256 = excluded.config_sha256, "
                "failures = excluded.failures, pending = excluded.pending, "
                "synced_at = CASE WHEN %(whole)s THEN now() ELSE snapshot_meta.synced_at END",
                {
                    "v": version,
                    "sha": config_sha256,
                    "f": Jsonb(failures),
                    "p": Jsonb([[s, k, outputs_data(o)] for (s, k), o in pending.items()]),
                    "whole": whole,
                },
            )
        return Snapshot(
            version=version,
            base_version=version if whole else (before.base_version if before else version),
            config_sha256=config_sha256,
            items=items,
            failures=failures,
            pending=dict(pending),
        )


# ── JSON forms ───────────────────────────────────────────────────────────────────────────


def outputs_from_json(data: Mapping[str, Any]) -> Outputs:
    return Outputs(
        score=data.get("score"),
        priority=data.get("priority"),
        labels=shared_labels(data.get("labels") or ()),
        explanation=data.get("explanation"),
        rank=data.get("rank"),
    )


def item_to_json(item: WorkItem) -> dict[str, Any]:
    """The snapshot's JSON form of an item (``sync.snapshot``), its handle as
    ``handle_to_json`` writes it (a GitHub ``ItemHandle`` is an object)."""
    return item_data(item) | {"handle": handle_to_json(item.handle)}


#: What rows written before the snapshot's whole form was shared here lack.
_OLDER_ROWS: dict[str, Any] = {
    "updated_at": None,
    "labelable": True,
    "ref": None,
    "held": {},
    "blocks": [],
    "blocked_by": [],
    "done": False,
    "assignee": None,
    "inputs_changed": None,
    "created_at": None,
}


def item_from_json(data: Mapping[str, Any]) -> WorkItem:
    item = item_from_data(_OLDER_ROWS | dict(data) | {"handle": None})
    return dataclasses.replace(item, handle=handle_from_json(data.get("handle")))


def handle_to_json(handle: Any) -> Any:
    """A connector's handle: plain JSON as it is, a dataclass by its name and fields."""
    if dataclasses.is_dataclass(handle) and not isinstance(handle, type):
        kind = type(handle)
        fields = {f.name: _plain(getattr(handle, f.name)) for f in dataclasses.fields(handle)}
        return {"dataclass": f"{kind.__module__}:{kind.__qualname__}", "fields": fields}
    return {"value": _plain(handle)}


def handle_from_json(data: Any) -> Any:
    if not isinstance(data, Mapping):
        return None
    if "dataclass" not in data:
        return data.get("value")
    module, _, name = str(data["dataclass"]).partition(":")
    # Only our connectors' handle types are rebuilt: the store is data, not code to load.
    if not module.startswith("connectors."):
        return None
    kind: Any = getattr(importlib.import_module(module), name, None)
    if not isinstance(kind, type) or not dataclasses.is_dataclass(kind):
        return None
    return kind(**data["fields"])


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value
