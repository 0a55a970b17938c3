"""One object for values that thousands of items share (labels, label sets, option names).

A 50,000-item backlog read from JSON holds a fresh ``"roadmap:later"`` string, a fresh
``frozenset({"roadmap:later"})`` and a fresh ``"Medium"`` for every item: most of an item's
memory after its title. Sharing them makes an item cost what is unique about it. The caches
are bounded, so a long-running service that sees ever new label combinations stops adding
to them instead of growing without end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final

#: Distinct label sets kept; past this a set is used as is (correct, only not shared).
MAX_SHARED_SETS: Final = 4096

#: An empty mapping every item can share (it cannot be changed through this view).
EMPTY_MAPPING: Final[Mapping[str, Any]] = MappingProxyType({})

_label_sets: dict[frozenset[str], frozenset[str]] = {}


def shared_text(text: str) -> str:
    """``text`` interned: option names, labels, priority names, source names."""
    return sys.intern(text)


def shared_labels(labels: Iterable[str]) -> frozenset[str]:
    """The set of ``labels`` (each interned), one object per distinct set."""
    found = frozenset(sys.intern(label) for label in labels)
    shared = _label_sets.get(found)
    if shared is not None:
        return shared
    if len(_label_sets) < MAX_SHARED_SETS:
        _label_sets[found] = found
    return found


_mappings: dict[frozenset[tuple[str, str]], Mapping[str, str]] = {}


def shared_pairs(pairs: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only view of ``pairs`` (label name → node id), one per distinct content."""
    if not pairs:
        return EMPTY_MAPPING
    key = frozenset(pairs.items())
    shared = _mappings.get(key)
    if shared is None:
        shared = MappingProxyType(dict(pairs))
        if len(_mappings) < MAX_SHARED_SETS:
            _mappings[key] = shared
    return shared


_names: dict[tuple[str, ...], tuple[str, ...]] = {}


class Row(Mapping[str, Any]):
    """A read-only mapping for the few named values every item carries (its raw inputs, its
    score's terms). The names are one tuple shared by every row with the same names and the
    values a tuple: about half a small dict's size, which at 50,000 items is megabytes."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Mapping[str, Any]) -> None:
        names = tuple(sys.intern(name) for name in values)
        shared = _names.get(names)
        if shared is None:
            shared = names
            if len(_names) < MAX_SHARED_SETS:
                _names[names] = names
        self._names: tuple[str, ...] = shared
        self._values: tuple[Any, ...] = tuple(values.values())

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(zip(self._names, self._values, strict=True)))


def compact_row(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` as a ``Row`` (the shared empty mapping when empty); a row stays as it is."""
    if isinstance(values, Row):
        return values
    return Row(values) if values else EMPTY_MAPPING
