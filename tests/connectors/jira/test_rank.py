"""``reorder`` on Jira: the ``ORDER BY Rank`` read and the agile rank calls (docs §4.1)."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from config.models import OutputsConfig, PriosyncConfig
from connectors.jira import JiraConnector
from connectors.jira.rank import build_rank_request, order_by_rank, parse_rank_answer
from priosync.domain import Move, Place, WorkItem
from priosync.errors import AuthFailed
from sandbox.jira import JiraSandbox, create_jira_app
from sync.pipeline import Reads, plan_reads
from sync.writer import apply_plan

from .conftest import INPUTS, SCALES, SITE, make_connector, make_source
from .test_requests import body, issue, router_for

REORDER = OutputsConfig(reorder=True, score_field="RICE score")


def work_item(key: str, issue_id: str) -> WorkItem:
    return WorkItem(key=key, title=key, url="", source="web", inputs={}, handle=issue_id)


def move(key: str, to: Place, *, ids: dict[str, str]) -> Move:
    anchor = to.after or to.before or ""
    return Move(
        key=key,
        source="web",
        url="",
        to=to,
        was=Place(),
        item=work_item(key, ids[key]),
        anchor=work_item(anchor, ids[anchor]),
    )


IDS = {f"WEB-{n}": str(10000 + n) for n in range(1, 200)}


class TestProtocol:
    """Pure builders and parsers."""

    @pytest.mark.parametrize(
        ("jql", "ranked"),
        [
            ("project = WEB", "project = WEB ORDER BY Rank ASC"),
            ("project = WEB ORDER BY created DESC", "project = WEB ORDER BY Rank ASC"),
            ("project = WEB order by priority", "project = WEB ORDER BY Rank ASC"),
        ],
    )
    def test_the_order_is_read_by_rank(self, jql: str, ranked: str) -> None:
        """The source's own ORDER BY gives way to Rank."""
        assert order_by_rank(jql) == ranked

    def test_a_request_holds_at_most_fifty_issues(self) -> None:
        """The documented cap is enforced before anything is sent."""
        with pytest.raises(ValueError, match="1 to 50"):
            build_rank_request([f"WEB-{n}" for n in range(51)], Place(after="WEB-1"))
        request = build_rank_request(["WEB-2"], Place(before="WEB-1"))
        assert (request.method, request.path, request.json, request.kind) == (
            "PUT",
            "/rest/agile/1.0/issue/rank",
            {"issues": ["WEB-2"], "rankBeforeIssue": "WEB-1"},
            "write",
        )

    def test_a_207_names_the_issues_that_did_not_move(self) -> None:
        """Entries with an error status or errors are refusals, by id and key; 204 is none."""
        answer = {
            "entries": [
                {"issueId": 10002, "issueKey": "WEB-2", "status": 200},
                {"issueId": 10003, "issueKey": "WEB-3", "status": 403, "errors": ["no"]},
            ]
        }
        assert parse_rank_answer(answer) == {"10003": "no", "WEB-3": "no"}
        assert parse_rank_answer(None) == {}


