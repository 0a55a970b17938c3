"""The planner: only owned values, only what differs, pins respected, idempotent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from priosync.domain import (
    Cut,
    FreshnessSpec,
    InputsChanged,
    ModelSpec,
    Outputs,
    Plan,
    RankedItem,
    WorkItem,
)
from scoring import score_backlog
from sync.plan import PlanRules, explanation_text, plan_changes

SPEC = ModelSpec(
    model="rice",
    inputs=("reach", "impact", "confidence", "effort"),
    percent_inputs=frozenset({"confidence"}),
    decimals=1,
    effort_input="effort",
)
TIERS = [Cut("High", top=1), Cut("Low")]
BUCKETS = [Cut("now", capacity=2), Cut("later")]
RULES = PlanRules(
    decimals=1,
    label_prefix="roadmap:",
    manage_buckets=True,
    writes_score=True,
    writes_priority=True,
    writes_explanation=True,
    needs_input_label="needs-scoring",
    pin_label="pinned",
)


def item(key: str, reach: object, effort: object = 1, **current: object) -> WorkItem:
    return WorkItem(
        key=key,
        title=key,
        url=f"https://x/{key}",
        source="web",
        inputs={"reach": reach, "impact": 1, "confidence": 1, "effort": effort},  # type: ignore[dict-item]
        current=Outputs(**current),  # type: ignore[arg-type]
    )


def ranked(*items: WorkItem) -> tuple[RankedItem, ...]:
    return score_backlog(items, SPEC, tiers=TIERS, buckets=BUCKETS)


def settle(ranking: tuple[RankedItem, ...]) -> tuple[RankedItem, ...]:
    """Apply a plan's `after` to each item, as a tracker would after a sync."""
    plan = plan_changes(ranking, RULES)
    after = {c.key: c for c in plan.changes}
    out = []
    for r in ranking:
        c = after.get(r.item.key)
        if c is None:
            out.append(r)
            continue
        human = r.item.current.labels - c.before.labels
        current = replace(c.after, labels=human | c.after.labels)
        out.append(replace(r, item=replace(r.item, current=current)))
    return tuple(out)


