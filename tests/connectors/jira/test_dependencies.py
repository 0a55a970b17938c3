"""Jira "Blocks" links: parsed from the documented ``issuelinks`` shape, read for free."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from connectors.jira.links import blocking_links, is_done
from priosync.domain import Link
from sandbox.jira import JiraSandbox, create_jira_app

from .conftest import make_connector, make_source

BLOCKS = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
RELATES = {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"}


def linked(key: str, category: str = "new") -> dict[str, Any]:
    """A ``LinkedIssue`` as an issue's ``issuelinks`` entry carries it (key fields only)."""
    return {
        "id": "10004",
        "key": key,
        "self": f"https://acme.atlassian.net/rest/api/3/issue/{key}",
        "fields": {
            "summary": "Linked",
            "status": {
                "name": "Done" if category == "done" else "To Do",
                "id": "10001",
                "statusCategory": {"id": 3, "key": category, "colorName": "green", "name": "x"},
            },
        },
    }


class TestBlockingLinks:
    """An ``issuelinks`` value (issue-linking-model: one entry per link, from this issue's
    side) becomes the issues this one blocks and the issues blocking it."""

    def test_outward_blocks_and_inward_is_blocked_by(self) -> None:
        """``outwardIssue`` reads "this blocks that", ``inwardIssue`` "this is blocked by that"."""
        links = [
            {"id": "1", "type": BLOCKS, "outwardIssue": linked("WEB-12")},
            {"id": "2", "type": BLOCKS, "inwardIssue": linked("WEB-7", "done")},
        ]
        blocks, blocked_by = blocking_links(links, link_types=["Blocks"])
        assert blocks == (Link("WEB-12"),)
        assert blocked_by == (Link("WEB-7", done=True),)

    def test_other_link_types_and_malformed_entries_are_left_out(self) -> None:
        """Relates links, entries without a type or key, and non-lists read as no links."""
        links: list[Any] = [
            {"id": "1", "type": RELATES, "outwardIssue": linked("WEB-1")},
            {"id": "2", "outwardIssue": linked("WEB-2")},
            {"id": "3", "type": BLOCKS, "outwardIssue": {"id": "9"}},
            "junk",
        ]
        assert blocking_links(links, link_types=["Blocks"]) == ((), ())
        assert blocking_links(None, link_types=["Blocks"]) == ((), ())

    def test_link_types_match_by_name_ignoring_case(self) -> None:
        """A site's own type ("Depends") counts when configured, in any case."""
        depends = {"id": "10007", "name": "Depends", "inward": "is depended on by", "outward": "x"}
        links = [{"id": "1", "type": depends, "outwardIssue": linked("WEB-3")}]
        assert blocking_links(links, link_types=["depends"])[0] == (Link("WEB-3"),)
        assert blocking_links(links, link_types=["Blocks"])[0] == ()

    def test_done_is_the_status_category_not_the_status_name(self) -> None:
        """Any status in the Done category is done ("Shipped" too); others are not."""
        assert is_done({"name": "Shipped", "statusCategory": {"key": "done"}})
        assert not is_done({"name": "Done", "statusCategory": {"key": "indeterminate"}})
        assert not is_done(None)


def sandbox_with_links(*, dc: bool = False, issues: int = 1000) -> JiraSandbox:
    sandbox = JiraSandbox.seeded(issues=issues, seed=11, dc=dc)
    sandbox.link("WEB-5", "WEB-1")
    sandbox.link("WEB-9", "WEB-5")
    sandbox.link("WEB-2", "WEB-3", link_type="Relates")
    sandbox.set_status("WEB-8", "Done")
    sandbox.link("WEB-8", "WEB-4")
    return sandbox


def request_counts(sandbox: JiraSandbox) -> Counter[str]:
    return Counter(f"{e.method} {e.path}" for e in sandbox.request_log)


@pytest.mark.parametrize("dc", [False, True], ids=["cloud", "dc"])
class TestReadingLinks:
    """With dependencies on, links come in the requests that read the inputs."""

    async def test_the_request_count_does_not_grow(self, dc: bool) -> None:
        """1,000 issues cost the same requests with and without links (Cloud 13, DC 12)."""
        counts = {}
        for dependencies in (False, True):
            sandbox = sandbox_with_links(dc=dc)
            sandbox.dc_max_results = 100
            transport = httpx.ASGITransport(app=create_jira_app(sandbox))
            connector = make_connector(transport, dc=dc, dependencies=dependencies)
            assert len(await connector.read()) == 1000
            await connector.aclose()
            counts[dependencies] = request_counts(sandbox)
        assert counts[True] == counts[False]
        assert sum(counts[True].values()) == (12 if dc else 13)

    async def test_items_carry_both_sides_and_done_states(self, dc: bool) -> None:
        """WEB-5 blocks WEB-1 and is blocked by WEB-9; WEB-8 is done; Relates is no block."""
        sandbox = sandbox_with_links(dc=dc, issues=20)
        transport = httpx.ASGITransport(app=create_jira_app(sandbox))
        connector = make_connector(transport, dc=dc, dependencies=True)
        items = {i.key: i for i in await connector.read()}
        await connector.aclose()
        assert items["WEB-5"].blocks == (Link("WEB-1"),)
        assert items["WEB-5"].blocked_by == (Link("WEB-9"),)
        assert items["WEB-1"].blocked_by == (Link("WEB-5"),)
        assert items["WEB-4"].blocked_by == (Link("WEB-8", done=True),)
        assert items["WEB-8"].done
        assert not items["WEB-4"].done
        assert items["WEB-2"].blocks == ()
        assert items["WEB-3"].blocked_by == ()

    async def test_off_asks_for_no_link_fields(self, dc: bool) -> None:
        """Without dependencies the reads name no issuelinks or status, and items have none."""
        sandbox = sandbox_with_links(dc=dc, issues=20)
        transport = httpx.ASGITransport(app=create_jira_app(sandbox))
        connector = make_connector(transport, dc=dc)
        items = await connector.read()
        await connector.aclose()
        assert all(not i.blocks and not i.blocked_by and not i.done for i in items)
        assert not any("issuelinks" in (e.query or "") for e in sandbox.request_log)

    async def test_rereading_named_issues_keeps_their_links(self, dc: bool) -> None:
        """``read_items`` (the service's re-read) reads the same links as a full read."""
        sandbox = sandbox_with_links(dc=dc, issues=20)
        transport = httpx.ASGITransport(app=create_jira_app(sandbox))
        connector = make_connector(transport, dc=dc, dependencies=True)
        again = {i.key: i for i in await connector.read_items(["WEB-5", "WEB-1"])}
        await connector.aclose()
        assert again["WEB-5"].blocks == (Link("WEB-1"),)
        assert again["WEB-1"].blocked_by == (Link("WEB-5"),)


class TestConfiguredLinkTypes:
    """``blocking_link_types`` on the Jira source says which types block."""

    async def test_a_custom_type_list_replaces_blocks(self) -> None:
        """With ["Relates"] configured, Relates links block and Blocks links do not."""
        sandbox = sandbox_with_links(issues=20)
        transport = httpx.ASGITransport(app=create_jira_app(sandbox))
        source = make_source(blocking_link_types=["Relates"])
        connector = make_connector(transport, source=source, dependencies=True)
        items = {i.key: i for i in await connector.read()}
        await connector.aclose()
        assert [link.key for link in items["WEB-2"].blocks] == ["WEB-3"]
        assert items["WEB-5"].blocks == ()
