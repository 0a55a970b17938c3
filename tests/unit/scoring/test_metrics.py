"""Key metrics: the weight multiplies the unrounded score, once; the name's sources and problems;
how buckets split across metrics."""

from __future__ import annotations

from dataclasses import replace

from priosync.domain import Cut, MetricSpec, ModelSpec, Outputs, RankedItem, RawValue, WorkItem
from scoring import (
    METRIC_INPUT,
    MODEL_INPUTS,
    capacity_split,
    describe_split,
    score_backlog,
    score_item,
)
from scoring.metrics import Weight, metric_weight

WEIGHTS = {"Activation": 1.5, "Retention": 1.2, "Revenue": 2.0, "Net revenue": 1.1}
BY_FIELD = MetricSpec(weights=WEIGHTS)
BY_LABEL = MetricSpec(weights=WEIGHTS, label_prefix="metric:")
RICE = ModelSpec(
    "rice",
    MODEL_INPUTS["rice"],
    percent_inputs=frozenset({"confidence"}),
    decimals=1,
    effort_input="effort",
    metrics=BY_FIELD,
)


def item(
    key: str = "WEB-1",
    *,
    metric: RawValue = None,
    labels: frozenset[str] = frozenset(),
    reach: float = 500,
    impact: RawValue = 2,
    confidence: RawValue = 0.8,
    effort: float = 3,
) -> WorkItem:
    inputs: dict[str, RawValue] = {
        "reach": reach,
        "impact": impact,
        "confidence": confidence,
        "effort": effort,
    }
    if metric is not None:
        inputs[METRIC_INPUT] = metric
    return WorkItem(key, key, "", "web", inputs, current=Outputs(labels=labels))


class TestWeighting:
    """The score is the model's score times the metric's weight, rounded once at the end."""

    def test_the_issues_example(self) -> None:
        """RICE 500×2×0.8/3 weighed by Retention 1.2 is 320, and the explanation shows it."""
        score = score_item(item(metric="Retention"), RICE)
        assert score.value == 320
        assert score.explanation == "RICE 500×2×0.8/3 = 266.7 × Retention 1.2 = 320"
        assert score.metric == "Retention"
        assert score.terms[METRIC_INPUT] == 1.2

    def test_rounded_once_not_twice(self) -> None:
        """2×1×1/3 = 0.666…; × 1.5 is 1.0 (rounding first would give 0.7 × 1.5 = 1.1)."""
        score = score_item(
            item(metric="Activation", reach=2, impact=1, confidence=1, effort=3), RICE
        )
        assert score.value == 1.0
        assert score.explanation == "RICE 2×1×1/3 = 0.7 × Activation 1.5 = 1"

    def test_no_metric_weighs_the_default(self) -> None:
        """Without a metric a default of 1 leaves score and explanation alone; 0.8 is shown."""
        plain = score_item(item(), RICE)
        assert (plain.value, plain.explanation, plain.metric) == (
            266.7,
            "RICE 500×2×0.8/3 = 266.7",
            None,
        )
        lower = replace(RICE, metrics=replace(BY_FIELD, default=0.8))
        weighed = score_item(item(), lower)
        assert weighed.value == 213.3
        assert weighed.explanation == "RICE 500×2×0.8/3 = 266.7 × no key metric 0.8 = 213.3"

    def test_weights_reorder_the_ranking(self) -> None:
        """A Revenue item outranks a higher raw score moving no metric."""
        ranking = score_backlog(
            [item("WEB-1", reach=600), item("WEB-2", metric="Revenue", reach=400)],
            RICE,
            tiers=[],
            buckets=[],
        )
        assert [(r.item.key, r.score.value) for r in ranking] == [
            ("WEB-2", 426.7),
            ("WEB-1", 320),
        ]

    def test_a_model_without_metrics_is_untouched(self) -> None:
        """Without ``metrics`` the metric input is ignored and no weight term is added."""
        score = score_item(item(metric="Revenue"), replace(RICE, metrics=None))
        assert score.value == 266.7
        assert METRIC_INPUT not in score.terms