class TestPlanChanges:
    def test_first_plan_sets_score_priority_bucket(self) -> None:
        """A fresh item gets its score, tier, bucket label and explanation."""
        plan = plan_changes(ranked(item("WEB-1", 100)), RULES)
        (change,) = plan.changes
        assert change.after == Outputs(
            score=100.0,
            priority="High",
            labels=frozenset({"roadmap:now"}),
            explanation="RICE 100×1×1/1 = 100 · High · now",
        )
        assert change.before == Outputs(labels=frozenset())
        assert "rank 1/1" in change.reason

    def test_second_plan_is_empty(self) -> None:
        """Once the tracker holds the planned values, the next plan changes nothing."""
        ranking = ranked(item("WEB-1", 100), item("WEB-2", 50), item("WEB-3", None))
        settled = settle(ranking)
        again = plan_changes(settled, RULES)
        assert again.changes == ()
        assert again.unchanged == 3

    def test_human_labels_never_touched(self) -> None:
        """Labels outside the prefix stay out of before/after; stale managed ones are removed."""
        current = {"labels": frozenset({"customer", "roadmap:later", "q3"})}
        plan = plan_changes(ranked(item("WEB-1", 100, **current)), RULES)
        (change,) = plan.changes
        assert change.before.labels == frozenset({"roadmap:later"})
        assert change.labels_to_add == frozenset({"roadmap:now"})
        assert change.labels_to_remove == frozenset({"roadmap:later"})

    def test_float_noise_is_not_a_change(self) -> None:
        """A tracker score that rounds to the planned one does not cause a write."""
        settled = settle(ranked(item("WEB-1", 100)))
        noisy = replace(
            settled[0],
            item=replace(
                settled[0].item, current=replace(settled[0].item.current, score=100.0000001)
            ),
        )
        assert plan_changes((noisy,), RULES).changes == ()

    def test_unscored_item_gets_only_needs_input(self) -> None:
        """An unscored item keeps score and priority, loses its bucket label, gains needs-input."""
        current = {"score": 12.0, "priority": "High", "labels": frozenset({"roadmap:now", "ux"})}
        plan = plan_changes(ranked(item("WEB-1", "n/a", **current)), RULES)
        (change,) = plan.changes
        assert change.after.score == 12.0
        assert change.after.priority == "High"
        assert change.after.labels == frozenset({"needs-scoring"})
        assert plan.skipped[0].key == "WEB-1"
        assert "Reach" in plan.skipped[0].missing[0].reason
        assert change.reason.startswith("needs input: Reach")

    def test_needs_input_removed_once_scored(self) -> None:
        """An item that gets its inputs loses the needs-input label."""
        plan = plan_changes(ranked(item("WEB-1", 10, labels=frozenset({"needs-scoring"}))), RULES)
        assert plan.changes[0].labels_to_remove == frozenset({"needs-scoring"})

    def test_pinned_item_keeps_priority_and_bucket(self) -> None:
        """A pinned item gets its score but keeps its priority and roadmap label."""
        current = {"priority": "Low", "labels": frozenset({"pinned", "roadmap:later"})}
        plan = plan_changes(ranked(item("WEB-1", 100, **current)), RULES)
        (change,) = plan.changes
        assert change.after.priority == "Low"
        assert change.after.labels == frozenset({"roadmap:later"})
        assert change.after.score == 100.0
        assert "pinned" in change.reason

    def test_unowned_outputs_are_ignored(self) -> None:
        """Without score or priority fields configured, only labels are planned."""
        rules = replace(RULES, writes_score=False, writes_priority=False, writes_explanation=False)
        plan = plan_changes(ranked(item("WEB-1", 100, score=5.0, priority="Low")), rules)
        (change,) = plan.changes
        assert change.before.score is None
        assert change.after.score is None
        assert change.after.priority is None
        assert change.after.labels == frozenset({"roadmap:now"})

    def test_no_buckets_configured_leaves_prefixed_labels(self) -> None:
        """When no roadmap buckets are configured, prefixed labels are not priosync's."""
        rules = replace(RULES, manage_buckets=False)
        ranking = ranked(
            item("WEB-1", 100, score=100.0, priority="High", labels=frozenset({"roadmap:x"}))
        )
        plan = plan_changes(ranking, rules)
        assert all(not c.labels_to_remove for c in plan.changes)

    def test_changes_follow_ranking_order(self) -> None:
        """Changes come in rank order, so a write budget lands the top of the backlog first."""
        plan = plan_changes(ranked(item("WEB-2", 10), item("WEB-1", 5), item("WEB-3", 50)), RULES)
        assert [c.key for c in plan.changes] == ["WEB-3", "WEB-2", "WEB-1"]


class TestExplanationText:
    def test_leaves_out_the_rank(self) -> None:
        """The explanation holds formula, tier and bucket, not the rank that moves with every item."""
        (r,) = ranked(item("WEB-1", 100))
        assert explanation_text(r) == "RICE 100×1×1/1 = 100 · High · now"


class TestUnlabelable:
    def test_no_label_changes_for_items_that_cannot_carry_labels(self) -> None:
        """A draft issue gets its score and priority but no planned labels, so it settles."""
        draft = replace(item("draft:1", 100), labelable=False)
        (change,) = plan_changes(ranked(draft), RULES).changes
        assert change.after.labels == frozenset()
        assert change.after.score == 100.0
        settled = settle(ranked(draft))
        assert plan_changes(settled, RULES).changes == ()


class TestGlobalScope:
    def test_for_sources_keeps_global_ranks(self) -> None:
        """Restricting a global plan to one source keeps the ranks the full ranking gave."""
        from sync.pipeline import for_sources

        a = replace(item("WEB-1", 100), source="web")
        b = replace(item("acme/app#1", 200), source="app")
        plan = plan_changes(ranked(a, b), RULES)
        web = for_sources(plan, {"web"})
        assert [r.item.key for r in web.ranking] == ["WEB-1"]
        assert web.ranking[0].rank == 2
        assert [c.key for c in web.changes] == ["WEB-1"]
        assert web.unchanged == 0

    def test_global_ranking_with_a_failed_source_holds_back_writes(self) -> None:
        """One unreadable source in a global ranking means nothing is written."""
        from pathlib import Path

        from config import validate_config
        from priosync.errors import AuthFailed
        from sync.pipeline import Reads, SourceFailure, held_back

        raw = {
            "scoring": {
                "ranking": "global",
                "inputs": {"reach": "R", "impact": "I", "confidence": "C", "effort": "E"},
            },
            "sources": [{"name": "x", "kind": "file", "path": "x.csv"}],
        }
        config = validate_config(raw, file=Path("t.toml"), environ={}).config
        failed = Reads(failures=[SourceFailure("app", AuthFailed("no", tracker="GitHub"))])
        assert "app could not be read" in str(held_back(config, failed))
        assert held_back(config, Reads()) is None
        per_source = config.model_copy(
            update={"scoring": config.scoring.model_copy(update={"ranking": "per-source"})}
        )
        assert held_back(per_source, failed) is None


