"""The file source: Jira CSV exports and JSON backlogs become WorkItems."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import FileSource, OutputsConfig
from connectors.file import FileConnector
from priosync.domain import InputsChanged
from priosync.errors import ConfigError, FieldMappingError

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


HEADER = "Issue key,Summary,Custom field (Reach),Custom field (Impact),Custom field (Confidence),Custom field (Effort)\n"


class TestHostileFiles:
    """Files found by fuzzing: each is read correctly or refused with one ConfigError."""

    async def test_excel_cp1252_is_read(self, tmp_path: Path) -> None:
        """A CSV Excel saved in Windows-1252 (é as one byte) is read, not a UnicodeDecodeError."""
        path = tmp_path / "excel.csv"
        path.write_bytes((HEADER + "WEB-1,Caf\xe9 menu,100,1,1,1\n").encode("cp1252"))
        (item,) = await connector(path).read()
        assert item.title == "Café menu"

    async def test_a_cell_over_128_kib(self, tmp_path: Path) -> None:
        """A 200 KiB description cell does not trip the csv module's default limit."""
        path = tmp_path / "long.csv"
        path.write_text(HEADER + f"WEB-1,{'x' * 200_000},100,1,1,1\n", encoding="utf-8")
        (item,) = await connector(path).read()
        assert len(item.title) == 200_000

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
            ('[{"Issue key": "WEB-1", "Reach": ' + "9" * 5000 + "}]", "4300"),
        ],
    )
    async def test_json_that_breaks_parsers(self, tmp_path: Path, text: str, message: str) -> None:
        """A 100,000-deep array or a 5,000-digit number is a ConfigError, not a traceback."""
        path = tmp_path / "backlog.json"
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            await connector(path).read()

    async def test_devices_and_pipes_are_refused_unread(self, tmp_path: Path) -> None:
        """/dev/zero (endless) and a FIFO (hangs) are refused before anything is read."""
        fifo = tmp_path / "backlog.csv"
        os.mkfifo(fifo)
        for path in (Path("/dev/zero"), fifo, tmp_path):
            with pytest.raises(ConfigError, match="not a regular file"):
                await connector(path).read()


class TestDatesAndMetrics:
    """A date column dates the inputs; a metric column is read as the key metric input."""

    async def test_changed_column_dates_the_inputs(self, tmp_path: Path) -> None:
        """ISO dates and times, Jira's export format and a blank cell: three dates and none."""
        path = tmp_path / "backlog.csv"
        path.write_text(
            "Issue key,Summary,Reach,Key metric,Reviewed\n"
            "A-1,One,10,Revenue,2025-01-06\n"
            "A-2,Two,20,,2025-01-06T09:30:00+01:00\n"
            "A-3,Three,30,Retention,06/Jan/25 9:00 AM\n"
            "A-4,Four,40,,\n",
            encoding="utf-8",
        )
        source = FileSource(name="export", kind="file", path=path, changed_column="Reviewed")
        reader = FileConnector(
            source,
            inputs={"reach": "Reach", "key_metric": "Key metric"},
            outputs=OutputsConfig(),
        )
        items = {i.key: i for i in await reader.read()}
        assert items["A-1"].inputs_changed == InputsChanged(datetime(2025, 1, 6, tzinfo=UTC))
        assert items["A-2"].inputs_changed == InputsChanged(datetime(2025, 1, 6, 8, 30, tzinfo=UTC))
        assert items["A-3"].inputs_changed == InputsChanged(datetime(2025, 1, 6, 9, tzinfo=UTC))
        assert items["A-4"].inputs_changed is None
        assert items["A-1"].inputs["key_metric"] == "Revenue"

    async def test_a_missing_date_column_is_a_mapping_error(self, tmp_path: Path) -> None:
        """A changed_column the file lacks is named with the closest columns."""
        path = tmp_path / "backlog.csv"
        path.write_text("Issue key,Reach,Reviewd\nA-1,10,2025-01-06\n", encoding="utf-8")
        source = FileSource(name="export", kind="file", path=path, changed_column="Reviewed")
        reader = FileConnector(source, inputs={"reach": "Reach"}, outputs=OutputsConfig())
        with pytest.raises(FieldMappingError, match="closest: Reviewd"):
            await reader.read()
