"""One-line reasons for a ranked item, used in plans and the explanation field."""

from __future__ import annotations

from priosync.domain import RankedItem
from scoring.dependencies import dependency_notes
from scoring.freshness import freshness_text

__all__ = ["explain_ranked"]


def explain_ranked(r: RankedItem, *, with_tier: bool = False) -> str:
    """Return ``RICE 500×2×0.8/3 = 266.7 · rank 3/140 · now`` for a ranked item.

    Dependency notes (``lifted: blocks WEB-12``, a cycle) follow the rank.
    With ``with_tier`` the tier is shown before the bucket (``· rank 3/140 · High · now``);
    a stale item ends with ``· stale: inputs unchanged for 134 days``.
    For an unscored item: its missing-input reasons joined with ``"; "``.
    """
    if r.rank is None:
        reasons = [m.reason for m in r.score.missing]
        return "; ".join(reasons) if reasons else "not scored"
    parts = [r.score.explanation or "scored", f"rank {r.rank}/{r.of}", *dependency_notes(r)]
    if with_tier and r.tier:
        parts.append(r.tier)
    if r.bucket:
        parts.append(r.bucket)
    if r.score.freshness is not None and r.score.freshness.stale:
        parts.append(freshness_text(r.score.freshness))
    return " · ".join(parts)
