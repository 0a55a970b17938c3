"""Plan: compare what each item holds with what it should hold (pure, design §3 and §8).

The planner never awaits and never writes, so a dry run is free and "a second plan right
after a sync is empty" is one test. What priosync owns on an item:

- the score field (when ``score_field`` is set), compared after rounding;
- the priority (when ``priority_field`` is set) — the item's tier;
- labels under ``label_prefix`` (one per roadmap bucket) when buckets are configured, the
  ``needs_input_label``, and ``[scoring.freshness] stale_label`` (on ranked items whose inputs
  are stale); every other label is a person's and is never touched;
- the explanation and rank fields when configured.

The explanation field holds the formula, tier and bucket (not the rank, which would change
on every item below a new one). Unscored items keep their score, priority, explanation and rank (a person may be mid-edit):
they lose their roadmap label and gain the needs-input label. Items carrying the pin label
keep their priority and roadmap labels (a person's override) but get their score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from config.models import OutputsConfig
from priosync.compact import shared_labels
from priosync.domain import Change, Outputs, Plan, RankedItem, Skipped, WorkItem
from scoring import (
    cycle_warnings,
    dependency_notes,
    explain_ranked,
    freshness_text,
    lift_change_note,
    round_half_up,
)


@dataclass(frozen=True, slots=True)
class PlanRules:
    """What priosync owns, taken from ``[outputs]`` (and the score's decimals)."""

    decimals: int
    label_prefix: str
    manage_buckets: bool
    writes_score: bool = False
    writes_priority: bool = False
    writes_explanation: bool = False
    writes_rank: bool = False
    needs_input_label: str | None = None
    pin_label: str | None = None
    #: The tracker's own order follows the ranking (``sync.order``).
    reorder: bool = False
    #: ``[scoring.freshness] stale_label``: on ranked items whose inputs are stale.
    stale_label: str | None = None

    @classmethod
    def from_config(
        cls, outputs: OutputsConfig, *, decimals: int, stale_label: str | None = None
    ) -> PlanRules:
        return cls(
            decimals=decimals,
            label_prefix=outputs.label_prefix,
            manage_buckets=bool(outputs.roadmap),
            writes_score=outputs.score_field is not None,
            writes_priority=outputs.priority_field is not None,
            writes_explanation=outputs.explain_field is not None,
            writes_rank=outputs.rank_field is not None,
            needs_input_label=outputs.needs_input_label,
            pin_label=outputs.pin_label,
            reorder=outputs.reorder,
            stale_label=stale_label,
        )

    def owns(self, label: str) -> bool:
        return (self.manage_buckets and label.startswith(self.label_prefix)) or (
            label in (self.needs_input_label, self.stale_label) and label is not None
        )

    def is_bucket_label(self, label: str) -> bool:
        return self.manage_buckets and label.startswith(self.label_prefix)

    def pins(self, item: WorkItem) -> bool:
        """A person's override: the item keeps its priority, bucket and place."""
        return self.pin_label is not None and self.pin_label in item.current.labels


def plan_changes(ranking: Iterable[RankedItem], rules: PlanRules) -> Plan:
    """A ``Change`` for every item whose owned values differ, in ranking order."""
    ranked = tuple(ranking)
    changes: list[Change] = []
    skipped: list[Skipped] = []
    unchanged = 0
    for r in ranked:
        if r.rank is None:
            skipped.append(Skipped(key=r.item.key, source=r.item.source, missing=r.score.missing))
        before = owned_now(r.item, rules)
        after = owned_target(r, rules)
        if before == after:
            unchanged += 1
            continue
        changes.append(
            Change(
                key=r.item.key,
                source=r.item.source,
                url=r.item.url,
                before=before,
                after=after,
                reason=reason_for(r, rules),
                item=r.item,
            )
        )
    return Plan(
        changes=tuple(changes),
        unchanged=unchanged,
        skipped=tuple(skipped),
        ranking=ranked,
        warnings=plan_warnings(skipped, rules) + cycle_warnings(ranked),
    )


def plan_warnings(skipped: Iterable[Skipped], rules: PlanRules) -> tuple[str, ...]:
    """What `check` would report that changes this plan: a select option the scale lacks
    turns every item holding it into needs-input, which loses its roadmap label."""
    holding: dict[tuple[str, str], int] = {}
    for s in skipped:
        for m in s.missing:
            if m.option is not None:
                key = (m.input, m.option)
                holding[key] = holding.get(key, 0) + 1

    def line(name: str, option: str, count: int) -> str:
        who = "1 item needs" if count == 1 else f"{count} items need"
        lose = (" and loses its" if count == 1 else " and lose their") + " roadmap label"
        lose += "" if count == 1 else "s"
        return (
            f"scales.{name} has no number for option {option!r}: {who} input because of it"
            f"{lose if rules.manage_buckets else ''}; add it to [scoring] scales.{name}"
        )

    ordered = sorted(holding.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(line(name, option, count) for (name, option), count in ordered)


def owned_now(item: WorkItem, rules: PlanRules) -> Outputs:
    """The owned values the item holds now; what it does not own is None / empty."""
    current = item.current
    score = current.score
    return Outputs(
        score=round_half_up(score, rules.decimals)
        if rules.writes_score and score is not None
        else None,
        priority=current.priority if rules.writes_priority else None,
        labels=shared_labels(label for label in current.labels if rules.owns(label)),
        explanation=current.explanation if rules.writes_explanation else None,
        rank=current.rank if rules.writes_rank else None,
    )


def owned_target(r: RankedItem, rules: PlanRules) -> Outputs:
    """The owned values the item should hold after a sync."""
    now = owned_now(r.item, rules)
    target = _owned_target(r, rules, now)
    return target if r.item.labelable else replace(target, labels=now.labels)


def _owned_target(r: RankedItem, rules: PlanRules, now: Outputs) -> Outputs:
    pinned = rules.pins(r.item)
    bucket_labels = frozenset(label for label in now.labels if rules.is_bucket_label(label))
    if r.rank is None:
        needs = {rules.needs_input_label} if rules.needs_input_label else set()
        return Outputs(
            score=now.score,
            priority=now.priority,
            labels=shared_labels(needs | (bucket_labels if pinned else frozenset())),
            explanation=now.explanation,
            rank=now.rank,
        )
    if pinned:
        labels = bucket_labels
    elif rules.manage_buckets and r.bucket is not None:
        labels = shared_labels((f"{rules.label_prefix}{r.bucket}",))
    else:
        labels = frozenset()
    freshness = r.score.freshness
    if rules.stale_label is not None and freshness is not None and freshness.stale:
        labels |= {rules.stale_label}
    return Outputs(
        score=r.score.value if rules.writes_score else None,
        priority=(now.priority if pinned or r.tier is None else r.tier)
        if rules.writes_priority
        else None,
        labels=labels,
        explanation=explanation_text(r) if rules.writes_explanation else None,
        rank=r.rank if rules.writes_rank else None,
    )


def explanation_text(r: RankedItem) -> str:
    """The explanation field: formula, dependency notes, tier and bucket, but not the rank.

    The rank (and "of N") moves for every item below a new or rescored one; keeping it out of
    this field means one new issue does not rewrite the explanation of the whole backlog. A
    stale item's remark names the date its inputs last changed, not the days since, for the
    same reason.
    """
    fresh = r.score.freshness
    stale = freshness_text(fresh, dated=True) if fresh is not None and fresh.stale else None
    parts = (r.score.explanation, *dependency_notes(r), r.tier, r.bucket, stale)
    return " · ".join(part for part in parts if part)


def reason_for(r: RankedItem, rules: PlanRules) -> str:
    """One line: the formula, the rank and where it lands, or why it could not be scored."""
    if r.rank is None:
        return "needs input: " + explain_ranked(r)
    text = explain_ranked(r, with_tier=rules.writes_priority)
    if rules.pins(r.item):
        return text + f" · pinned ({rules.pin_label}): priority and bucket kept"
    lifted = lift_change_note(r, with_tier=rules.writes_priority)
    return text if lifted is None else f"{text} ({lifted})"
