"""Property tests (hypothesis) for decoding, RICE, ranking, tiers and buckets."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from priosync.domain import Cut, ModelSpec, RankedItem, Score, WorkItem
from scoring import (
    MODEL_INPUTS,
    check_formula,
    decode_value,
    rank_backlog,
    score_inputs,
)

SETTINGS = settings(max_examples=200, deadline=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["80%", "1,200", " High ", "xl", "1,20", "-0", "0.0%", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
scales = st.none() | st.dictionaries(
    st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True), max_size=5
)

RICE = ModelSpec("rice", MODEL_INPUTS["rice"], decimals=1)

positive = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)
non_negative = st.floats(min_value=0, max_value=1e4, allow_nan=False)
fraction = st.floats(min_value=0, max_value=1, allow_nan=False)


def rice_value(reach: float, impact: float, confidence: float, effort: float) -> float:
    inputs = {"reach": reach, "impact": impact, "confidence": confidence, "effort": effort}
    value = score_inputs(inputs, RICE).value
    assert value is not None
    return value


@st.composite
def cuts(draw: st.DrawFn) -> list[Cut]:
    """A list of differently named cuts with one condition each (or none)."""
    count = draw(st.integers(min_value=0, max_value=4))
    result = []
    for index in range(count):
        kind = draw(st.sampled_from(["min_score", "top", "top_percent", "capacity", "all"]))
        name = f"c{index}"
        if kind == "min_score":
            result.append(Cut(name, min_score=draw(st.floats(min_value=0, max_value=100))))
        elif kind == "top":
            result.append(Cut(name, top=draw(st.integers(min_value=0, max_value=12))))
        elif kind == "top_percent":
            result.append(Cut(name, top_percent=draw(st.floats(min_value=0, max_value=100))))
        elif kind == "capacity":
            result.append(Cut(name, capacity=draw(st.floats(min_value=0, max_value=30))))
        else:
            result.append(Cut(name))
    return result


@st.composite
def backlogs(draw: st.DrawFn) -> tuple[list[WorkItem], list[Score]]:
    """Items with unique (key, source) and parallel scores, some unscored."""
    count = draw(st.integers(min_value=0, max_value=25))
    numbers = draw(
        st.lists(
            st.integers(min_value=1, max_value=60), min_size=count, max_size=count, unique=True
        )
    )
    items, scores = [], []
    for number in numbers:
        prefix = draw(st.sampled_from(["WEB-", "web-", "acme/app#", "API-"]))
        source = draw(st.sampled_from(["jira", "gh"]))
        items.append(WorkItem(f"{prefix}{number}", "t", "u", f"{source}{number}", {}))
        value = draw(st.none() | st.sampled_from([0.0, 1.0, 2.5, 10.0, 50.0, 99.9]))
        effort = draw(st.floats(min_value=0.1, max_value=10).map(lambda f: round(f, 1)))
        scores.append(Score(value, terms={"effort": effort}))
    return items, scores


def cut_index(name: str | None, cuts_: Sequence[Cut]) -> int:
    names = [c.name for c in cuts_]
    return len(names) if name is None else names.index(name)


def identity(
    ranked: Sequence[RankedItem],
) -> list[tuple[str, str, int | None, str | None, str | None]]:
    return [(r.item.key, r.item.source, r.rank, r.tier, r.bucket) for r in ranked]


class TestDecodingProperties:
    """Decoding never raises and always decides."""

    @SETTINGS
    @given(raw=json_values, scale=scales, percent=st.booleans(), name=st.text(max_size=10))
    def test_decode_never_raises(
        self, raw: object, scale: dict[str, float] | None, percent: bool, name: str
    ) -> None:
        """Any JSON-like value yields either a finite number or a missing reason."""
        decoded = decode_value(name, raw, scale=scale, percent=percent)  # type: ignore[arg-type]
        if decoded.value is None:
            assert decoded.missing is not None
            assert decoded.missing.reason
            assert "\n" not in decoded.missing.reason
        else:
            assert decoded.missing is None
            assert math.isfinite(decoded.value)

    @SETTINGS
    @given(
        model=st.sampled_from(["rice", "ice", "ice-avg", "wsjf", "formula"]),
        inputs=st.dictionaries(
            st.sampled_from(["reach", "impact", "confidence", "effort", "ease", "job_size", "a"]),
            json_values,
        ),
        formula=st.text(max_size=20),
    )
    def test_score_inputs_never_raises(
        self, model: str, inputs: dict[str, object], formula: str
    ) -> None:
        """Any inputs and any formula text give a Score: a finite value or missing reasons."""
        spec = ModelSpec(model, ("a", "reach"), formula=formula)  # type: ignore[arg-type]
        score = score_inputs(inputs, spec)  # type: ignore[arg-type]
        assert (score.value is None) == bool(score.missing)
        assert score.value is None or math.isfinite(score.value)

    @SETTINGS
    @given(expr=st.text(max_size=40))
    def test_check_formula_never_raises(self, expr: str) -> None:
        """Any text gets None or a message from check_formula."""
        result = check_formula(expr, ("reach", "impact"))
        assert result is None or isinstance(result, str)


class TestRiceMonotonic:
    """RICE never decreases when reach, impact or confidence grows or effort shrinks."""

    @SETTINGS
    @given(
        base=st.tuples(non_negative, non_negative, fraction, positive),
        grown=st.tuples(non_negative, non_negative, fraction, positive),
    )
    def test_growing_inputs_never_lower_the_score(
        self, base: tuple[float, float, float, float], grown: tuple[float, float, float, float]
    ) -> None:
        """Taking the max of reach/impact/confidence and the min of effort never lowers RICE."""
        better = (
            max(base[0], grown[0]),
            max(base[1], grown[1]),
            max(base[2], grown[2]),
            min(base[3], grown[3]),
        )
        assert rice_value(*better) >= rice_value(*base)


class TestRankingProperties:
    """Ranking, tiers and buckets."""

    @SETTINGS
    @given(backlog=backlogs(), tiers=cuts(), buckets=cuts(), data=st.data())
    def test_ranking_is_a_deterministic_permutation(
        self,
        backlog: tuple[list[WorkItem], list[Score]],
        tiers: list[Cut],
        buckets: list[Cut],
        data: st.DataObject,
    ) -> None:
        """Shuffling the input changes nothing, and every item comes back exactly once."""
        items, scores = backlog
        order = data.draw(st.permutations(range(len(items))))
        first = rank_backlog(items, scores, tiers=tiers, buckets=buckets, effort_input="effort")
        second = rank_backlog(
            [items[i] for i in order],
            [scores[i] for i in order],
            tiers=tiers,
            buckets=buckets,
            effort_input="effort",
        )
        assert identity(first) == identity(second)
        assert sorted(r.item.source for r in first) == sorted(i.source for i in items)
        ranked = [r for r in first if r.rank is not None]
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        values = [r.score.value for r in ranked]
        assert values == sorted(values, key=lambda v: -(v or 0.0))

    @SETTINGS
    @given(backlog=backlogs(), tiers=cuts(), buckets=cuts())
    def test_higher_rank_never_lands_later(
        self, backlog: tuple[list[WorkItem], list[Score]], tiers: list[Cut], buckets: list[Cut]
    ) -> None:
        """Tier and bucket positions never go backwards along the ranking."""
        items, scores = backlog
        ranked = [
            r
            for r in rank_backlog(
                items, scores, tiers=tiers, buckets=buckets, effort_input="effort"
            )
            if r.rank is not None
        ]
        tier_positions = [cut_index(r.tier, tiers) for r in ranked]
        bucket_positions = [cut_index(r.bucket, buckets) for r in ranked]
        assert tier_positions == sorted(tier_positions)
        assert bucket_positions == sorted(bucket_positions)

    @SETTINGS
    @given(backlog=backlogs(), buckets=cuts())
    def test_capacity_is_never_exceeded_except_by_one_oversized_item(
        self, backlog: tuple[list[WorkItem], list[Score]], buckets: list[Cut]
    ) -> None:
        """A capacity bucket's efforts sum to at most its capacity, or it holds one item."""
        items, scores = backlog
        ranked = rank_backlog(items, scores, tiers=(), buckets=buckets, effort_input="effort")
        members: dict[str, list[float]] = defaultdict(list)
        for r in ranked:
            if r.bucket is not None:
                members[r.bucket].append(r.score.terms["effort"])
        for cut in buckets:
            if cut.capacity is None or cut.name not in members:
                continue
            sizes = members[cut.name]
            total = sum(Fraction(repr(s)) for s in sizes)
            assert total <= Fraction(repr(cut.capacity)) or len(sizes) == 1
