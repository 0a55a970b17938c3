"""Fresh inputs: age at a given reference time, stale past the threshold, the confidence decay,
and the wording for reports and for the written explanation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from priosync.domain import (
    Cut,
    Freshness,
    FreshnessSpec,
    InputsChanged,
    ModelSpec,
    RawValue,
    WorkItem,
)
from scoring import MODEL_INPUTS, explain_ranked, freshness_text, score_backlog, score_item
from scoring.freshness import assess_freshness
from sync.plan import explanation_text

NOW = datetime(2025, 5, 20, 12, tzinfo=UTC)
SPEC = FreshnessSpec(review_after_days=90)
RICE = ModelSpec(
    "rice",
    MODEL_INPUTS["rice"],
    percent_inputs=frozenset({"confidence"}),
    decimals=1,
    effort_input="effort",
    freshness=SPEC,
)


def changed(days: float, basis: str = "tracker") -> InputsChanged:
    return InputsChanged(NOW - timedelta(days=days), basis)  # type: ignore[arg-type]


def item(days: float | None, *, confidence: RawValue = 0.8, basis: str = "tracker") -> WorkItem:
    inputs: dict[str, RawValue] = {"reach": 500, "impact": 2, "confidence": confidence, "effort": 3}
    dated = changed(days, basis) if days is not None else None
    return WorkItem("WEB-1", "t", "", "web", inputs, inputs_changed=dated)


class TestAge:
    """Whole days from the last change to the reference time; stale past review_after_days."""

    def test_days_and_the_threshold(self) -> None:
        """90 days is not yet stale, 90 days and a bit less than 91 neither, 91 is."""
        assert assess_freshness(changed(90), SPEC, now=NOW) == Freshness(changed(90), 90, False)
        assert assess_freshness(changed(90.9), SPEC, now=NOW).stale is False  # type: ignore[union-attr]
        assert assess_freshness(changed(91), SPEC, now=NOW) == Freshness(changed(91), 91, True)

    def test_no_date_says_nothing(self) -> None:
        """An item without a date has no freshness; nor does scoring without a reference time."""
        assert assess_freshness(None, SPEC, now=NOW) is None
        assert score_item(item(200), RICE).freshness is None

    def test_a_date_after_the_reference_time_is_zero_days(self) -> None:
        """A tracker clock ahead of ours gives 0 days, not −1."""
        assert assess_freshness(changed(-2), SPEC, now=NOW).days == 0  # type: ignore[union-attr]


class TestDecay:
    """A stale item keeps its rank, with its confidence multiplied by the decay if set."""

    def test_stale_rice_confidence_is_decayed(self) -> None:
        """0.8 × 0.5 = 0.4: RICE 500×2×0.4/3 = 133.3; the decay is recorded."""
        spec = replace(RICE, freshness=replace(SPEC, confidence_decay=0.5))
        score = score_item(item(134), spec, now=NOW)
        assert (score.value, score.explanation) == (133.3, "RICE 500×2×0.4/3 = 133.3")
        assert score.freshness == Freshness(changed(134), 134, True, decay=0.5)

    def test_fresh_or_undecayed_items_keep_their_score(self) -> None:
        """A fresh item, or a stale one without a decay, scores 266.7 and is still ranked."""
        decaying = replace(RICE, freshness=replace(SPEC, confidence_decay=0.5))
        assert score_item(item(30), decaying, now=NOW).value == 266.7
        ranked = score_backlog([item(134)], RICE, tiers=[], buckets=[], now=NOW)
        assert (ranked[0].rank, ranked[0].score.value) == (1, 266.7)
        assert ranked[0].score.freshness is not None
        assert ranked[0].score.freshness.stale

    def test_ice_decays_and_wsjf_has_nothing_to_decay(self) -> None:
        """ICE 8×6×5 with confidence 6 × 0.5 is 120; WSJF has no confidence input."""
        decay = FreshnessSpec(review_after_days=90, confidence_decay=0.5)
        ice = ModelSpec("ice", MODEL_INPUTS["ice"], decimals=1, freshness=decay)
        ice_item = WorkItem(
            "WEB-1",
            "t",
            "",
            "web",
            {"impact": 8, "confidence": 6, "ease": 5},
            inputs_changed=changed(100),
        )
        assert score_item(ice_item, ice, now=NOW).explanation == "ICE 8×3×5 = 120"
        wsjf = ModelSpec("wsjf", MODEL_INPUTS["wsjf"], decimals=1, freshness=decay)
        wsjf_item = replace(
            ice_item,
            inputs={"business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5},
        )
        score = score_item(wsjf_item, wsjf, now=NOW)
        assert score.value == 3.2
        assert score.freshness is not None
        assert score.freshness.decay is None


class TestWording:
    """Reports say how many days; the written explanation names the date (stable day to day)."""

    def test_rank_and_plans_say_the_days(self) -> None:
        """The reason ends with ``stale: inputs unchanged for 134 days``."""
        ranked = score_backlog([item(134)], RICE, tiers=[], buckets=[Cut("now")], now=NOW)
        assert explain_ranked(ranked[0]) == (
            "RICE 500×2×0.8/3 = 266.7 · rank 1/1 · now · stale: inputs unchanged for 134 days"
        )

    def test_the_written_explanation_names_the_date(self) -> None:
        """The explanation field says since when, so the next day's sync writes nothing."""
        today = score_backlog([item(134)], RICE, tiers=[], buckets=[], now=NOW)
        tomorrow = score_backlog(
            [item(134)], RICE, tiers=[], buckets=[], now=NOW + timedelta(days=1)
        )
        assert explanation_text(today[0]) == (
            "RICE 500×2×0.8/3 = 266.7 · stale: inputs unchanged since 2025-01-06"
        )
        assert explanation_text(tomorrow[0]) == explanation_text(today[0])

    def test_first_sighting_says_so(self) -> None:
        """A date priosync saw first is a lower bound, and the remark says so."""
        fresh = Freshness(changed(120, "first-seen"), 120, True, decay=0.5)
        assert freshness_text(fresh) == (
            "stale: inputs unchanged for at least 120 days (first seen by priosync; the "
            "tracker keeps no date), confidence × 0.5"
        )
        assert freshness_text(fresh, dated=True).startswith(
            "stale: inputs unchanged since 2025-01-20 or earlier"
        )

    def test_fresh_items_have_no_remark(self) -> None:
        """A fresh item's explanation is the plain one."""
        ranked = score_backlog([item(3)], RICE, tiers=[], buckets=[], now=NOW)
        assert explanation_text(ranked[0]) == "RICE 500×2×0.8/3 = 266.7"
