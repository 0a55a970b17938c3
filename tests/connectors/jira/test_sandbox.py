"""The Jira connector against the sandbox Jira: in-process (ASGITransport) and on loopback."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.jira import JiraConnector
from priosync.domain import Change, Outputs, WorkItem
from priosync.errors import AuthFailed
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.loopback import serve_in_thread

from .conftest import make_connector, make_source

PREFIX = "roadmap:"


class RateLimitEvery:
    """An ASGI wrapper answering a seeded share of requests with Jira's burst-limit 429."""

    def __init__(self, app: ASGIApp, *, rate: float, seed: int = 1) -> None:
        self.app = app
        self.rate = rate
        self.rng = random.Random(seed)
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.rng.random() < self.rate:
            self.refused += 1
            headers = [
                (b"retry-after", b"1"),
                (b"ratelimit-reason", b"jira-burst-based"),
                (b"x-ratelimit-remaining", b"0"),
                (b"content-type", b"application/json"),
            ]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send(
                {
                    "type": "http.response.body",
                    "body": b'{"errorMessages":["Rate limit exceeded."]}',
                }
            )
            return
        await self.app(scope, receive, send)


def connector_for(
    sandbox: JiraSandbox, app: ASGIApp | None = None, **kwargs: object
) -> JiraConnector:
    transport = httpx.ASGITransport(app=app or create_jira_app(sandbox))
    return make_connector(transport, dc=sandbox.dc, **kwargs)  # type: ignore[arg-type]


def planned(items: Sequence[WorkItem], count: int) -> list[Change]:
    """Changes a sync might make to the first ``count`` items: every owned value moves."""
    changes = []
    for n, item in enumerate(items[:count], start=1):
        owned = frozenset(label for label in item.current.labels if label.startswith(PREFIX))
        before = Outputs(
            item.current.score,
            item.current.priority,
            owned,
            item.current.explanation,
            item.current.rank,
        )
        after = Outputs(
            score=round(1000.0 / n, 1),
            priority="High" if n <= 5 else "Low",
            labels=frozenset({f"{PREFIX}now"}),
            explanation=f"RICE test · rank {n}",
            rank=n,
        )
        changes.append(Change(item.key, item.source, item.url, before, after, f"rank {n}", item))
    return changes


def request_counts(sandbox: JiraSandbox) -> Counter[str]:
    return Counter(f"{e.method} {e.path}" for e in sandbox.request_log)


@pytest.mark.parametrize("dc", [False, True], ids=["cloud", "dc"])
class TestReadAndWrite:
    async def test_reads_1000_issues_in_few_requests(self, dc: bool) -> None:
        """A 1,000-issue backlog reads completely in about N/page requests, not N."""
        sandbox = JiraSandbox.seeded(issues=1000, seed=11, dc=dc)
        sandbox.dc_max_results = 100
        connector = connector_for(sandbox)
        items = await connector.read()
        assert len({i.key for i in items}) == 1000
        counts = request_counts(sandbox)
        if dc:
            assert counts == Counter(
                {
                    "GET /rest/api/2/serverInfo": 1,
                    "GET /rest/api/2/field": 1,
                    "POST /rest/api/2/search": 10,
                }
            )
        else:
            assert counts == Counter(
                {
                    "GET /rest/api/2/serverInfo": 1,
                    "GET /rest/api/3/field": 1,
                    "POST /rest/api/3/search/jql": 1,
                    "POST /rest/api/3/issue/bulkfetch": 10,
                }
            )
        await connector.aclose()

    async def test_writes_land_exactly_and_keep_human_labels(self, dc: bool) -> None:
        """Written values read back as written, other labels and items stay, a re-read agrees."""
        sandbox = JiraSandbox.seeded(issues=200, seed=5, dc=dc)
        connector = connector_for(sandbox)
        items = await connector.read()
        changes = planned(items, 30)
        results = [r async for r in connector.apply(changes)]
        assert all(r.ok for r in results)
        assert len(results) == 30
        assert len(sandbox.edit_log) == 30
        assert not any(e.notified for e in sandbox.edit_log)
        after = {i.key: i for i in await connector.read()}
        for item, change in zip(items, changes, strict=False):
            now = after[item.key].current
            human = {label for label in item.current.labels if not label.startswith(PREFIX)}
            assert now.labels == human | change.after.labels
            assert (now.score, now.priority, now.explanation, now.rank) == (
                change.after.score,
                change.after.priority,
                change.after.explanation,
                change.after.rank,
            )
        for item in items[30:]:
            assert after[item.key].current == item.current
        again = [r async for r in connector.apply(planned([after[i.key] for i in items], 30))]
        assert all(r.ok for r in again)
        assert len(sandbox.edit_log) == 30  # values already held: nothing is written twice

    async def test_reads_each_assignee(self, dc: bool) -> None:
        """Each item carries its assignee's display name, None when unassigned."""
        sandbox = JiraSandbox.seeded(issues=60, seed=11, dc=dc)
        connector = connector_for(sandbox)
        items = await connector.read()
        held = {i.key: i.assignee for i in sandbox.stored_issues()}
        assert {i.key: i.assignee for i in items} == held
        assert None in held.values()
        assert len(set(held.values())) > 3
        await connector.aclose()

    async def test_read_items_rereads_named_issues(self, dc: bool) -> None:
        """read_items returns the named issues the JQL holds and leaves unknown keys out."""
        sandbox = JiraSandbox.seeded(issues=50, seed=2, dc=dc)
        connector = connector_for(sandbox)
        items = await connector.read_items(["WEB-3", "WEB-7", "WEB-9999"])
        assert sorted(i.key for i in items) == ["WEB-3", "WEB-7"]

    async def test_five_percent_rate_limits_still_converge(self, dc: bool) -> None:
        """With 5% of requests refused with 429, reads are complete and every write lands."""
        sandbox = JiraSandbox.seeded(issues=1000, seed=9, dc=dc)
        sandbox.dc_max_results = 100
        wrapper = RateLimitEvery(create_jira_app(sandbox), rate=0.05, seed=4)
        connector = connector_for(sandbox, app=wrapper)
        items = await connector.read()
        assert len(items) == 1000
        results = [r async for r in connector.apply(planned(items, 100))]
        assert all(r.ok for r in results)
        assert wrapper.refused > 0
        for change in planned(items, 100):
            assert sandbox.issue(change.key).fields_by_name["RICE score"] == change.after.score


