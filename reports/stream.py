"""Large documents written as they are made, byte for byte what the whole-document
renderers wrote.

A 50,000-item ranking as one ``{"items": [...]}`` of dicts, or one CSV buffer, or one HTML
string, costs more memory than the ranking itself; written piece by piece it costs one row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

_INDENT = "  "


def write_json(file: IO[str], document: Mapping[str, Any]) -> None:
    """``json.dump(document, file, indent=2, ensure_ascii=False)`` plus a newline, with every
    top-level value that is an iterator (not a list or dict) written one element at a time."""
    file.write("{")
    for n, (key, value) in enumerate(document.items()):
        file.write(("," if n else "") + "\n" + _INDENT + _dumps(key) + ": ")
        if isinstance(value, Iterator):
            _write_array(file, value)
        else:
            file.write(_nested(value, depth=1))
    file.write("\n}\n" if document else "}\n")


def write_lines(file: IO[str], parts: Iterable[str]) -> None:
    """Write text pieces as they come."""
    for part in parts:
        file.write(part)


def _write_array(file: IO[str], values: Iterator[Any]) -> None:
    first = True
    for value in values:
        file.write(("[" if first else ",") + "\n" + _INDENT * 2 + _nested(value, depth=2))
        first = False
    file.write("[]" if first else "\n" + _INDENT + "]")


def _nested(value: Any, *, depth: int) -> str:
    """``value`` as json.dumps writes it ``depth`` levels down: the same text, each line
    after the first shifted by the indent of that level."""
    return _dumps(value).replace("\n", "\n" + _INDENT * depth)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
