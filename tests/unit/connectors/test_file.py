"""The file source: Jira CSV exports and JSON backlogs become WorkItems."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import FileSource, OutputsConfig
from connectors.file import FileConnector
from priosync.errors import ConfigError

INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
EXAMPLES = Path(__file__).parents[3] / "examples"


def connector(path: Path, **outputs: object) -> FileConnector:
    source = FileSource(name="export", kind="file", path=path)
    return FileConnector(source, inputs=INPUTS, outputs=OutputsConfig.model_validate(outputs))


class TestFileConnector:
    async def test_reads_jira_export_columns(self) -> None:
        """'Custom field (Reach)' maps to Reach; repeated Labels columns become one label set."""
        items = await connector(EXAMPLES / "backlog.csv", priority_field="Priority").read()
        by_key = {i.key: i for i in items}
        assert len(items) == 13
        web3 = by_key["WEB-3"]
        assert web3.title == "Export reports to CSV"
        assert web3.inputs == {
            "reach": "300",
            "impact": "Medium",
            "confidence": "80%",
            "effort": "1",
        }
        assert web3.current.labels == frozenset({"customer-request", "roadmap:now"})
        assert web3.current.priority == "Medium"
        assert by_key["WEB-8"].inputs["reach"] is None

    async def test_reads_json(self, tmp_path: Path) -> None:
        """A JSON list of objects, with values at the top level or under 'fields'."""
        path = tmp_path / "b.json"
        path.write_text(
            '{"items": [{"key": "A-1", "title": "One", "url": "https://x/A-1", "labels": ["x"],'
            ' "fields": {"Reach": 10, "Impact": "High", "Confidence": 0.5, "Effort": 2}}]}'
        )
        (item,) = await connector(path).read()
        assert item.key == "A-1"
        assert item.url == "https://x/A-1"
        assert item.inputs["reach"] == 10
        assert item.current.labels == frozenset({"x"})

    async def test_bad_json_is_a_config_error(self, tmp_path: Path) -> None:
        """A JSON file of the wrong shape names the file and the expected shape."""
        path = tmp_path / "b.json"
        path.write_text('{"nope": 1}')
        with pytest.raises(ConfigError) as info:
            await connector(path).read()
        assert "list of objects" in str(info.value)

    async def test_writes_are_refused(self) -> None:
        """A file source is read-only: the writer is told so per change."""
        c = connector(EXAMPLES / "backlog.csv")
        assert c.writable is False
