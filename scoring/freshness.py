"""Fresh inputs: how old an item's inputs are, whether they are stale, and the decay.

Pure: the reference time is passed in (sync gives the run's clock), never read here. Rules:

- An item's inputs changed last at ``WorkItem.inputs_changed.at`` (from the tracker's history,
  or the first time priosync saw those values). Without a date nothing is said about them.
- **Age** is whole days from that time to the reference time, never negative (a clock a
  little behind the tracker's is not "−1 days").
- **Stale** when the age is more than ``review_after_days``. A stale item stays ranked;
  with ``confidence_decay`` its confidence input is multiplied by the decay while stale
  (RICE, ICE, ``ice-avg``, or a formula with a ``confidence`` input).
- **Wording.** What ``rank`` and plans show changes daily (``stale: inputs unchanged for 134
  days``); what is written to the tracker's explanation field names the date instead
  (``stale: inputs unchanged since 2025-01-06``), so a daily sync does not rewrite it daily.
  A first-seen date says so: the inputs are at least that old.
"""

from __future__ import annotations

from collections.abc import Mapping

from priosync.domain import Freshness, FreshnessSpec, InputsChanged, ModelSpec, Timestamp
from scoring.formatting import format_term
from scoring.models import input_names

__all__ = ["CONFIDENCE_INPUT", "assess_freshness", "decay_factors", "freshness_text"]

#: The input ``confidence_decay`` multiplies.
CONFIDENCE_INPUT = "confidence"
_DAY_S = 86_400


def assess_freshness(
    changed: InputsChanged | None, spec: FreshnessSpec, *, now: Timestamp
) -> Freshness | None:
    """How old the inputs are at ``now`` and whether that is stale; None without a date."""
    if changed is None:
        return None
    days = max(0, int((now - changed.at).total_seconds() // _DAY_S))
    return Freshness(changed=changed, days=days, stale=days > spec.review_after_days)


def decay_factors(freshness: Freshness | None, spec: ModelSpec) -> Mapping[str, float]:
    """Input name → factor for a stale item's confidence, when a decay is configured."""
    decay = spec.freshness.confidence_decay if spec.freshness is not None else None
    if freshness is None or not freshness.stale or decay is None:
        return {}
    if CONFIDENCE_INPUT not in input_names(spec):
        return {}
    return {CONFIDENCE_INPUT: decay}


def freshness_text(freshness: Freshness, *, dated: bool = False) -> str:
    """The stale remark: with days for reports, or with the date for written fields."""
    changed = freshness.changed
    first_seen = changed.basis == "first-seen"
    if dated:
        day = changed.at.date().isoformat()
        text = f"stale: inputs unchanged since {day}" + (" or earlier" if first_seen else "")
    else:
        unit = "day" if freshness.days == 1 else "days"
        at_least = "at least " if first_seen else ""
        text = f"stale: inputs unchanged for {at_least}{freshness.days} {unit}"
    if first_seen:
        text += " (first seen by priosync; the tracker keeps no date)"
    if freshness.decay is not None:
        text += f", confidence × {format_term(freshness.decay)}"
    return text
