"""Ranking order, natural keys, tiers, buckets and explanations."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from priosync.domain import Cut, Missing, ModelSpec, RankedItem, Score, WorkItem
from scoring import (
    MODEL_INPUTS,
    assign_cuts,
    effort_input_for,
    explain_ranked,
    natural_key,
    rank_backlog,
    score_backlog,
)


def item(key: str, source: str = "web", **inputs: float | str | None) -> WorkItem:
    return WorkItem(
        key=key, title=key, url=f"https://t.example/{key}", source=source, inputs=inputs
    )


def scored(value: float | None, effort: float | None = None) -> Score:
    terms = {} if effort is None else {"effort": effort}
    if value is None:
        return Score(None, terms=terms, missing=(Missing("reach", "Reach: empty"),))
    return Score(value, terms=terms, explanation=f"X = {value}")


def rank(
    entries: Sequence[tuple[str, float | None] | tuple[str, float | None, float]],
    *,
    tiers: Sequence[Cut] = (),
    buckets: Sequence[Cut] = (),
    effort_input: str | None = "effort",
) -> tuple[RankedItem, ...]:
    items = [item(e[0]) for e in entries]
    scores = [scored(e[1], e[2] if len(e) > 2 else None) for e in entries]
    return rank_backlog(items, scores, tiers=tiers, buckets=buckets, effort_input=effort_input)


def keys(ranked: Sequence[RankedItem]) -> list[str]:
    return [r.item.key for r in ranked]


def buckets_of(ranked: Sequence[RankedItem]) -> dict[str, str | None]:
    return {r.item.key: r.bucket for r in ranked}


class TestNaturalKey:
    """Natural ordering of item keys."""

    @pytest.mark.parametrize(
        ("before", "after"),
        [
            ("WEB-9", "WEB-36"),
            ("acme/app#9", "acme/app#36"),
            ("WEB-2", "web-10"),
            ("web-2", "WEB-10"),
            ("API-100", "WEB-1"),
            ("WEB-1", "WEB-1a"),
            ("v2.9", "v2.10"),
            ("1", "a"),
            ("WEB-9", "WEB-" + "1" + "0" * 5000),
        ],
    )
    def test_orders_naturally(self, before: str, after: str) -> None:
        """Digit runs compare by value, text case-insensitively, any length of digits."""
        assert natural_key(before) < natural_key(after)

    def test_case_and_leading_zeros_tie(self) -> None:
        """Case and leading zeros do not change the natural key."""
        assert natural_key("WEB-009") == natural_key("web-9")


class TestRankOrder:
    """Scored items by score, then key; unscored items last."""

    def test_score_descending_then_natural_key(self) -> None:
        """Equal scores fall back to natural key order; ranks are 1..N without gaps."""
        ranked = rank([("WEB-36", 5), ("WEB-9", 5), ("WEB-100", 7), ("WEB-2", 1)])
        assert keys(ranked) == ["WEB-100", "WEB-9", "WEB-36", "WEB-2"]
        assert [r.rank for r in ranked] == [1, 2, 3, 4]
        assert {r.of for r in ranked} == {4}

    def test_source_breaks_key_ties(self) -> None:
        """Two sources with the same key and score are ordered by source name."""
        items = [item("X-1", "zeta"), item("X-1", "alpha")]
        ranked = rank_backlog(
            items, [scored(1), scored(1)], tiers=(), buckets=(), effort_input=None
        )
        assert [r.item.source for r in ranked] == ["alpha", "zeta"]

    def test_unscored_come_last_in_key_order(self) -> None:
        """Unscored items follow the ranked ones with no rank, tier or bucket."""
        ranked = rank(
            [("WEB-10", None), ("WEB-3", 2), ("WEB-2", None)],
            tiers=[Cut("Low")],
            buckets=[Cut("later")],
        )
        assert keys(ranked) == ["WEB-3", "WEB-2", "WEB-10"]
        assert [(r.rank, r.tier, r.bucket, r.of) for r in ranked[1:]] == [
            (None, None, None, 1),
            (None, None, None, 1),
        ]

    def test_nan_score_is_unscored(self) -> None:
        """A NaN value cannot be ranked."""
        ranked = rank([("A-1", float("nan")), ("A-2", 1)])
        assert [(r.item.key, r.rank) for r in ranked] == [("A-2", 1), ("A-1", None)]

    def test_empty_backlog(self) -> None:
        """Ranking nothing returns an empty tuple."""
        assert rank([]) == ()

    def test_nothing_scored(self) -> None:
        """When no item is scored every item comes back unranked, in key order, with of 0."""
        ranked = rank([("B-2", None), ("B-1", None)], tiers=[Cut("Low")], buckets=[Cut("later")])
        assert [(r.item.key, r.rank, r.tier, r.bucket, r.of) for r in ranked] == [
            ("B-1", None, None, None, 0),
            ("B-2", None, None, None, 0),
        ]

    def test_scores_must_be_parallel(self) -> None:
        """A length mismatch is a programming error and says so."""
        with pytest.raises(ValueError, match="parallel"):
            rank_backlog([item("A-1")], [], tiers=(), buckets=(), effort_input=None)


class TestTiers:
    """Priority tiers: first matching cut wins."""

    TIERS = (
        Cut("Highest", top=2),
        Cut("High", min_score=100),
        Cut("Medium", min_score=20),
        Cut("Low"),
    )

    def test_design_tiers(self) -> None:
        """top, then min_score thresholds, then the catch-all."""
        ranked = rank(
            [("A-1", 500), ("A-2", 400), ("A-3", 100), ("A-4", 99.9), ("A-5", 20), ("A-6", 3)],
            tiers=self.TIERS,
        )
        assert [r.tier for r in ranked] == ["Highest", "Highest", "High", "Medium", "Medium", "Low"]

    def test_tie_at_top_cut_uses_rank_order(self) -> None:
        """top = 2 takes exactly two items even when the third has the same score."""
        ranked = rank(
            [("A-3", 50), ("A-1", 50), ("A-2", 50)], tiers=[Cut("Top", top=2), Cut("Rest")]
        )
        assert [(r.item.key, r.tier) for r in ranked] == [
            ("A-1", "Top"),
            ("A-2", "Top"),
            ("A-3", "Rest"),
        ]

    def test_min_score_keeps_ties_together(self) -> None:
        """Equal scores always land in the same min_score tier."""
        ranked = rank([("A-1", 20), ("A-2", 20), ("A-3", 19.9)], tiers=[Cut("M", min_score=20)])
        assert [r.tier for r in ranked] == ["M", "M", None]

    @pytest.mark.parametrize(
        ("count", "percent", "expected"),
        [
            (10, 30, 3),
            (25, 10, 3),
            (10, 1, 1),
            (10, 100, 10),
            (3, 33.3, 1),
            (3, 33.4, 2),
            (10, 0, 0),
        ],
    )
    def test_top_percent_rounds_up(self, count: int, percent: float, expected: int) -> None:
        """top_percent takes the first ceil(N × p / 100) ranks, computed exactly."""
        names = assign_cuts([1.0] * count, [Cut("T", top_percent=percent)], sizes=[1.0] * count)
        assert names.count("T") == expected

    def test_no_match_gives_none(self) -> None:
        """Without a catch-all an item below every threshold has no tier."""
        ranked = rank([("A-1", 5)], tiers=[Cut("High", min_score=100)])
        assert ranked[0].tier is None

    def test_conditions_on_one_cut_all_hold(self) -> None:
        """A cut that sets two conditions needs both."""
        ranked = rank([("A-1", 50), ("A-2", 150)], tiers=[Cut("X", min_score=100, top=2), Cut("Y")])
        assert [(r.item.key, r.tier) for r in ranked] == [("A-2", "X"), ("A-1", "Y")]


class TestCapacityBuckets:
    """Strict capacity buckets by cumulative effort."""

    ROADMAP = (Cut("now", capacity=6), Cut("next", capacity=12), Cut("later"))

    def test_design_example(self) -> None:
        """now takes efforts summing to ≤ 6, next the following ≤ 12, later the rest."""
        ranked = rank(
            [("A-1", 90, 2), ("A-2", 80, 4), ("A-3", 70, 5), ("A-4", 60, 7), ("A-5", 50, 1)],
            buckets=self.ROADMAP,
        )
        assert buckets_of(ranked) == {
            "A-1": "now",
            "A-2": "now",
            "A-3": "next",
            "A-4": "next",
            "A-5": "later",
        }

    def test_first_misfit_closes_the_bucket(self) -> None:
        """A smaller, lower-ranked item cannot slip into a bucket once it has closed."""
        ranked = rank([("A-1", 90, 5), ("A-2", 80, 3), ("A-3", 70, 1)], buckets=self.ROADMAP)
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "next", "A-3": "next"}

    def test_oversized_item_takes_empty_bucket_alone(self) -> None:
        """The top item with effort 10 > 6 takes 'now' alone; the next item starts 'next'."""
        ranked = rank([("A-1", 90, 10), ("A-2", 80, 1), ("A-3", 70, 13)], buckets=self.ROADMAP)
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "next", "A-3": "later"}

    def test_oversized_item_after_others_moves_on(self) -> None:
        """An oversized item arriving at a non-empty bucket closes it and tries the next one."""
        ranked = rank([("A-1", 90, 1), ("A-2", 80, 50), ("A-3", 70, 1)], buckets=self.ROADMAP)
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "next", "A-3": "later"}

    def test_exact_fit_and_decimal_sums(self) -> None:
        """0.1 + 0.2 fits a capacity of 0.3 exactly (no float noise)."""
        ranked = rank(
            [("A-1", 3, 0.1), ("A-2", 2, 0.2), ("A-3", 1, 0.1)],
            buckets=[Cut("now", capacity=0.3), Cut("later")],
        )
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "now", "A-3": "later"}

    def test_without_effort_input_capacity_counts_items(self) -> None:
        """With no effort input each item has size 1."""
        ranked = rank(
            [("A-1", 3), ("A-2", 2), ("A-3", 1)],
            buckets=[Cut("now", capacity=2), Cut("later")],
            effort_input=None,
        )
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "now", "A-3": "later"}

    def test_absent_size_counts_zero(self) -> None:
        """An item whose terms lack the effort input takes no capacity."""
        ranked = rank(
            [("A-1", 3), ("A-2", 2, 2), ("A-3", 1, 0.5)],
            buckets=[Cut("now", capacity=2), Cut("later")],
        )
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "now", "A-3": "later"}

    def test_mixed_cuts(self) -> None:
        """A top bucket before a capacity bucket hands on the rest in rank order."""
        ranked = rank(
            [("A-1", 9, 100), ("A-2", 8, 3), ("A-3", 7, 3), ("A-4", 6, 1)],
            buckets=[Cut("now", top=1), Cut("next", capacity=5), Cut("later")],
        )
        assert buckets_of(ranked) == {"A-1": "now", "A-2": "next", "A-3": "later", "A-4": "later"}


class TestScoreBacklog:
    """The one-call entry point."""

    def test_scores_ranks_and_buckets_with_model_effort(self) -> None:
        """RICE items are scored, ranked and bucketed by their effort."""
        spec = ModelSpec("rice", MODEL_INPUTS["rice"])
        items = [
            item("WEB-9", reach=100, impact=1, confidence=1, effort=4),
            item("WEB-36", reach=500, impact=2, confidence="80%", effort=3),
            item("WEB-1", reach=10, impact=1, confidence=1, effort=0),
            item("WEB-2", reach=60, impact=1, confidence=1, effort=3),
        ]
        ranked = score_backlog(
            items,
            spec,
            tiers=[Cut("High", min_score=100), Cut("Low")],
            buckets=TestCapacityBuckets.ROADMAP,
        )
        assert [(r.item.key, r.score.value, r.rank, r.tier, r.bucket) for r in ranked] == [
            ("WEB-36", 266.7, 1, "High", "now"),
            ("WEB-9", 25.0, 2, "Low", "next"),
            ("WEB-2", 20.0, 3, "Low", "next"),
            ("WEB-1", None, None, None, None),
        ]

    def test_explicit_effort_input_wins(self) -> None:
        """spec.effort_input overrides the model's default effort input."""
        spec = ModelSpec("ice", MODEL_INPUTS["ice"], effort_input="ease")
        items = [
            item("A-1", impact=10, confidence=10, ease=5),
            item("A-2", impact=9, confidence=9, ease=5),
        ]
        ranked = score_backlog(
            items, spec, tiers=(), buckets=[Cut("now", capacity=5), Cut("later")]
        )
        assert [r.bucket for r in ranked] == ["now", "later"]


