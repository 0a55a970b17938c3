"""Webhook-triggered rescoring against a sandbox Jira that sends real signed webhooks."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from sandbox.jira import catalog
from sync.audit import SqliteAuditLog
from sync.snapshot import item_from_json

from .conftest import eventually, running_service


class TestRescoring:
    async def test_an_input_change_lands_as_score_priority_and_label(self) -> None:
        """Raising an item's reach makes the service write its new score, tier and bucket."""
        async with running_service() as svc:
            ranking = svc.ranking()
            low = max((r for r in ranking.values() if r.rank is not None), key=lambda r: r.rank)
            writes_before = len(svc.bot_edits())
            began = time.monotonic()
            svc.sandbox.human_edit(
                low.item.key, fields={catalog.REACH: 1_000_000, catalog.EFFORT: 1}
            )
            await svc.deliver()

            def landed() -> bool:
                issue = svc.sandbox.issue(low.item.key)
                return "roadmap:now" in issue.labels and issue.priority == "Highest"

            await eventually(landed, what="the rescored values in the sandbox")
            latency = time.monotonic() - began
            await svc.settled()
            issue = svc.sandbox.issue(low.item.key)
            assert issue.fields[catalog.RICE_SCORE] == svc.ranking()[low.item.key].score.value
            assert latency < 5
            assert len(svc.bot_edits()) > writes_before
            assert svc.metric("priosync_rescores_total", outcome="ok") == 1

    async def test_own_writes_come_back_and_cause_nothing(self) -> None:
        """The first sync's writes return as webhooks; all are ignored, no rescore, no write."""
        async with running_service() as svc:
            writes = [e for e in svc.bot_edits() if e.changes]
            assert len(writes) > 10
            assert len(svc.sandbox.webhook_log) == len(writes)
            assert {d.status for d in svc.sandbox.webhook_log} == {202}
            assert svc.metric(
                "priosync_webhook_events_total", tracker="jira", outcome="ignored"
            ) == len(writes)
            assert svc.app.state.metrics.total("priosync_rescores_total") == 0
            assert len(svc.bot_edits()) == len(writes)

    async def test_a_burst_of_200_events_on_5_issues_costs_a_handful_of_rescores(self) -> None:
        """200 edits to 5 issues within a second: at most one rescore per quiet window the
        deliveries spanned (and one more), one write per item per rescore."""
        async with running_service() as svc:
            keys = sorted(svc.ranking())[:5]
            edits_before = len(svc.bot_edits())
            for n in range(200):
                svc.sandbox.human_edit(keys[n % 5], fields={catalog.REACH: 1000 + n})
            began = time.monotonic()
            await svc.deliver()
            windows = math.ceil((time.monotonic() - began) / svc.service.queue.quiet_s) + 1
            await svc.settled()
            rescores = svc.app.state.metrics.total("priosync_rescores_total")
            new_edits = svc.bot_edits()[edits_before:]
            per_key = {k: sum(1 for e in new_edits if e.key == k) for k in keys}
            assert 1 <= rescores <= windows
            assert (
                svc.metric("priosync_webhook_events_total", tracker="jira", outcome="accepted")
                == 200
            )
            assert all(e.changes for e in new_edits), "a write that changed nothing"
            assert all(count <= rescores for count in per_key.values())
            assert svc.metric("priosync_rescored_items_total") <= 5 * rescores
            for key in keys:
                assert svc.sandbox.issue(key).fields[catalog.REACH] >= 1195

    async def test_a_move_into_now_displaces_the_last_now_item_to_next(self) -> None:
        """Boosting one item into `now` (capacity) pushes the last `now` item into `next`."""
        async with running_service() as svc:
            ranking = svc.ranking()
            now = [r for r in ranking.values() if r.bucket == "now"]
            slack = 10 - sum(r.score.terms["effort"] for r in now)
            candidates = [
                r for r in ranking.values()
                if r.bucket == "later" and slack < r.score.terms["effort"] <= 10 - min(
                    x.score.terms["effort"] for x in now)
            ]  # fmt: skip
            assert candidates, "the seeded backlog has no item that would displace one"
            boosted = candidates[0].item.key
            svc.sandbox.human_edit(boosted, fields={catalog.REACH: 10_000_000})
            await svc.deliver()
            await eventually(lambda: "roadmap:now" in svc.sandbox.issue(boosted).labels)
            await svc.settled()
            after = svc.ranking()
            displaced = [r.item.key for r in now if after[r.item.key].bucket != "now"]
            assert displaced
            for key in displaced:
                assert after[key].bucket == "next"
                assert "roadmap:next" in svc.sandbox.issue(key).labels
                assert "roadmap:now" not in svc.sandbox.issue(key).labels

    async def test_the_edited_item_is_written_before_the_neighbours_it_pushed(self) -> None:
        """The top item's reach drops to nothing: its own write goes out before the writes to
        the items that move up into its tier and bucket, though they now rank above it."""
        async with running_service() as svc:
            top = min((r for r in svc.ranking().values() if r.rank), key=lambda r: r.rank)
            assert top.tier == "Highest"
            assert top.bucket == "now"
            edits_before = len(svc.bot_edits())
            svc.sandbox.human_edit(top.item.key, fields={catalog.REACH: 1, catalog.EFFORT: 10})
            await svc.deliver()
            await svc.settled()
            after = svc.ranking()
            assert after[top.item.key].tier != "Highest"
            written = [e.key for e in svc.bot_edits()[edits_before:] if e.changes]
            ripple = [k for k in written if k != top.item.key]
            assert ripple, "lowering the top item pushed no neighbour across a boundary"
            assert all(after[k].rank < after[top.item.key].rank for k in ripple)
            assert written[0] == top.item.key

    async def test_shutdown_drains_the_queue(self) -> None:
        """Stopping the server with work queued rescores it before the process ends."""
        async with running_service(quiet_s=30.0) as svc:
            key = max(svc.ranking().values(), key=lambda r: r.rank or 0).item.key
            svc.sandbox.human_edit(key, fields={catalog.REACH: 5_000_000})
            await svc.deliver()
            assert svc.service.queue.depth == 1
        assert "roadmap:now" in svc.sandbox.issue(key).labels
        assert svc.metric("priosync_rescores_total", outcome="ok") == 1


