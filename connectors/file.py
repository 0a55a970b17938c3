"""A read-only source: a backlog exported as CSV (e.g. from Jira) or JSON.

Jira's CSV export names custom-field columns ``Custom field (Reach)`` and repeats a column
once per value for multi-valued fields (``Labels,Labels,Labels``); both are understood, so
a config that maps ``reach = "Reach"`` works for a Jira export and a hand-made sheet alike.
"""

from __future__ import annotations

import csv
import difflib
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.loading import read_regular_file
from config.models import FileSource, OutputsConfig
from connectors.file_links import LinkColumns, RowLinks
from priosync.domain import (
    Change,
    CheckResult,
    FieldInfo,
    InputsChanged,
    Outputs,
    RawValue,
    WorkItem,
    WriteResult,
)
from priosync.errors import ChangeRejected, ConfigError, FieldMappingError

_KEY_ALIASES = ("key", "issue key", "id")
_TITLE_ALIASES = ("title", "summary", "name")
_URL_ALIASES = ("url", "link", "issue url")
_LABEL_ALIASES = ("labels", "label")
#: Date formats a ``changed_column`` may use besides ISO 8601: Jira's CSV export
#: ("06/Jan/25 9:00 AM") and day-first or US dates as spreadsheets write them.
_DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y", "%d.%m.%Y", "%m/%d/%Y")

log = logging.getLogger("priosync.file")


class FileConnector:
    """Reads a CSV or JSON backlog. Never writes: the engine plans it but skips writing."""

    writable = False

    def __init__(
        self,
        source: FileSource,
        *,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        dependencies: bool = False,
    ) -> None:
        self.name = source.name
        self._source = source
        self._inputs = dict(inputs)
        self._outputs = outputs
        #: Read blocking links (``[scoring] dependencies = "lift"``): ``connectors.file_links``.
        self._dependencies = dependencies

    @classmethod
    def from_config(
        cls,
        source: FileSource,
        *,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        dependencies: bool = False,
    ) -> FileConnector:
        return cls(source, inputs=inputs, outputs=outputs, dependencies=dependencies)

    async def read(self) -> list[WorkItem]:
        rows = load_rows(self._source.path, fmt=self._source.format)
        if not rows:
            return []
        columns = Columns(list(rows[0]))
        key_col = columns.require(self._source.key_column, _KEY_ALIASES, what="key column")
        title_col = columns.find(self._source.title_column, _TITLE_ALIASES)
        url_col = columns.find(None, _URL_ALIASES)
        label_col = columns.find(None, _LABEL_ALIASES)
        input_cols = {
            name: columns.require(field, (), what=f"input '{name}'")
            for name, field in self._inputs.items()
        }
        changed = self._source.changed_column
        changed_col = columns.require(changed, (), what="changed_column") if changed else None
        undated = 0
        owned = {
            "score": columns.find(self._outputs.score_field, ()),
            "priority": columns.find(self._outputs.priority_field, ()),
            "explanation": columns.find(self._outputs.explain_field, ()),
            "rank": columns.find(self._outputs.rank_field, ()),
        }
        links = (
            LinkColumns(list(rows[0]), link_types=self._source.blocking_link_types).read(
                rows, key_column=key_col
            )
            if self._dependencies
            else {}
        )
        items = []
        for row in rows:
            key = _text(row.get(key_col))
            if not key:
                continue
            found = links.get(key, RowLinks())
            changed_at = parse_date(row.get(changed_col)) if changed_col else None
            undated += changed_col is not None and changed_at is None
            items.append(
                WorkItem(
                    key=key,
                    title=_text(row.get(title_col)) if title_col else "",
                    url=_text(row.get(url_col)) if url_col else "",
                    source=self.name,
                    inputs={name: row.get(col) for name, col in input_cols.items()},
                    current=Outputs(
                        score=_number(row.get(owned["score"])) if owned["score"] else None,
                        priority=_text(row.get(owned["priority"])) or None
                        if owned["priority"]
                        else None,
                        labels=frozenset(_values(row.get(label_col))) if label_col else frozenset(),
                        explanation=_text(row.get(owned["explanation"])) or None
                        if owned["explanation"]
                        else None,
                        rank=_int(row.get(owned["rank"])) if owned["rank"] else None,
                    ),
                    blocks=found.blocks,
                    blocked_by=found.blocked_by,
                    done=found.done,
                    inputs_changed=InputsChanged(changed_at) if changed_at else None,
                )
            )
        if undated:
            log.warning(
                "%s: %d rows have no readable date in column '%s' (ISO 8601, e.g. 2025-01-06)",
                self.name,
                undated,
                changed,
            )
        return items

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        wanted = set(keys)
        return [item for item in await self.read() if item.key in wanted]

    async def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        for change in changes:
            refused = ChangeRejected(
                f"source '{self.name}' is a file and read-only", tracker="file", status=None
            )
            yield WriteResult(change=change, error=refused)

    async def fields(self) -> list[FieldInfo]:
        rows = load_rows(self._source.path, fmt=self._source.format)
        names = list(rows[0]) if rows else []
        return [FieldInfo(id=n, name=Columns.display(n), type="column") for n in names]

    async def check(self) -> list[CheckResult]:
        try:
            items = await self.read()
        except (ConfigError, FieldMappingError) as exc:
            return [CheckResult(what=f"{self.name}: file", ok=False, detail=str(exc))]
        return [
            CheckResult(
                what=f"{self.name}: file",
                ok=True,
                detail=f"{self._source.path} has {len(items)} items and every mapped column",
            )
        ]

    async def owned_field_ids(self) -> frozenset[str]:
        return frozenset()  # read-only: nothing is written, nothing comes back

    async def aclose(self) -> None:
        return None