class TestNaming:
    """Where the metric's name comes from, and what makes it missing input."""

    def test_field_values_match_ignoring_case_and_separators(self) -> None:
        """'retention', ' REVENUE ' and 'net-revenue' name the configured metrics."""
        assert metric_weight(item(metric="retention"), BY_FIELD) == Weight("Retention", 1.2)
        assert metric_weight(item(metric=" REVENUE "), BY_FIELD) == Weight("Revenue", 2.0)
        assert metric_weight(item(metric="net-revenue"), BY_FIELD) == Weight("Net revenue", 1.1)

    def test_labels_with_the_prefix_name_it(self) -> None:
        """``metric:retention`` names Retention; other labels and the field are ignored."""
        labelled = item(labels=frozenset({"metric:retention", "customer", "roadmap:now"}))
        assert metric_weight(labelled, BY_LABEL) == Weight("Retention", 1.2)
        assert metric_weight(item(metric="Revenue"), BY_LABEL) == Weight(None, 1.0)

    def test_unknown_name_is_missing_with_the_known_ones(self) -> None:
        """An unknown metric makes the item unscored; the reason lists the weights."""
        score = score_item(item(metric="Churn"), RICE)
        assert score.value is None
        assert [m.reason for m in score.missing] == [
            "Key metric: 'Churn' is not one of the weights "
            "(Activation, Retention, Revenue, Net revenue)"
        ]
        assert score.terms["reach"] == 500

    def test_two_different_metrics_are_missing_input(self) -> None:
        """Two labels naming different metrics ask for one; the same one twice is fine."""
        two = item(labels=frozenset({"metric:retention", "metric:revenue"}))
        same = item(labels=frozenset({"metric:Retention", "metric:retention"}))
        missing = metric_weight(two, BY_LABEL)
        assert not isinstance(missing, Weight)
        assert missing.reason == (
            "Key metric: names 2 metrics (Retention, Revenue); an item moves one"
        )
        assert metric_weight(same, BY_LABEL) == Weight("Retention", 1.2)
        assert metric_weight(item(metric=["Revenue", "revenue"]), BY_FIELD) == Weight(
            "Revenue", 2.0
        )

    def test_default_missing_asks_for_a_name(self) -> None:
        """With ``default = "missing"`` an item naming none is unscored, with how to fix it."""
        required = MetricSpec(weights={"Revenue": 2.0}, default=None, label_prefix="metric:")
        found = metric_weight(item(), required)
        assert not isinstance(found, Weight)
        assert found.reason == (
            "Key metric: none named; add a label metric:<name> with one of Revenue"
        )

    def test_missing_metric_and_missing_inputs_are_both_reported(self) -> None:
        """An empty input and an unknown metric give two reasons, inputs first."""
        score = score_item(item(metric="Churn", impact=None), RICE)
        assert [m.input for m in score.missing] == ["impact", METRIC_INPUT]


def split_ranking() -> tuple[RankedItem, ...]:
    items = [
        item("WEB-1", metric="Revenue", reach=9000, effort=3),
        item("WEB-2", metric="Retention", reach=5000, effort=1.25),
        item("WEB-3", reach=5000, effort=0.75),
        item("WEB-4", metric="Revenue", reach=100, effort=5),
    ]
    return score_backlog(items, RICE, tiers=[], buckets=[Cut("now", capacity=5), Cut("later")])


class TestCapacitySplit:
    """Each bucket's capacity (its items' efforts) split across metrics, with targets."""

    def test_shares_by_effort_with_none_last(self) -> None:
        """now holds 3 + 1.25 + 0.75 of effort: Revenue 60 %, Retention 25 %, none 15 %."""
        splits = capacity_split(split_ranking(), effort_input="effort")
        assert [describe_split(s) for s in splits] == [
            "now: Revenue 60 %, Retention 25 %, none 15 %",
            "later: Revenue 100 %",
        ]
        assert (splits[0].size, splits[0].items) == (5.0, 3)

    def test_targets_print_the_gap_in_every_bucket(self) -> None:
        """A Revenue target of 50 % is +10 points in now; Retention 30 % is missing in later."""
        splits = capacity_split(
            split_ranking(), effort_input="effort", targets={"Revenue": 0.5, "Retention": 0.3}
        )
        assert [describe_split(s) for s in splits] == [
            "now: Revenue 60 % (target 50 %, +10 pts), Retention 25 % (target 30 %, −5 pts), "
            "none 15 %",
            "later: Revenue 100 % (target 50 %, +50 pts), Retention 0 % (target 30 %, −30 pts)",
        ]

    def test_without_effort_items_are_counted(self) -> None:
        """With no effort input each item counts 1; equal shares list by name."""
        splits = capacity_split(split_ranking(), effort_input=None)
        assert describe_split(splits[0]) == "now: Retention 33 %, Revenue 33 %, none 33 %"
