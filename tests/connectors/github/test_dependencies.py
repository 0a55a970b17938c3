"""GitHub issue dependencies: parsed from the documented shapes, read in the item pages."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import httpx
import pytest

from connectors.github import GitHubConnector
from connectors.github.dependencies import blocked_by_links, has_open_blockers
from priosync.domain import Link
from sandbox.github import GitHubSandbox, create_github_app
from sandbox.github.state import Issue

from .conftest import make_connector, make_source

SANDBOX = "http://sandbox"


def blocker(repo: str, number: int, *, closed: bool = False) -> dict[str, Any]:
    """One node of ``Issue.blockedBy`` as priosync asks for it."""
    return {"number": number, "closed": closed, "repository": {"nameWithOwner": repo}}


class TestParsing:
    """``blockedBy`` answers and REST summaries become links, whatever their gaps."""

    def test_blockers_keep_their_repository_and_closed_state(self) -> None:
        """Blockers from any repository become ``owner/repo#n`` links; closed ones are done."""
        content = {
            "blockedBy": {
                "totalCount": 2,
                "nodes": [blocker("acme/app", 7), blocker("acme/web", 3, closed=True)],
            }
        }
        assert blocked_by_links(content) == (
            (Link("acme/app#7"), Link("acme/web#3", done=True)),
            False,
        )

    def test_hidden_blockers_and_cut_lists(self) -> None:
        """A blocker the token cannot see (null) is skipped; more than a page says so."""
        content = {"blockedBy": {"totalCount": 150, "nodes": [None, blocker("acme/app", 1)]}}
        assert blocked_by_links(content) == ((Link("acme/app#1"),), True)
        assert blocked_by_links({}) == ((), False)

    def test_the_rest_summary_counts_open_blockers(self) -> None:
        """Only ``blocked_by`` (open blockers) above 0 asks for the blockers."""
        summary = {"blocked_by": 0, "blocking": 2, "total_blocked_by": 3, "total_blocking": 2}
        assert not has_open_blockers({"issue_dependencies_summary": summary})
        assert has_open_blockers({"issue_dependencies_summary": {**summary, "blocked_by": 1}})
        assert not has_open_blockers({})


def issues_of(sandbox: GitHubSandbox, repo: str, *, open_only: bool = True) -> list[Issue]:
    return [
        i
        for i in sandbox.state.repos[repo].issues.values()
        if not i.is_pull_request and (i.state == "open" or not open_only)
    ]


def with_dependencies(sandbox: GitHubSandbox, count: int) -> list[tuple[Issue, Issue]]:
    """Make ``count`` issues each blocked by the next one, across both repositories."""
    pool = sorted(
        issues_of(sandbox, "app") + issues_of(sandbox, "web"), key=lambda i: (i.repo, i.number)
    )
    pairs = [(pool[n + 1], pool[n]) for n in range(0, 2 * count, 2)]
    for first, then in pairs:
        sandbox.state.block(first, then)
    return pairs


def connector_for(
    sandbox: GitHubSandbox, *, dependencies: bool, **source: object
) -> GitHubConnector:
    transport = httpx.ASGITransport(app=create_github_app(sandbox))
    connector: GitHubConnector = make_connector(
        transport, source=make_source(api_url=SANDBOX, **source), dependencies=dependencies
    )
    return connector


def kinds(sandbox: GitHubSandbox) -> Counter[str]:
    return Counter(e.kind for e in sandbox.request_log)


def points(sandbox: GitHubSandbox) -> int:
    return sum(e.cost or 0 for e in sandbox.request_log)