class Columns:
    """Column lookup by configured name, Jira's ``Custom field (Name)`` form, or an alias."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._by_folded = {self.display(n).casefold(): n for n in reversed(self.names)}

    @staticmethod
    def display(column: str) -> str:
        if column.startswith("Custom field (") and column.endswith(")"):
            return column[len("Custom field (") : -1]
        return column

    def find(self, wanted: str | None, aliases: Sequence[str]) -> str | None:
        for name in ([wanted] if wanted else []) + list(aliases):
            hit = self._by_folded.get(name.casefold())
            if hit is not None:
                return hit
        return None

    def require(self, wanted: str, aliases: Sequence[str], *, what: str) -> str:
        hit = self.find(wanted, aliases)
        if hit is not None:
            return hit
        shown = sorted({self.display(n) for n in self.names})
        close = difflib.get_close_matches(wanted, shown, n=3, cutoff=0.5)
        hint = f"; closest: {', '.join(close)}" if close else f"; columns are: {', '.join(shown)}"
        raise FieldMappingError(
            f"no column '{wanted}' for the {what}{hint}", field=wanted, candidates=close
        )


#: The largest backlog file read (a 50,000-issue Jira export is about 60 MB).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Jira exports long descriptions; the csv module's default cell limit is 128 KiB.
MAX_CELL_CHARS = 16 * 1024 * 1024


def load_rows(path: Path, *, fmt: str = "auto") -> list[dict[str, RawValue]]:
    """Rows as dicts; repeated CSV columns become lists of their non-empty values."""
    kind = fmt if fmt != "auto" else ("json" if path.suffix.lower() == ".json" else "csv")
    text = read_text_file(path)
    return _json_rows(text, path) if kind == "json" else _csv_rows(text, path)


def read_text_file(path: Path) -> str:
    """A regular file's text: at most ``MAX_FILE_BYTES``, UTF-8, or Windows-1252 as Excel
    saves a CSV. A device, a pipe or a directory is refused before anything is read (reading
    ``/dev/zero`` would never end, a FIFO would hang)."""
    data = read_regular_file(path, max_bytes=MAX_FILE_BYTES, what="backlog")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ConfigError(
            "the backlog file is neither UTF-8 nor Windows-1252 text; save it as UTF-8",
            file=str(path),
        ) from None


def _csv_rows(text: str, path: Path) -> list[dict[str, RawValue]]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    reader = csv.reader(text.splitlines())
    try:
        return _read_csv(reader)
    except csv.Error as exc:
        raise ConfigError(
            f"not a readable CSV at line {reader.line_num}: {exc}", file=str(path)
        ) from None


def _read_csv(reader: Iterator[list[str]]) -> list[dict[str, RawValue]]:
    header = next(reader, None)
    if header is None:
        return []
    header = [h.strip() for h in header]
    repeated = {h for h in header if header.count(h) > 1}
    rows: list[dict[str, RawValue]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, RawValue] = {}
        lists: dict[str, list[RawValue]] = {name: [] for name in repeated}
        for name, cell in zip(header, cells, strict=False):
            value = cell.strip() or None
            if name in repeated:
                if value is not None:
                    lists[name].append(value)
            else:
                row[name] = value
        row.update(lists)
        rows.append(row)
    return rows


def _json_rows(text: str, path: Path) -> list[dict[str, RawValue]]:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc}", file=str(path)) from None
    except RecursionError:
        raise ConfigError("not a usable JSON backlog: nested too deeply", file=str(path)) from None
    except ValueError as exc:  # a number past Python's 4,300-digit limit
        raise ConfigError(f"not a usable JSON backlog: {exc}", file=str(path)) from None
    if isinstance(data, Mapping):
        data = data.get("items", data.get("issues"))
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        raise ConfigError(
            'a JSON backlog is a list of objects, or {"items": [...]}',
            file=str(path),
            expected="a list of objects",
            found=type(data).__name__,
        )
    rows = []
    for record in data:
        fields = record.get("fields") if isinstance(record.get("fields"), Mapping) else {}
        rows.append({**{k: v for k, v in record.items() if k != "fields"}, **fields})
    return rows


def parse_date(value: RawValue) -> datetime | None:
    """A date or time from a cell: ISO 8601 or one of ``_DATE_FORMATS``; naive means UTC."""
    text = _text(value)
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: RawValue) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value).strip()


def _values(value: RawValue) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    # A single Labels column may hold "a b" (space-separated) as Jira shows labels.
    return _text(value).split()


def _number(value: RawValue) -> float | None:
    try:
        return float(_text(value)) if _text(value) else None
    except ValueError:
        return None


def _int(value: RawValue) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None
