"""One object for values that thousands of items share (labels, label sets, option names).

A 50,000-item backlog read from JSON holds a fresh ``"roadmap:later"`` string, a fresh
``frozenset({"roadmap:later"})`` and a fresh ``"Medium"`` for every item: most of an item's
memory after its title. Sharing them makes an item cost what is unique about it. The caches
are bounded, so a long-running service that sees ever new label combinations stops adding
to them instead of growing without end.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar

#: Distinct label sets kept; past this a set is used as is (correct, only not shared).
MAX_SHARED_SETS: Final = 4096

#: An empty mapping every item can share (it cannot be changed through this view).
EMPTY_MAPPING: Final[Mapping[str, Any]] = MappingProxyType({})

_label_sets: dict[frozenset[str], frozenset[str]] = {}

K = TypeVar("K")
V = TypeVar("V")


def _shared(cache: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """The one object kept for ``key``; a new one from ``make`` is kept while the cache
    has room (``MAX_SHARED_SETS``), and past that returned without being kept."""
    found = cache.get(key)
    if found is not None:
        return found
    value = make()
    if len(cache) < MAX_SHARED_SETS:
        cache[key] = value
    return value


def shared_text(text: str) -> str:
    """``text`` interned: option names, labels, priority names, source names."""
    return sys.intern(text)


def shared_labels(labels: Iterable[str]) -> frozenset[str]:
    """The set of ``labels`` (each interned), one object per distinct set."""
    found = frozenset(sys.intern(label) for label in labels)
    return _shared(_label_sets, found, lambda: found)


_mappings: dict[frozenset[tuple[str, str]], Mapping[str, str]] = {}


def shared_pairs(pairs: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only view of ``pairs`` (label name → node id), one per distinct content."""
    if not pairs:
        return EMPTY_MAPPING
    return _shared(_mappings, frozenset(pairs.items()), lambda: MappingProxyType(dict(pairs)))


_names: dict[tuple[str, ...], tuple[str, ...]] = {}


class Row(Mapping[str, Any]):
    """A read-only mapping for the few named values every item carries (its raw inputs, its
    score's terms). The names are one tuple shared by every row with the same names and the
    values a tuple: about half a small dict's size, which at 50,000 items is megabytes."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Mapping[str, Any]) -> None:
        names = tuple(sys.intern(name) for name in values)
        self._names: tuple[str, ...] = _shared(_names, names, lambda: names)
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