class TestPlanWarnings:
    def test_an_option_the_scale_lacks_is_a_warning_with_its_count(self) -> None:
        """Items whose select option has no number become needs-input; the plan says why once."""
        spec = replace(SPEC, scales={"impact": {"High": 2.0, "Low": 0.5}})
        items = [
            replace(
                item(f"WEB-{n}", 100),
                inputs={"reach": 100, "impact": impact, "confidence": 1, "effort": 1},
            )
            for n, impact in enumerate(["Huge", "Huge", "High", "Tiny"], start=1)
        ]
        plan = plan_changes(score_backlog(items, spec, tiers=TIERS, buckets=BUCKETS), RULES)
        assert plan.warnings == (
            "scales.impact has no number for option 'Huge': 2 items need input because of it "
            "and lose their roadmap labels; add it to [scoring] scales.impact",
            "scales.impact has no number for option 'Tiny': 1 item needs input because of it "
            "and loses its roadmap label; add it to [scoring] scales.impact",
        )

    def test_empty_inputs_are_not_warnings(self) -> None:
        """A missing value is the item's business, not a config problem: no warning."""
        plan = plan_changes(ranked(item("WEB-1", None), item("WEB-2", 5)), RULES)
        assert plan.skipped
        assert plan.warnings == ()


class TestStaleLabel:
    """The stale label follows the needs-input label's rules: owned, one by one, nothing else."""

    NOW = datetime(2025, 5, 20, tzinfo=UTC)
    STALE_SPEC = replace(SPEC, freshness=FreshnessSpec(review_after_days=90))
    STALE_RULES = replace(RULES, stale_label="needs-review")

    def dated(self, wi: WorkItem, days: int) -> WorkItem:
        return replace(wi, inputs_changed=InputsChanged(self.NOW - timedelta(days=days)))

    def plan(self, *items: WorkItem) -> Plan:
        ranking = score_backlog(items, self.STALE_SPEC, tiers=TIERS, buckets=BUCKETS, now=self.NOW)
        return plan_changes(ranking, self.STALE_RULES)

    def test_added_while_stale_and_removed_once_fresh(self) -> None:
        """A stale item gains the label (and keeps a person's); once fresh it loses it."""
        labels = frozenset({"customer", "roadmap:now"})
        stale = self.dated(item("WEB-1", 10, labels=labels, score=10.0), 134)
        change = self.plan(stale).changes[0]
        assert change.labels_to_add == {"needs-review"}
        assert change.labels_to_remove == frozenset()
        fresh = self.dated(item("WEB-1", 10, labels=labels | {"needs-review"}, score=10.0), 3)
        change = self.plan(fresh).changes[0]
        assert change.labels_to_add == frozenset()
        assert change.labels_to_remove == {"needs-review"}

    def test_owned_only_when_configured(self) -> None:
        """The label is priosync's with a stale label configured, a person's otherwise."""
        assert self.STALE_RULES.owns("needs-review")
        assert not RULES.owns("needs-review")
        assert not self.STALE_RULES.owns("needs-review-later")

    def test_unscored_items_lose_it_for_needs_input(self) -> None:
        """An item missing input asks for input, not a review."""
        missing = self.dated(item("WEB-1", None, labels=frozenset({"needs-review"})), 200)
        change = self.plan(missing).changes[0]
        assert change.labels_to_add == {"needs-scoring"}
        assert change.labels_to_remove == {"needs-review"}

    def test_a_settled_stale_item_plans_nothing(self) -> None:
        """Once the label and the dated explanation landed, the next plan is empty."""
        stale = self.dated(item("WEB-1", 10, score=10.0), 134)
        first = self.plan(stale).changes[0]
        settled = replace(stale, current=first.after)
        assert self.plan(settled).changes == ()
