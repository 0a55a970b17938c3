"""The service with ``reorder``: the backlog's order follows the ranking, and after a webhook
rescore only the items whose place changed move."""

from __future__ import annotations

from sandbox.jira import catalog

from .conftest import Running, running_service

RANK = "/rest/agile/1.0/issue/rank"


def rank_calls(svc: Running) -> int:
    return sum(1 for e in svc.sandbox.request_log if e.endpoint == RANK)


def movable(svc: Running) -> list[str]:
    """The ranked, unpinned keys, rank 1 first."""
    ranked = [r for r in svc.ranking().values() if r.rank is not None]
    return [
        r.item.key
        for r in sorted(ranked, key=lambda r: r.rank)
        if "priority-pinned" not in r.item.current.labels
    ]


def order(svc: Running, keys: list[str]) -> list[str]:
    wanted = set(keys)
    return [k for k in svc.sandbox.rank_order() if k in wanted]


class TestReorderService:
    async def test_a_rescore_moves_only_the_item_whose_place_changed(self) -> None:
        """The first full sync orders the backlog and its rank echoes cause nothing; a
        person raising one item's reach moves that item alone, in one rank call."""
        async with running_service(outputs={"reorder": True}) as svc:
            keys = movable(svc)
            assert order(svc, keys) == keys
            assert rank_calls(svc) > 0
            assert svc.app.state.metrics.total("priosync_rescores_total") == 0
            low = keys[-1]
            calls = rank_calls(svc)
            svc.sandbox.human_edit(low, fields={catalog.REACH: 1_000_000, catalog.EFFORT: 1})
            await svc.deliver()
            await svc.settled()
            assert rank_calls(svc) == calls + 1
            keys = movable(svc)
            assert keys[0] == low
            assert order(svc, keys) == keys
            moved = [
                c
                for c in svc.service.rescorer.changes
                if c.trigger == "webhook" and c.what.startswith("move ")
            ]
            assert [c.key for c in moved] == [low]