class RefuseFirstSearch:
    """Answers the first issue search with 401, as a site does while a token is being fixed."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/search" in scope["path"] and not self.refused:
            self.refused += 1
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b'{"errorMessages": ["nope"]}'})
            return
        await self.app(scope, receive, send)


class TestFirstSync:
    async def test_a_failed_first_sync_is_tried_again(self) -> None:
        """When the first sync cannot read a source, the service tries again until it can."""
        wrappers: list[RefuseFirstSearch] = []

        def wrap(app: Any) -> Any:
            wrappers.append(RefuseFirstSearch(app))
            return wrappers[0]

        async with running_service(wrap=wrap, first_sync_retry_s=(0.05,)) as svc:
            await eventually(lambda: svc.service.rescorer.complete, what="a complete snapshot")
            assert wrappers[0].refused == 1
            assert svc.metric("priosync_syncs_total", trigger="start", outcome="read-failed") == 1
            assert svc.metric("priosync_syncs_total", trigger="retry", outcome="ok") == 1
            assert svc.bot_edits()


class TestStoredSnapshot:
    async def test_a_webhook_write_lands_in_the_stored_snapshot(self, tmp_path: Path) -> None:
        """With a state store, the start-up sync stores the read snapshot, and what a webhook
        rescore writes is folded into it, so the next scheduled sync starts from the truth."""
        audit = SqliteAuditLog(tmp_path / "state.sqlite3")
        try:
            async with running_service(audit=audit) as svc:
                assert audit.has_snapshot("web")
                low = max(
                    (r for r in svc.ranking().values() if r.rank is not None),
                    key=lambda r: r.rank,
                )
                svc.sandbox.human_edit(
                    low.item.key, fields={catalog.REACH: 1_000_000, catalog.EFFORT: 1}
                )
                await svc.deliver()
                await eventually(
                    lambda: svc.sandbox.issue(low.item.key).priority == "Highest",
                    what="the rescored values in the sandbox",
                )
                await svc.settled()
                stored = audit.load_snapshot("web")
                assert stored is not None
                items = {i.key: i for i in map(item_from_json, stored[1])}
                written = svc.sandbox.issue(low.item.key).fields[catalog.RICE_SCORE]
                assert items[low.item.key].current.score == written
                assert items[low.item.key].current.priority == "Highest"
        finally:
            audit.close()