class TestExplainRanked:
    """One-line reasons for plans."""

    def test_ranked_item(self) -> None:
        """Explanation, rank of N and bucket joined with middle dots."""
        r = RankedItem(
            item("WEB-1"),
            Score(266.7, explanation="RICE 500×2×0.8/3 = 266.7"),
            rank=3,
            tier="High",
            bucket="now",
            of=140,
        )
        assert explain_ranked(r) == "RICE 500×2×0.8/3 = 266.7 · rank 3/140 · now"
        assert (
            explain_ranked(r, with_tier=True)
            == "RICE 500×2×0.8/3 = 266.7 · rank 3/140 · High · now"
        )

    def test_ranked_without_bucket(self) -> None:
        """No bucket, no trailing part."""
        r = RankedItem(item("WEB-1"), Score(7.0, explanation="ICE (8+7+6)/3 = 7"), rank=1, of=1)
        assert explain_ranked(r) == "ICE (8+7+6)/3 = 7 · rank 1/1"

    def test_unscored_item_lists_reasons(self) -> None:
        """Missing reasons are joined with semicolons."""
        missing = (
            Missing("reach", "Reach: empty"),
            Missing("effort", "Effort: must be greater than 0, found 0"),
        )
        r = RankedItem(item("WEB-1"), Score(None, missing=missing))
        assert explain_ranked(r) == "Reach: empty; Effort: must be greater than 0, found 0"