class TestProject:
    """A Project's item pages carry each issue's blockers."""

    async def test_blockers_come_in_the_same_pages(self) -> None:
        """1,000 items take the same 11 requests with blockers; a page costs 4 points, not 3
        (GitHub counts one request per parent for each nested connection: labels of issues
        and of pull requests, assignees, and now blockers)."""
        spent = {}
        for dependencies in (False, True):
            sandbox = GitHubSandbox.seeded(issues=1000, seed=3)
            with_dependencies(sandbox, 40)
            connector = connector_for(sandbox, dependencies=dependencies, state="all")
            await connector.read()
            await connector.aclose()
            assert kinds(sandbox) == Counter({"graphql": 11})
            spent[dependencies] = points(sandbox)
        assert spent == {False: 31, True: 41}

    async def test_items_carry_blockers_and_closed_states(self) -> None:
        """Each blocked issue lists its blocker by key; closed items and blockers are done."""
        sandbox = GitHubSandbox.seeded(issues=120, seed=4)
        pairs = with_dependencies(sandbox, 5)
        first, _then = pairs[0]
        first.state = "closed"
        connector = connector_for(sandbox, dependencies=True, state="all")
        items = {i.key: i for i in await connector.read()}
        await connector.aclose()
        for blocking, blocked in pairs:
            key = f"acme/{blocked.repo}#{blocked.number}"
            if key in items:
                done = blocking is first
                assert items[key].blocked_by == (
                    Link(f"acme/{blocking.repo}#{blocking.number}", done=done),
                )
        closed = [i for i in items.values() if i.done]
        assert closed
        assert all(not i.key.startswith("draft:") for i in closed)

    async def test_off_reads_no_blockers(self) -> None:
        """Without dependencies the page asks for none and costs what it did."""
        sandbox = GitHubSandbox.seeded(issues=120, seed=4)
        with_dependencies(sandbox, 5)
        connector = connector_for(sandbox, dependencies=False)
        items = await connector.read()
        await connector.aclose()
        assert all(not i.blocked_by and not i.done for i in items)


class TestRepository:
    """A repository's issues come over REST; only those with open blockers are asked about."""

    async def test_one_graphql_query_per_hundred_blocked_issues(self) -> None:
        """150 blocked issues among ~1,000 cost 2 more requests (2 points); none cost none."""
        sandbox = GitHubSandbox.seeded(issues=2000, seed=3, repos=("web",))
        pairs = with_web_dependencies(sandbox, 150)
        connector = connector_for(sandbox, dependencies=True, project=None, repo="acme/web")
        items = {i.key: i for i in await connector.read()}
        await connector.aclose()
        rest = kinds(sandbox)["rest-read"]
        assert kinds(sandbox) == Counter({"rest-read": rest, "graphql": 2})
        assert points(sandbox) == 2
        for blocking, blocked in pairs:
            assert items[f"acme/web#{blocked.number}"].blocked_by == (
                Link(f"acme/web#{blocking.number}"),
            )

        quiet = GitHubSandbox.seeded(issues=2000, seed=3, repos=("web",))
        connector = connector_for(quiet, dependencies=True, project=None, repo="acme/web")
        await connector.read()
        await connector.aclose()
        assert kinds(quiet) == Counter({"rest-read": rest})

    async def test_closed_blockers_are_not_asked_for(self) -> None:
        """An issue whose only blocker is closed has no open blocker: no query is sent."""
        sandbox = GitHubSandbox.seeded(issues=200, seed=3, repos=("web",))
        (blocking, _), *_ = with_web_dependencies(sandbox, 1)
        blocking.state = "closed"
        connector = connector_for(sandbox, dependencies=True, project=None, repo="acme/web")
        await connector.read()
        await connector.aclose()
        assert kinds(sandbox)["graphql"] == 0

    async def test_rereading_named_issues_keeps_their_blockers(self) -> None:
        """``read_items`` (the service's re-read) reads blockers as a full read does."""
        sandbox = GitHubSandbox.seeded(issues=200, seed=3, repos=("web",))
        (blocking, blocked), *_ = with_web_dependencies(sandbox, 1)
        connector = connector_for(sandbox, dependencies=True, project=None, repo="acme/web")
        (item,) = await connector.read_items([f"acme/web#{blocked.number}"])
        await connector.aclose()
        assert item.blocked_by == (Link(f"acme/web#{blocking.number}"),)


def with_web_dependencies(sandbox: GitHubSandbox, count: int) -> list[tuple[Issue, Issue]]:
    pool = sorted(issues_of(sandbox, "web"), key=lambda i: i.number)
    pairs = [(pool[n + 1], pool[n]) for n in range(0, 2 * count, 2)]
    for first, then in pairs:
        sandbox.state.block(first, then)
    return pairs


def test_a_cut_blocker_list_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """More blockers than one page holds are logged with the issue, not silently dropped."""
    from connectors.github.common import warn_cut_dependencies

    with caplog.at_level(logging.WARNING, logger="priosync.github"):
        warn_cut_dependencies("app", ["acme/app#1"])
    assert "acme/app#1" in caplog.text
    assert "more than 100 blockers" in caplog.text
