"""The fewest-moves order planner (scoring.order): properties and small cases."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priosync.domain import Move, Place
from scoring.order import (
    Order,
    apply_steps,
    fewest_moves,
    group_moves,
    longest_increasing,
)


def lis_length_brute(values: list[int]) -> int:
    """The textbook O(n²) longest increasing subsequence length, as a referee."""
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A current order of keys and a target: some of them (the ranked) in a ranking order."""
    size = draw(st.integers(min_value=0, max_value=40))
    current = [f"K-{i}" for i in range(size)]
    current = draw(st.permutations(current))
    ranked = [k for k in current if draw(st.booleans())]
    target = draw(st.permutations(ranked))
    return list(current), list(target)


def as_moves(current: list[str], target: list[str]) -> list[Move]:
    return [
        Move(key=s.key, source="web", url="", to=s.to, was=s.was)
        for s in fewest_moves(current, target)
    ]


def rank_request(order: Order, keys: list[str], place: Place) -> None:
    """What one Jira rank request does: the keys, in the order given, right after
    ``place.after`` or right before ``place.before``."""
    if place.after is not None:
        for key in reversed(keys):
            order.move(key, place)
    else:
        for key in keys:
            order.move(key, place)


class TestFewestMovesProperties:
    """After the planned moves the ranked items are in ranking order, nothing else moved."""

    @settings(max_examples=150, deadline=None)
    @given(orders())
    def test_ranked_items_end_in_ranking_order(self, case: tuple[list[str], list[str]]) -> None:
        """Applying the moves to any start puts the target keys in target order."""
        current, target = case
        after = apply_steps(current, fewest_moves(current, target))
        wanted = set(target)
        assert [k for k in after if k in wanted] == target
        assert sorted(after) == sorted(current)

    @settings(max_examples=150, deadline=None)
    @given(orders())
    def test_others_keep_their_relative_order(self, case: tuple[list[str], list[str]]) -> None:
        """Keys outside the target are never moved and keep their order among themselves."""
        current, target = case
        steps = fewest_moves(current, target)
        wanted = set(target)
        assert all(s.key in wanted for s in steps)
        after = apply_steps(current, steps)
        assert [k for k in after if k not in wanted] == [k for k in current if k not in wanted]

    @settings(max_examples=150, deadline=None)
    @given(orders())
    def test_moves_exactly_n_minus_lis(self, case: tuple[list[str], list[str]]) -> None:
        """The number of moved items is N minus the longest increasing subsequence."""
        current, target = case
        index = {k: i for i, k in enumerate(target)}
        values = [index[k] for k in current if k in index]
        steps = fewest_moves(current, target)
        assert len(steps) == len(target) - lis_length_brute(values)
        assert len({s.key for s in steps}) == len(steps)

    @settings(max_examples=100, deadline=None)
    @given(orders())
    def test_a_second_plan_moves_nothing(self, case: tuple[list[str], list[str]]) -> None:
        """Planned again on the result, nothing moves."""
        current, target = case
        after = apply_steps(current, fewest_moves(current, target))
        assert fewest_moves(after, target) == []

    @settings(max_examples=100, deadline=None)
    @given(orders())
    def test_each_move_records_where_it_was(self, case: tuple[list[str], list[str]]) -> None:
        """Each step's ``was`` is the item's place just before it; undoing in reverse restores
        the starting order exactly."""
        current, target = case
        steps = fewest_moves(current, target)
        order = Order(current)
        for step in steps:
            assert order.place_of(step.key) == step.was
            order.move(step.key, step.to)
            assert order.holds(step.key, step.to)
        for step in reversed(steps):
            assert order.holds(step.key, step.to)
            order.move(step.key, step.was)
        assert list(order) == current

    @settings(max_examples=100, deadline=None)
    @given(orders(), st.integers(min_value=1, max_value=7))
    def test_grouped_requests_give_the_same_order(
        self, case: tuple[list[str], list[str]], cap: int
    ) -> None:
        """Sending each group as one request (its keys placed in order next to the first
        move's anchor) gives the same order as the moves one by one."""
        current, target = case
        moves = as_moves(current, target)
        groups = group_moves(moves, cap)
        assert [m for g in groups for m in g] == moves
        order = Order(current)
        for group in groups:
            assert len(group) <= cap
            rank_request(order, [m.key for m in group], group[0].to)
        assert list(order) == apply_steps(current, moves)


