"""Blocking links in a backlog file: a Jira CSV export's link columns, or Jira's own JSON.

Jira's CSV export writes one ``Outward issue link (<type>)`` column per link an issue has on
the outward side ("blocks") and one ``Inward issue link (<type>)`` per link on the inward
side ("is blocked by"), repeating the header as often as the issue with the most links needs
(docs/tracker-apis.md §1.10). A cell holds an issue key or, in some exports, the issue id,
which the ``Issue id`` column turns back into a key. A JSON backlog of Jira issues carries
the REST ``issuelinks`` field instead, read as the Jira connector reads it.

Whether a linked issue is done comes from its own row's ``Status Category`` (or, for JSON,
the status category the link carries), when the file has one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from connectors.jira.links import blocking_links
from priosync.domain import Link, RawValue

_ID_COLUMNS = ("issue id",)
_STATUS_CATEGORY_COLUMNS = ("status category",)
#: Cells may hold several keys when a sheet was made by hand ("WEB-1, WEB-2").
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class RowLinks:
    """One row's blocking links and whether the row itself is done."""

    blocks: tuple[Link, ...] = ()
    blocked_by: tuple[Link, ...] = ()
    done: bool = False


class LinkColumns:
    """Where a file keeps its links, found once from the header."""

    def __init__(self, columns: Sequence[str], *, link_types: Collection[str]) -> None:
        folded = {name.casefold(): name for name in reversed(columns)}
        types = {t.casefold() for t in link_types}
        self.link_types = tuple(link_types)
        self.outward = [c for c in columns if _link_type(c, "outward issue link") in types]
        self.inward = [c for c in columns if _link_type(c, "inward issue link") in types]
        self.ids = next((folded[n] for n in _ID_COLUMNS if n in folded), None)
        self.status = next((folded[n] for n in _STATUS_CATEGORY_COLUMNS if n in folded), None)
        self.issuelinks = folded.get("issuelinks")

    def read(
        self, rows: Sequence[Mapping[str, RawValue]], *, key_column: str
    ) -> dict[str, RowLinks]:
        """Every keyed row's links, by key."""
        keys: dict[str, str] = {}
        done: dict[str, bool] = {}
        for row in rows:
            key = _one(row.get(key_column))
            if not key:
                continue
            if self.ids is not None and _one(row.get(self.ids)):
                keys[_one(row.get(self.ids))] = key
            done[key] = self.status is not None and _one(row.get(self.status)).casefold() == "done"
        found: dict[str, RowLinks] = {}
        for row in rows:
            key = _one(row.get(key_column))
            if not key:
                continue
            blocks = self._links(row, self.outward, keys, done)
            blocked_by = self._links(row, self.inward, keys, done)
            if self.issuelinks is not None:
                out, into = blocking_links(row.get(self.issuelinks), link_types=self.link_types)
                blocks, blocked_by = blocks + out, blocked_by + into
            found[key] = RowLinks(_unique(blocks), _unique(blocked_by), done[key])
        return found

    @staticmethod
    def _links(
        row: Mapping[str, RawValue],
        columns: Sequence[str],
        keys: Mapping[str, str],
        done: Mapping[str, bool],
    ) -> tuple[Link, ...]:
        links = []
        for column in columns:
            for cell in _cells(row.get(column)):
                for ref in _SEPARATORS.split(cell):
                    if ref:
                        key = keys.get(ref, ref)
                        links.append(Link(key, done=done.get(key, False)))
        return tuple(links)


def _link_type(column: str, prefix: str) -> str | None:
    """``blocks`` for ``Outward issue link (Blocks)`` with prefix ``outward issue link``."""
    text = column.strip()
    if text.casefold().startswith(prefix + " (") and text.endswith(")"):
        return text[len(prefix) + 2 : -1].casefold()
    return None


def _cells(value: RawValue) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [c for v in value for c in _cells(v)]
    return [str(value).strip()]


def _one(value: RawValue) -> str:
    cells = _cells(value)
    return cells[0] if cells else ""


def _unique(links: Sequence[Link]) -> tuple[Link, ...]:
    return tuple({link.key: link for link in links}.values())
