"""The HTML report's dependency badge: a lifted blocker, a cycle, a blocker not ranked.

Kept apart from ``reports.html`` (one call there), so the report's layout can change freely.
Inline styles only, and every key escaped: keys come from the tracker.
"""

from __future__ import annotations

from html import escape

from priosync.domain import RankedItem
from scoring import dependency_notes

_STYLE = (
    "display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;font-size:11px;"
    "white-space:nowrap;border:1px solid {color};color:{color}"
)
_LIFTED = "#b35c00"
_PROBLEM = "#b3261e"


def dependency_badge(ranked: RankedItem) -> str:
    """``↑ blocks WEB-12`` for a lifted item, ``⟲ cycle`` in a cycle, ``⊘ blocked`` for open
    blockers outside the ranking; the full notes in the title. Empty without dependencies."""
    notes = dependency_notes(ranked)
    if not notes:
        return ""
    if ranked.lifted_by:
        text, color = f"↑ blocks {ranked.lifted_by[0]}", _LIFTED
        if len(ranked.lifted_by) > 1:
            text += f" +{len(ranked.lifted_by) - 1}"
    elif ranked.cycle:
        text, color = "⟲ cycle", _PROBLEM
    else:
        text, color = "⊘ blocked", _PROBLEM
    title = escape(" · ".join(notes), quote=True)
    style = _STYLE.format(color=color)
    return f'<span class=dep title="{title}" style="{style}">{escape(text)}</span>'
