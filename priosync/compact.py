"""One object for values that thousands of items share (labels, label sets, option names).

A 50,000-item backlog read from JSON holds a fresh ``"roadmap:later"`` string, a fresh
``frozenset({"roadmap:later"})`` and a fresh ``"Medium"`` for every item: most of an item's
memory after its title. Sharing them makes an item cost what is unique about it. The caches
are bounded, so a long-running service that sees ever new label combinations stops adding
to them instead of growing without end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
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
