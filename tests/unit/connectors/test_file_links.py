"""Blocking links in backlog files: a Jira CSV export's link columns and Jira JSON's issuelinks."""

from __future__ import annotations

import json
from pathlib import Path

from config import FileSource, OutputsConfig
from connectors.file import FileConnector
from priosync.domain import Link, WorkItem

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}

#: The columns Jira's CSV export writes: one per link, the header repeated as needed.
EXPORT = """\
Summary,Issue key,Issue id,Status,Status Category,Custom field (Reach),Custom field (Impact),\
Custom field (Confidence),Custom field (Effort),Outward issue link (Blocks),\
Outward issue link (Blocks),Inward issue link (Blocks),Outward issue link (Relates)
Login,WEB-1,10001,To Do,To Do,100,High,High,2,WEB-2,WEB-3,,WEB-4
Signup,WEB-2,10002,To Do,To Do,200,High,High,2,,,10001,
Billing,WEB-3,10003,Done,Done,300,High,High,2,,,WEB-1,
Search,WEB-4,10004,To Do,To Do,50,High,High,2,,,10003,
"""


async def read(path: Path, *, dependencies: bool = True, **source: object) -> dict[str, WorkItem]:
    config = FileSource.model_validate({"name": "export", "kind": "file", "path": path, **source})
    connector = FileConnector(
        config, inputs=INPUTS, outputs=OutputsConfig(), dependencies=dependencies
    )
    return {i.key: i for i in await connector.read()}


class TestJiraCsvExport:
    """``Outward issue link (Blocks)`` blocks, ``Inward issue link (Blocks)`` is blocked by."""

    async def test_repeated_columns_ids_and_done_rows(self, tmp_path: Path) -> None:
        """Two outward columns give two links; an id names its row's key; a Done row is done,
        and so is every link to it."""
        path = tmp_path / "export.csv"
        path.write_text(EXPORT)
        items = await read(path)
        web1, web2, web3, web4 = (items[f"WEB-{n}"] for n in range(1, 5))
        assert web1.blocks == (Link("WEB-2"), Link("WEB-3", done=True))
        assert web2.blocked_by == (Link("WEB-1"),)
        assert web3.done
        assert not web1.done
        assert web4.blocked_by == (Link("WEB-3", done=True),)

    async def test_configured_types_pick_the_columns(self, tmp_path: Path) -> None:
        """With ``blocking_link_types = ["Relates"]`` only the Relates columns count."""
        path = tmp_path / "export.csv"
        path.write_text(EXPORT)
        items = await read(path, blocking_link_types=["relates"])
        assert items["WEB-1"].blocks == (Link("WEB-4"),)
        assert items["WEB-2"].blocked_by == ()

    async def test_off_reads_no_links(self, tmp_path: Path) -> None:
        """``dependencies = "ignore"`` leaves the columns unread."""
        path = tmp_path / "export.csv"
        path.write_text(EXPORT)
        items = await read(path, dependencies=False)
        assert all(not i.blocks and not i.done for i in items.values())

    async def test_a_hand_made_sheet_may_list_keys_in_one_cell(self, tmp_path: Path) -> None:
        """One ``Outward issue link (Blocks)`` cell holding "A-2, A-3" gives two links."""
        path = tmp_path / "sheet.csv"
        path.write_text(
            "Issue key,Reach,Impact,Confidence,Effort,Outward issue link (Blocks)\n"
            'A-1,1,1,1,1,"A-2, A-3"\nA-2,1,1,1,1,\nA-3,1,1,1,1,\n'
        )
        assert (await read(path))["A-1"].blocks == (Link("A-2"), Link("A-3"))


class TestJiraJson:
    """A JSON backlog of Jira issues carries the REST ``issuelinks`` field."""

    async def test_issuelinks_are_read_as_the_jira_connector_reads_them(
        self, tmp_path: Path
    ) -> None:
        """``outwardIssue`` blocks, ``inwardIssue`` is blocked by, with the status category."""
        blocks = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
        done = {"name": "Done", "statusCategory": {"key": "done"}}
        issue = {
            "key": "WEB-1",
            "fields": {
                "Reach": 1,
                "Impact": 1,
                "Confidence": 1,
                "Effort": 1,
                "issuelinks": [
                    {"id": "1", "type": blocks, "outwardIssue": {"key": "WEB-2"}},
                    {
                        "id": "2",
                        "type": blocks,
                        "inwardIssue": {"key": "WEB-9", "fields": {"status": done}},
                    },
                ],
            },
        }
        path = tmp_path / "issues.json"
        path.write_text(json.dumps({"issues": [issue]}))
        item = (await read(path))["WEB-1"]
        assert item.blocks == (Link("WEB-2"),)
        assert item.blocked_by == (Link("WEB-9", done=True),)