class TestRequests:
    """What the connector sends, pinned with respx."""

    async def test_reads_by_rank_and_ranks_chains_in_one_call(self) -> None:
        """The read asks ORDER BY Rank ASC; a chain of moves is one PUT naming issue ids."""
        router = router_for(SITE)
        search = router.post("/rest/api/3/search/jql").respond(
            200, json={"issues": [issue(2), issue(1)], "isLast": True}
        )
        rank = router.put("/rest/agile/1.0/issue/rank").respond(204)
        connector = make_connector(
            httpx.MockTransport(router.async_handler),
            read_strategy="search",
            outputs=REORDER,
            source=make_source(jql="project = WEB ORDER BY key"),
        )
        assert [i.key for i in await connector.read()] == ["WEB-2", "WEB-1"]
        assert body(search.calls[0])["jql"] == "project = WEB ORDER BY Rank ASC"
        moves = [
            move("WEB-5", Place(before="WEB-1"), ids=IDS),
            move("WEB-6", Place(after="WEB-5"), ids=IDS),
            move("WEB-9", Place(after="WEB-3"), ids=IDS),
        ]
        results = [r async for r in connector.apply_moves(moves)]
        assert [r.ok for r in results] == [True, True, True]
        assert [body(c) for c in rank.calls] == [
            {"issues": ["10005", "10006"], "rankBeforeIssue": "10001"},
            {"issues": ["10009"], "rankAfterIssue": "10003"},
        ]
        await connector.aclose()

    async def test_a_partial_207_fails_those_issues_only(self) -> None:
        """Issues a 207 names fail; the others landed; a later call anchored on a failed
        issue goes where that issue was to go."""
        router = router_for(SITE)
        answers = [
            httpx.Response(
                207,
                json={
                    "entries": [
                        {"issueId": 10005, "issueKey": "WEB-5", "status": 200},
                        {"issueId": 10006, "issueKey": "WEB-6", "status": 400, "errors": ["x"]},
                    ]
                },
            ),
            httpx.Response(204),
        ]
        rank = router.put("/rest/agile/1.0/issue/rank").mock(side_effect=answers)
        connector = make_connector(httpx.MockTransport(router.async_handler), outputs=REORDER)
        chain = [move(f"WEB-{n}", Place(after=f"WEB-{n - 1}"), ids=IDS) for n in range(5, 56)]
        results = [r async for r in connector.apply_moves(chain)]
        failed = [r.move.key for r in results if not r.ok]
        assert failed == ["WEB-6"]
        assert "did not rank WEB-6: x" in str(results[1].error)
        sent = [body(c) for c in rank.calls]
        assert len(sent[0]["issues"]) == 50
        # The second call continues after WEB-54, the last of the first; it landed.
        assert sent[1] == {"issues": ["10055"], "rankAfterIssue": "10054"}
        await connector.aclose()

    async def test_a_failed_call_redirects_the_chain_after_it(self) -> None:
        """When a whole call fails, the call after it is placed where its last issue was to
        go, not next to an issue that never moved."""
        router = router_for(SITE)
        rank = router.put("/rest/agile/1.0/issue/rank").mock(
            side_effect=[httpx.Response(400, json={"errorMessages": ["nope"]}), httpx.Response(204)]
        )
        connector = make_connector(httpx.MockTransport(router.async_handler), outputs=REORDER)
        chain = [move(f"WEB-{n}", Place(after=f"WEB-{n - 1}"), ids=IDS) for n in range(5, 56)]
        results = [r async for r in connector.apply_moves(chain)]
        assert sum(1 for r in results if not r.ok) == 50
        assert body(rank.calls[1]) == {"issues": ["10055"], "rankAfterIssue": "WEB-4"}
        await connector.aclose()

    async def test_no_schedule_permission_stops_the_moves(self) -> None:
        """403 would meet every rank call: AuthFailed stops the source."""
        router = router_for(SITE)
        router.put("/rest/agile/1.0/issue/rank").respond(
            403, json={"errorMessages": ["You do not have permission to rank issues."]}
        )
        connector = make_connector(httpx.MockTransport(router.async_handler), outputs=REORDER)
        with pytest.raises(AuthFailed):
            _ = [
                r
                async for r in connector.apply_moves([move("WEB-2", Place(after="WEB-1"), ids=IDS)])
            ]
        await connector.aclose()

    async def test_a_site_without_jira_software_says_so(self) -> None:
        """404 on the agile path fails the moves with the fix in the message."""
        router = router_for(SITE)
        router.put("/rest/agile/1.0/issue/rank").respond(404, text="Not Found")
        connector = make_connector(httpx.MockTransport(router.async_handler), outputs=REORDER)
        results = [
            r async for r in connector.apply_moves([move("WEB-2", Place(after="WEB-1"), ids=IDS)])
        ]
        assert "Jira Software" in str(results[0].error)
        await connector.aclose()


def key_order(items: list[WorkItem]) -> list[str]:
    return [i.key for i in items]


async def moved_to_ranking(connector: JiraConnector, sandbox: JiraSandbox) -> dict[str, Any]:
    """Read, rank, plan and apply the moves the way the pipeline does; what it took."""
    config = PriosyncConfig.model_validate(
        {
            "scoring": {"model": "rice", "inputs": INPUTS, "scales": SCALES},
            "outputs": REORDER.model_dump(),
            "sources": [make_source().model_dump()],
        }
    )
    plan = plan_reads(config, Reads(items={"web": await connector.read()}))
    before = len(sandbox.request_log)
    report = await apply_plan(plan, {"web": connector}, audit=None, run_id=None, max_writes=None)
    rank_calls = [
        e for e in sandbox.request_log[before:] if e.endpoint == "/rest/agile/1.0/issue/rank"
    ]
    ranked = [r.item.key for r in sorted(plan.ranking, key=lambda r: r.rank or 0) if r.rank]
    return {"plan": plan, "report": report, "rank_calls": len(rank_calls), "ranked": ranked}


class TestAgainstTheSandbox:
    """A shuffled backlog ends in ranking order, Cloud and Data Center alike."""

    @pytest.mark.parametrize("dc", [False, True])
    async def test_shuffled_backlog_ends_in_ranking_order(self, dc: bool) -> None:
        """N − LIS issues move in a handful of calls; a second pass moves nothing."""
        sandbox = JiraSandbox.seeded(issues=300, dc=dc)
        sandbox.ranks.shuffle(random.Random(11))
        connector = make_connector(
            httpx.ASGITransport(app=create_jira_app(sandbox)), dc=dc, outputs=REORDER
        )
        first = await moved_to_ranking(connector, sandbox)
        assert first["report"].move_failed == []
        moves = len(first["plan"].moves)
        assert 0 < moves < len(first["ranked"])
        assert first["rank_calls"] <= moves // 5
        ranked = set(first["ranked"])
        assert [k for k in sandbox.rank_order() if k in ranked] == first["ranked"]
        second = await moved_to_ranking(connector, sandbox)
        assert second["plan"].moves == ()
        assert second["rank_calls"] == 0
        await connector.aclose()