class TestCapacityLimits:
    """Capacity cuts at their limits."""

    def test_infinite_capacity_takes_everything(self) -> None:
        """capacity = inf never closes."""
        ranked = rank(
            [("A-1", 3, 1e300), ("A-2", 2, 1e300)],
            buckets=[Cut("now", capacity=float("inf")), Cut("later")],
        )
        assert [r.bucket for r in ranked] == ["now", "now"]

    def test_zero_capacity_takes_only_the_oversized_top_item(self) -> None:
        """capacity = 0 holds the first item alone (it is oversized), then closes."""
        ranked = rank(
            [("A-1", 3, 1), ("A-2", 2, 1)],
            buckets=[Cut("now", capacity=0), Cut("later")],
        )
        assert [r.bucket for r in ranked] == ["now", "later"]

    def test_unscored_items_take_no_capacity(self) -> None:
        """An unscored item between scored ones does not use up a bucket."""
        ranked = rank(
            [("A-1", 3, 3), ("A-2", None, 3), ("A-3", 1, 3)],
            buckets=[Cut("now", capacity=6), Cut("later")],
        )
        assert buckets_of(ranked) == {"A-1": "now", "A-3": "now", "A-2": None}


class TestSmallHelpers:
    """Fallbacks of the explanation and effort-input helpers."""

    def test_unscored_without_reasons(self) -> None:
        """An unranked item with no recorded reason says it was not scored."""
        assert explain_ranked(RankedItem(item("A-1"), Score(None))) == "not scored"

    def test_effort_input_for(self) -> None:
        """The spec's effort input wins over the model default, which may be None."""
        assert effort_input_for(ModelSpec("rice", ())) == "effort"
        assert effort_input_for(ModelSpec("wsjf", ())) == "job_size"
        assert effort_input_for(ModelSpec("ice", ())) is None
        assert effort_input_for(ModelSpec("rice", (), effort_input="reach")) == "reach"