class TestFewestMovesCases:
    """Named situations a PM meets."""

    def test_already_in_order_moves_nothing(self) -> None:
        """A backlog in ranking order needs no move."""
        keys = [f"W-{i}" for i in range(10)]
        assert fewest_moves(keys, keys) == []

    def test_one_item_risen_moves_one_item(self) -> None:
        """An item whose score rose from the bottom to third is the one item that moves."""
        current = ["A", "B", "C", "D", "E", "X"]
        target = ["A", "B", "X", "C", "D", "E"]
        steps = fewest_moves(current, target)
        assert [(s.key, s.to, s.was) for s in steps] == [("X", Place(after="B"), Place(after="E"))]

    def test_new_top_item_goes_before_the_first_kept(self) -> None:
        """An item ranked above everything in place goes right before the first kept item,
        below unranked items at the top (they keep their places)."""
        current = ["pinned", "A", "B", "X"]
        target = ["X", "A", "B"]
        steps = fewest_moves(current, target)
        assert [(s.key, s.to) for s in steps] == [("X", Place(before="A"))]
        assert apply_steps(current, steps) == ["pinned", "X", "A", "B"]

    def test_reversed_backlog_keeps_one(self) -> None:
        """A fully reversed backlog keeps one item and moves the rest."""
        current = [f"W-{i}" for i in range(8)]
        target = list(reversed(current))
        assert len(fewest_moves(current, target)) == 7

    def test_random_thousand_is_bounded(self) -> None:
        """1,000 shuffled items move exactly N − LIS, far fewer than all of them."""
        rng = random.Random(14)
        target = [f"W-{i}" for i in range(1000)]
        current = target[:]
        rng.shuffle(current)
        index = {k: i for i, k in enumerate(target)}
        lis = len(longest_increasing([index[k] for k in current]))
        steps = fewest_moves(current, target)
        assert len(steps) == 1000 - lis
        assert apply_steps(current, steps) == target

    def test_refuses_a_target_key_not_in_the_order(self) -> None:
        """A ranked key the order does not hold is a bug upstream, said plainly."""
        with pytest.raises(ValueError, match="Z is not in the current order"):
            fewest_moves(["A"], ["A", "Z"])


class TestLongestIncreasing:
    """The LIS helper against the quadratic referee."""

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=30), max_size=40))
    def test_matches_brute_force(self, values: list[int]) -> None:
        """Its length matches the O(n²) answer and it is strictly increasing."""
        found = longest_increasing(values)
        picked = [values[i] for i in found]
        assert len(found) == lis_length_brute(values)
        assert found == sorted(found)
        assert all(a < b for a, b in itertools.pairwise(picked))


class TestGroupMoves:
    """Packing chained moves into requests."""

    def test_chain_splits_at_the_cap_and_continues_after_the_last(self) -> None:
        """A chain longer than the cap becomes requests whose anchors are in place."""
        moves = [Move(f"K{i}", "web", "", Place(after=f"K{i - 1}"), Place()) for i in range(1, 6)]
        groups = group_moves(moves, 2)
        assert [[m.key for m in g] for g in groups] == [["K1", "K2"], ["K3", "K4"], ["K5"]]
        assert groups[1][0].to == Place(after="K2")

    def test_other_sources_never_share_a_request(self) -> None:
        """Moves of two sources are separate requests even when they look chained."""
        moves = [
            Move("A", "web", "", Place(after="Z"), Place()),
            Move("B", "app", "", Place(after="A"), Place()),
        ]
        assert len(group_moves(moves, 50)) == 2
