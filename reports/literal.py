"""Tracker and config text shown as data: never markup, never a terminal escape, never a page.

Titles, field names, option names and error messages come from the tracker (or a config),
and anyone who can edit an issue chooses them. Everything printed through rich goes through
``literal`` (rich would read ``[/docs]`` as a closing tag and ``[x]`` as a style), and table
cells through ``one_line``, which also escapes control characters (a title carrying
``\\x1b[2J`` must not clear the PM's terminal) and cuts what is too long to read.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

#: Longest cell a table shows; the full text stays in JSON and CSV, which are data.
MAX_CELL = 120


def one_line(text: str, *, limit: int | None = MAX_CELL) -> str:
    """``text`` on one line: newlines and tabs as spaces, other control characters as ``\\xNN``,
    cut to ``limit`` characters with an ellipsis."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal(text: str, *, limit: int | None = MAX_CELL) -> Text:
    """A rich ``Text`` that shows ``text`` exactly (one line, cut): no markup is parsed."""
    return Text(one_line(text, limit=limit))


#: A GitHub draft issue has no repository or number: its key is its Project item's node id
#: (``draft:PVTI_…``, see ``connectors.github.mapping``), which tells a reader nothing.
DRAFT_PREFIX = "draft:"


def shown_key(key: str, title: str) -> str:
    """The key as a reader should see it: a draft issue by its title, others as they are."""
    if key.startswith(DRAFT_PREFIX) and title.strip():
        return f"draft “{one_line(title, limit=60)}”"
    return key
