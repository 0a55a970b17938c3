"""The service keeps input dates across rescores: a webhook re-read dates the items it re-reads,
so a stale label comes off when a person changes an input, and stays on everywhere else."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from config import validate_config
from sandbox.jira import JiraSandbox, catalog, create_jira_app
from service.queue import Batch
from service.rescore import Rescorer
from sync.audit import SqliteAuditLog

from .conftest import CONFIG, ENVIRON


def stale_config() -> dict[str, object]:
    raw = copy.deepcopy(CONFIG)
    raw["scoring"]["freshness"] = {"review_after_days": 90, "stale_label": "needs-review"}
    return raw


async def test_a_rescore_removes_the_stale_label_of_the_edited_item_only(tmp_path: Path) -> None:
    """Every item dates from 2024 and is stale after the first sync; a person changes one
    item's reach; the webhook rescore reads that item's history and takes only its label off."""
    sandbox = JiraSandbox.seeded(issues=12, seed=7)
    loaded = validate_config(stale_config(), file=Path("service-test.toml"), environ={})
    audit = SqliteAuditLog(tmp_path / "audit.sqlite3")
    rescorer = Rescorer(
        loaded,
        environ=ENVIRON,
        transports={"web": httpx.ASGITransport(app=create_jira_app(sandbox))},
        audit=audit,
    )
    try:
        await rescorer.full_sync("start")
        snapshot = rescorer.snapshot
        assert snapshot is not None
        ranked = [i.key for i in snapshot.items["web"] if i.inputs_changed is not None]
        stale = [k for k in ranked if "needs-review" in sandbox.issue(k).labels]
        assert len(stale) >= 3
        edited, others = stale[0], stale[1:]
        sandbox.now = lambda: datetime.now(UTC) - timedelta(minutes=1)
        sandbox.human_edit(edited, fields={catalog.REACH: 123_456})
        history_before = sum(1 for e in sandbox.request_log if "changelog" in e.endpoint)
        await rescorer.rescore(Batch(keys={"web": (edited,)}, events=1))
        history_after = sum(1 for e in sandbox.request_log if "changelog" in e.endpoint)
    finally:
        await rescorer.aclose()
        audit.close()
    assert "needs-review" not in sandbox.issue(edited).labels
    assert all("needs-review" in sandbox.issue(k).labels for k in others)
    assert history_after - history_before == 1