@pytest.mark.parametrize("dc", [False, True], ids=["cloud", "dc"])
async def test_loopback_read_and_write(dc: bool) -> None:
    """Over a real socket on 127.0.0.1, a 1,000-issue backlog reads whole and writes land."""
    sandbox = JiraSandbox.seeded(issues=1000, seed=3, dc=dc)
    with serve_in_thread(create_jira_app(sandbox)) as base_url:
        connector = make_connector(None, dc=dc, source=make_source(url=base_url))
        try:
            items = await connector.read()
            results = [r async for r in connector.apply(planned(items, 10))]
        finally:
            await connector.aclose()
    assert len(items) == 1000
    assert all(r.ok for r in results)
    assert items[0].url == f"{base_url}/browse/{items[0].key}"
    assert sandbox.issue(items[0].key).fields_by_name["Backlog rank"] == 1


class TestChecks:
    async def test_all_lines_pass_on_a_well_configured_site(self) -> None:
        """Credentials, fields, options, priority names and permissions all check out."""
        sandbox = JiraSandbox.seeded(issues=20, seed=1)
        results = await connector_for(sandbox).check()
        assert [r.what for r in results if not r.ok] == []
        assert any("edit without notifying" in r.what for r in results)

    async def test_missing_project_admin_names_both_fixes(self) -> None:
        """Without project admin, check fails the notify line and a write stops with AuthFailed."""
        sandbox = JiraSandbox.seeded(issues=20, seed=1, project_admin=False)
        connector = connector_for(sandbox)
        results = {r.what: r for r in await connector.check()}
        line = results["web: edit without notifying watchers in WEB"]
        assert not line.ok
        assert "Administer Projects" in line.fix
        assert "notify = true" in line.fix
        items = await connector.read()
        with pytest.raises(AuthFailed, match="notify = true"):
            [r async for r in connector.apply(planned(items, 3))]
        assert sandbox.edit_log == []

    async def test_wrong_token_fails_credentials_line(self) -> None:
        """Refused credentials give one failing line naming the variables to set."""
        sandbox = JiraSandbox.seeded(issues=5, seed=1, token="another-token")
        results = await connector_for(sandbox).check()
        assert [r.ok for r in results] == [False]
        assert "JIRA_API_TOKEN" in results[0].fix

    async def test_uncovered_option_is_reported(self) -> None:
        """A select option missing from the scale fails that field's line."""
        sandbox = JiraSandbox.seeded(issues=5, seed=1)
        connector = connector_for(sandbox)
        connector.scales["impact"].pop("Minimal")
        results = {r.what: r for r in await connector.check()}
        line = results["web: scoring.inputs.impact = 'Impact'"]
        assert not line.ok
        assert "Minimal" in line.detail
