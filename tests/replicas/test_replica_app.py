"""One replica in this process, on a real PostgreSQL: readiness follows the store's schema,
and the snapshot it keeps in the store survives a round trip (GitHub handles included)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from connectors.github.mapping import ItemHandle
from priosync.domain import InputsChanged, Link, Outputs, WorkItem
from sandbox.jira import JiraSandbox, create_jira_app
from service import create_service_app
from service.shared_state import item_from_json, item_to_json
from sync.postgres import MIGRATIONS
from sync.state import open_audit, parse_state
from tests.postgres import PostgresServer
from tests.service.conftest import ENVIRON, SECRET, eventually, load_test_config, serve

#: This version's newest migration of the PostgreSQL store.
LATEST = len(MIGRATIONS)


class TestReplicaApp:
    async def test_readiness_needs_a_migrated_store(self, postgres: PostgresServer) -> None:
        """Ready once migrated; a store behind this version's migrations is not ready (503)
        while the process stays live."""
        location = parse_state(postgres.url(postgres.database(), password=True))
        audit = open_audit(location)
        sandbox = JiraSandbox.seeded(issues=20, seed=2, webhook_secret=SECRET)
        app = create_service_app(
            load_test_config(),
            environ=ENVIRON,
            transports={"web": httpx.ASGITransport(app=create_jira_app(sandbox))},
            audit=audit,
            state=location,
            quiet_s=0.1,
        )
        try:
            async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
                assert (await client.get("/healthz/ready")).status_code == 200
                await eventually(
                    lambda: app.state.service.rescorer.snapshot is not None,
                    what="the first sync, run as a job",
                )
                with psycopg_connect(location.url) as conn:
                    conn.execute("DELETE FROM migrations WHERE version = %s", (LATEST,))
                ready = await client.get("/healthz/ready")
                assert ready.status_code == 503
                assert f"migration {LATEST - 1} of {LATEST}" in ready.json()["reason"]
                assert (await client.get("/healthz/live")).status_code == 200
                assert postgres.url() not in ready.text
        finally:
            audit.close()

    def test_snapshot_items_round_trip_with_their_handles(self) -> None:
        """A Jira id and a GitHub ItemHandle come back equal; other handle types do not load."""
        github = WorkItem(
            key="acme/web#3",
            title="t",
            url="https://x",
            source="gh",
            inputs={"reach": 3, "impact": ["High"], "note": None},
            current=Outputs(score=1.5, labels=frozenset({"b", "a"}), rank=2),
            handle=ItemHandle(repo="acme/web", number=3, label_ids={"a": "L1"}),
        )
        jira = WorkItem(key="WEB-1", title="t", url="u", source="web", inputs={}, handle="10001")
        for item in (github, jira):
            assert item_from_json(item_to_json(item)) == item
        forged = item_to_json(jira) | {"handle": {"dataclass": "os:system", "fields": {}}}
        assert item_from_json(forged).handle is None

    def test_snapshot_items_keep_links_assignee_and_dates_and_older_rows_load(self) -> None:
        """A replica replans from the shared snapshot: dependencies, assignee, held values and
        input dates come back as one process keeps them; a row without them still loads."""
        item = WorkItem(
            key="WEB-2",
            title="t",
            url="u",
            source="web",
            inputs={"reach": 3},
            handle="10002",
            ref="r-2",
            held={"score": "n/a"},
            blocks=(Link("WEB-3"),),
            blocked_by=(Link("WEB-1", done=True),),
            done=False,
            assignee="Ada L",
            inputs_changed=InputsChanged(datetime(2025, 5, 1, tzinfo=UTC), "tracker"),
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
        assert item_from_json(item_to_json(item)) == item
        older = {
            k: v
            for k, v in item_to_json(item).items()
            if k
            in (
                "key",
                "title",
                "url",
                "source",
                "inputs",
                "current",
                "updated_at",
                "labelable",
                "handle",
            )
        }
        assert item_from_json(older) == replace(
            item, ref=None, held={}, blocks=(), blocked_by=(), assignee=None,
            inputs_changed=None, created_at=None,
        )  # fmt: skip


def psycopg_connect(url: str | None) -> psycopg.Connection[Any]:
    assert url is not None
    return psycopg.connect(url, autocommit=True, options="-c search_path=priosync")
