"""Blockers come first: the lifting rule (scoring.dependencies), by example and by property."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from priosync.domain import (
    Cut,
    Link,
    ModelSpec,
    Outputs,
    RankedItem,
    RawValue,
    Score,
    WorkItem,
)
from scoring import MODEL_INPUTS, cycle_warnings, rank_backlog, score_backlog
from scoring.dependencies import strongly_connected
from sync.plan import PlanRules, explanation_text, reason_for

SETTINGS = settings(max_examples=200, deadline=None)
RICE = ModelSpec("rice", MODEL_INPUTS["rice"], percent_inputs=frozenset({"confidence"}))

Edge = tuple[int, int]


def key(n: int) -> str:
    return f"WEB-{n + 1}"


def build(
    scores: Sequence[float],
    edges: Sequence[Edge],
    *,
    sides: Sequence[bool] = (),
    efforts: Sequence[float] = (),
    done: frozenset[int] = frozenset(),
) -> tuple[list[WorkItem], list[Score]]:
    """Items ``WEB-1..`` with these scores; edge (a, b) means a blocks b, written on the
    blocker's ``blocks`` side or (``sides[i]`` False) on the blocked item's ``blocked_by``."""
    blocks: dict[int, list[Link]] = {}
    blocked_by: dict[int, list[Link]] = {}
    for i, (a, b) in enumerate(edges):
        if sides[i] if i < len(sides) else True:
            blocks.setdefault(a, []).append(Link(key(b)))
        else:
            blocked_by.setdefault(b, []).append(Link(key(a)))
    items = [
        WorkItem(
            key=key(n),
            title=key(n),
            url="",
            source="web",
            inputs={},
            blocks=tuple(blocks.get(n, ())),
            blocked_by=tuple(blocked_by.get(n, ())),
            done=n in done,
        )
        for n in range(len(scores))
    ]
    terms = [{"effort": efforts[n] if n < len(efforts) else 1.0} for n in range(len(scores))]
    return items, [Score(v, terms=t) for v, t in zip(scores, terms, strict=True)]


def ranked(
    scores: Sequence[float],
    edges: Sequence[Edge] = (),
    *,
    tiers: Sequence[Cut] = (),
    buckets: Sequence[Cut] = (),
    lift: bool = True,
    **kwargs: object,
) -> tuple[RankedItem, ...]:
    items, score_list = build(scores, edges, **kwargs)  # type: ignore[arg-type]
    return rank_backlog(
        items, score_list, tiers=tiers, buckets=buckets, effort_input="effort", lift=lift
    )


def order(result: Sequence[RankedItem]) -> list[str]:
    return [r.item.key for r in result if r.rank is not None]


def number(k: str) -> int:
    """The node behind ``WEB-n``."""
    return int(k.removeprefix("WEB-")) - 1


def positions(result: Sequence[RankedItem]) -> dict[str, int]:
    return {r.item.key: r.rank for r in result if r.rank is not None}


def reachable(count: int, edges: Sequence[Edge]) -> list[set[int]]:
    """Brute force: everything each node reaches through one or more edges."""
    successors: list[set[int]] = [set() for _ in range(count)]
    for a, b in edges:
        successors[a].add(b)
    reach = []
    for start in range(count):
        seen: set[int] = set()
        todo = list(successors[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(successors[node])
        reach.append(seen)
    return reach


@st.composite
def graphs(draw: st.DrawFn, *, acyclic: bool) -> tuple[list[float], list[Edge], list[bool]]:
    """Up to 14 items with tied and distinct scores, random links on random sides."""
    count = draw(st.integers(min_value=0, max_value=14))
    values = st.sampled_from([1.0, 2.0, 5.0, 8.0, 13.0, 40.0])
    scores = draw(st.lists(values, min_size=count, max_size=count))
    if count < 2:
        return scores, [], []
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1))
    edges = draw(st.lists(pairs, max_size=3 * count))
    if acyclic:
        topo = draw(st.permutations(range(count)))
        rank_in_topo = {node: i for i, node in enumerate(topo)}
        edges = [(a, b) for a, b in edges if rank_in_topo[a] < rank_in_topo[b]]
    sides = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    return scores, edges, sides


def cut_lists() -> st.SearchStrategy[list[Cut]]:
    one = st.one_of(
        st.builds(lambda s: Cut("min", min_score=s), st.sampled_from([2.0, 8.0, 20.0])),
        st.builds(lambda n: Cut("top", top=n), st.integers(1, 6)),
        st.builds(lambda c: Cut("cap", capacity=c), st.sampled_from([1.0, 2.5, 4.0])),
    )
    return st.lists(one, max_size=3).map(
        lambda cs: [replace(c, name=f"{c.name}{i}") for i, c in enumerate(cs)] + [Cut("rest")]
    )


class TestTheRule:
    """The issue's examples: a blocker goes just above the highest-ranked item it blocks."""

    def test_a_blocker_goes_just_above_what_it_blocks(self) -> None:
        """WEB-4 (score 1) blocks WEB-2 (score 40): it moves to just above WEB-2."""
        result = ranked([50, 40, 30, 1], [(3, 1)])
        assert order(result) == ["WEB-1", "WEB-4", "WEB-2", "WEB-3"]
        lifted = next(r for r in result if r.item.key == "WEB-4")
        assert lifted.lifted_by == ("WEB-2",)
        assert lifted.score.value == 1  # the score stays its own

    def test_a_blocker_of_a_blocker_goes_above_it(self) -> None:
        """A chain WEB-5 → WEB-4 → WEB-1 lifts both, the outer blocker first."""
        result = ranked([50, 40, 30, 2, 1], [(4, 3), (3, 0)])
        assert order(result) == ["WEB-5", "WEB-4", "WEB-1", "WEB-2", "WEB-3"]
        assert [r.lifted_by for r in result[:2]] == [("WEB-4",), ("WEB-1",)]

    def test_blockers_lifted_to_one_place_keep_score_then_key_order(self) -> None:
        """Three blockers of WEB-1 land above it in their own order: 5, then 3 by key."""
        result = ranked([50, 40, 3, 5, 3], [(2, 0), (3, 0), (4, 0)])
        assert order(result) == ["WEB-4", "WEB-3", "WEB-5", "WEB-1", "WEB-2"]

    def test_a_blocker_already_above_stays(self) -> None:
        """A blocker ranked above what it blocks is not lifted and nothing moves."""
        result = ranked([50, 40, 30], [(0, 2)])
        assert order(result) == ["WEB-1", "WEB-2", "WEB-3"]
        assert all(r.lifted_by == () and r.without_lift is None for r in result)

    def test_done_items_neither_block_nor_wait(self) -> None:
        """A link to or from a done item (or a link saying its end is done) lifts nothing."""
        assert order(ranked([50, 1], [(1, 0)], done=frozenset({0}))) == ["WEB-1", "WEB-2"]
        assert order(ranked([50, 1], [(1, 0)], done=frozenset({1}))) == ["WEB-1", "WEB-2"]
        items, scores = build([50, 1], [])
        items[1] = replace(items[1], blocks=(Link("WEB-1", done=True),))
        result = rank_backlog(items, scores, tiers=[], buckets=[], effort_input=None)
        assert order(result) == ["WEB-1", "WEB-2"]

    def test_a_blocker_outside_the_ranking_is_noted_not_ranked(self) -> None:
        """An open blocker of another source, or an unscored one, shows on the blocked item."""
        items, scores = build([50, 40, 0], [])
        items[0] = replace(items[0], blocked_by=(Link("API-7"), Link("OLD-1", done=True)))
        items[2] = replace(items[2], blocks=(Link("WEB-2"),))
        scores[2] = Score(None)
        result = rank_backlog(items, scores, tiers=[], buckets=[], effort_input=None)
        notes = {r.item.key: r.blocked_outside for r in result}
        assert notes == {"WEB-1": ("API-7",), "WEB-2": ("WEB-3",), "WEB-3": ()}
        assert order(result) == ["WEB-1", "WEB-2"]

    def test_lift_off_gives_the_plain_ranking(self) -> None:
        """``lift=False`` (dependencies = "ignore") ranks as if there were no links."""
        assert order(ranked([50, 40, 1], [(2, 0)], lift=False)) == ["WEB-1", "WEB-2", "WEB-3"]

    def test_a_long_chain_needs_no_recursion(self) -> None:
        """A 5,000-item chain (far past Python's recursion limit), each item blocking the
        next better one, turns the ranking upside down in one pass."""
        count = 5000
        result = ranked([float(n) for n in range(count)], [(n, n + 1) for n in range(count - 1)])
        assert order(result) == [key(n) for n in range(count)]


class TestSources:
    """Only links between items of one ranking count; keys resolve in their own source first."""

    @staticmethod
    def two_sources() -> tuple[list[WorkItem], list[Score]]:
        items, scores = build([50, 40, 1], [])
        items[2] = replace(items[2], source="ops", key="OPS-1", blocks=(Link("WEB-2"),))
        return items, scores

    def test_per_source_a_blocker_elsewhere_is_only_noted(self) -> None:
        """Ranked per source, WEB-2 names its blocker in another source and nothing moves."""
        items, scores = self.two_sources()
        web = rank_backlog(items[:2], scores[:2], tiers=[], buckets=[], effort_input=None)
        ops = rank_backlog(items[2:], scores[2:], tiers=[], buckets=[], effort_input=None)
        assert order(web) == ["WEB-1", "WEB-2"]
        assert order(ops) == ["OPS-1"]
        assert web[1].lifted_by == ()

    def test_a_global_ranking_lifts_across_sources(self) -> None:
        """Ranked together (``ranking = "global"``), OPS-1 goes above the WEB-2 it blocks."""
        items, scores = self.two_sources()
        result = rank_backlog(items, scores, tiers=[], buckets=[], effort_input=None)
        assert order(result) == ["WEB-1", "OPS-1", "WEB-2"]

    def test_a_key_in_two_sources_resolves_in_the_linking_items_own(self) -> None:
        """WEB-1 exists in both sources: a link from "other" means other's WEB-1."""
        items, scores = build([50, 40, 1, 30], [])
        items[2] = replace(items[2], source="other", key="WEB-9", blocks=(Link("WEB-1"),))
        items[3] = replace(items[3], source="other", key="WEB-1")
        result = rank_backlog(items, scores, tiers=[], buckets=[], effort_input=None)
        assert [(r.item.source, r.item.key) for r in result] == [
            ("web", "WEB-1"),
            ("web", "WEB-2"),
            ("other", "WEB-9"),
            ("other", "WEB-1"),
        ]


class TestCuts:
    """Tiers and buckets follow the lifted order; the blocker never lands below what it blocks."""

    def test_min_score_tiers_use_the_place_not_the_score(self) -> None:
        """A score-1 blocker of a High item is High; without lifting it would be Low."""
        tiers = [Cut("High", min_score=30), Cut("Low")]
        result = ranked([50, 40, 1], [(2, 1)], tiers=tiers)
        blocker = next(r for r in result if r.item.key == "WEB-3")
        assert (blocker.tier, blocker.without_lift) == ("High", ("Low", None))

    def test_capacity_counts_the_blocker_where_it_stands(self) -> None:
        """now holds 4 effort: the lifted blocker (3) takes it, pushing WEB-2 (2) to next."""
        buckets = [Cut("now", capacity=4), Cut("next")]
        result = ranked([50, 40, 1], [(2, 0)], buckets=buckets, efforts=[1, 2, 3])
        placed = {r.item.key: (r.bucket, r.without_lift) for r in result}
        assert placed == {
            "WEB-3": ("now", (None, "next")),
            "WEB-1": ("now", None),
            "WEB-2": ("next", (None, "now")),
        }

    def test_the_explanation_says_why(self) -> None:
        """The explanation field reads ``RICE 40×1×0.5/2 = 10 · lifted: blocks WEB-12 · High · now``."""

        def item(k: str, reach: float, blocks: tuple[Link, ...] = ()) -> WorkItem:
            inputs: dict[str, RawValue] = {
                "reach": reach,
                "impact": 1,
                "confidence": "50%",
                "effort": 2,
            }
            return WorkItem(key=k, title=k, url="", source="web", inputs=inputs, blocks=blocks)

        items = [item("WEB-12", 400), item("WEB-3", 40, (Link("WEB-12"),)), item("WEB-4", 300)]
        tiers = [Cut("High", min_score=50), Cut("Low")]
        buckets = [Cut("now", top=2), Cut("later")]
        result = score_backlog(items, RICE, tiers=tiers, buckets=buckets)
        blocker = next(r for r in result if r.item.key == "WEB-3")
        assert (
            explanation_text(blocker) == "RICE 40×1×0.5/2 = 10 · lifted: blocks WEB-12 · High · now"
        )
        rules = PlanRules(
            decimals=1, label_prefix="roadmap:", manage_buckets=True, writes_priority=True
        )
        assert reason_for(blocker, rules) == (
            "RICE 40×1×0.5/2 = 10 · rank 1/3 · lifted: blocks WEB-12 · High · now "
            "(Low · later without lifting)"
        )
        pushed = next(r for r in result if r.item.key == "WEB-4")
        assert reason_for(pushed, rules).endswith("· High · later (now without lifting)")
        pinned = replace(rules, pin_label="pinned")
        held = replace(
            blocker, item=replace(blocker.item, current=Outputs(labels=frozenset({"pinned"})))
        )
        assert reason_for(held, pinned).endswith("· pinned (pinned): priority and bucket kept")


class TestCycles:
    """Cycles are found, reported once, and ignored for lifting; never an endless loop."""

    def test_a_cycle_is_ignored_and_reported_once(self) -> None:
        """WEB-2 ↔ WEB-3 block each other: nothing moves, both name the cycle, one warning."""
        result = ranked([50, 40, 1], [(1, 2), (2, 1)])
        assert order(result) == ["WEB-1", "WEB-2", "WEB-3"]
        assert [r.cycle for r in result] == [(), ("WEB-2", "WEB-3"), ("WEB-2", "WEB-3")]
        assert cycle_warnings(result) == (
            "dependency cycle: WEB-2, WEB-3 block each other, so these links are ignored for "
            "ordering; remove one of them",
        )
        assert explanation_text(result[2]).endswith("dependency cycle with WEB-2 (ignored)")

    def test_links_into_a_cycle_still_lift(self) -> None:
        """WEB-4 blocks WEB-2, which is in a cycle with WEB-3: WEB-4 still goes above WEB-2."""
        result = ranked([50, 40, 30, 1], [(1, 2), (2, 1), (3, 1)])
        assert order(result) == ["WEB-1", "WEB-4", "WEB-2", "WEB-3"]

    def test_tarjan_finds_the_components(self) -> None:
        """0→1→2→0 and 3→4: one three-node component; components come sinks first."""
        components = strongly_connected([[1], [2], [0, 3], [4], []])
        assert sorted(map(sorted, components)) == [[0, 1, 2], [3], [4]]
        assert components.index([4]) < components.index([3])


class TestProperties:
    """For any links, the lifted ranking keeps its promises."""

    @SETTINGS
    @given(graphs(acyclic=True))
    def test_every_blocker_ranks_above_what_it_blocks(
        self, graph: tuple[list[float], list[Edge], list[bool]]
    ) -> None:
        """In any DAG, written on either side, each blocker is ranked above each item it blocks."""
        scores, edges, sides = graph
        at = positions(ranked(scores, edges, sides=sides))
        assert all(at[key(a)] < at[key(b)] for a, b in edges if a != b)

    @SETTINGS
    @given(graphs(acyclic=False))
    def test_no_links_or_lift_off_is_the_plain_ranking(
        self, graph: tuple[list[float], list[Edge], list[bool]]
    ) -> None:
        """Removing all links, or lifting off, gives exactly the plain ranking."""
        scores, edges, sides = graph
        plain = ranked(scores, tiers=[Cut("top", top=3), Cut("rest")])
        ignored = ranked(
            scores, edges, sides=sides, lift=False, tiers=[Cut("top", top=3), Cut("rest")]
        )
        assert [(r.item.key, r.rank, r.tier) for r in ignored] == [
            (r.item.key, r.rank, r.tier) for r in plain
        ]
        assert all(not (r.lifted_by or r.cycle or r.without_lift) for r in ignored)
        assert order(plain) == sorted(order(plain), key=lambda k: (-scores[number(k)], number(k)))

    @SETTINGS
    @given(graphs(acyclic=False))
    def test_items_not_lifted_keep_their_relative_order(
        self, graph: tuple[list[float], list[Edge], list[bool]]
    ) -> None:
        """Items outside any chain, and every item not lifted, keep their plain relative order."""
        scores, edges, sides = graph
        plain = order(ranked(scores))
        result = ranked(scores, edges, sides=sides)
        stayed = [r.item.key for r in result if not r.lifted_by]
        assert stayed == [k for k in plain if k in set(stayed)]
        linked = {key(n) for edge in edges for n in edge}
        alone = [k for k in order(result) if k not in linked]
        assert alone == [k for k in plain if k not in linked]

    @SETTINGS
    @given(graphs(acyclic=False))
    def test_any_graph_terminates_with_cycles_found_and_other_links_kept(
        self, graph: tuple[list[float], list[Edge], list[bool]]
    ) -> None:
        """Every item is ranked once; cycle members name exactly their cycle; every link
        between two items not in one cycle still has its blocker above."""
        scores, edges, sides = graph
        result = ranked(scores, edges, sides=sides)
        assert sorted(order(result)) == sorted(key(n) for n in range(len(scores)))
        reach = reachable(len(scores), edges)
        plain = positions(ranked(scores))
        for r in result:
            n = number(r.item.key)
            together = {m for m in reach[n] if n in reach[m]} - {n}
            expected = sorted(together | {n}, key=lambda m: plain[key(m)]) if together else []
            assert r.cycle == tuple(key(m) for m in expected)
        at = positions(result)
        for a, b in edges:
            if not (a in reach[b] and b in reach[a]):
                assert at[key(a)] < at[key(b)]

    @SETTINGS
    @given(graphs(acyclic=True))
    def test_a_lifted_item_lands_just_above_the_best_item_it_blocks(
        self, graph: tuple[list[float], list[Edge], list[bool]]
    ) -> None:
        """A lifted item's place is the plainly best-ranked item it blocks (through any
        chain); between the two stand only other lifted items blocking that same item."""
        scores, edges, sides = graph
        result = ranked(scores, edges, sides=sides)
        reach = reachable(len(scores), edges)
        plain = positions(ranked(scores))
        keys = order(result)
        for at, r in enumerate(result):
            if not r.lifted_by:
                continue
            n = number(r.item.key)
            best = min(reach[n], key=lambda m: plain[key(m)])
            target = keys.index(key(best))
            assert at < target
            for between in keys[at + 1 : target]:
                m = number(between)
                assert result[keys.index(between)].lifted_by
                assert best in reach[m]

    def test_a_chain_s_head_may_stand_above_a_weaker_blocker_of_the_same_item(self) -> None:
        """WEB-2 is blocked by WEB-1 and WEB-3, WEB-3 by WEB-5 (found by hypothesis): all
        three share WEB-2's place and keep their plain order there, blockers first."""
        result = ranked([1.0, 2.0, 1.0, 1.0, 2.0], [(0, 1), (2, 1), (4, 2)], sides=[False] * 3)
        assert order(result) == ["WEB-5", "WEB-1", "WEB-3", "WEB-2", "WEB-4"]

    @SETTINGS
    @given(graphs(acyclic=True), cut_lists(), cut_lists(), st.randoms())
    def test_blockers_are_never_in_a_lower_tier_or_later_bucket(
        self,
        graph: tuple[list[float], list[Edge], list[bool]],
        tiers: list[Cut],
        buckets: list[Cut],
        rnd: random.Random,
    ) -> None:
        """With any cuts (min_score, top, capacity), a blocker's tier and bucket come no later
        in their lists than those of what it blocks, and the result ignores input order."""
        scores, edges, sides = graph
        efforts = [float(1 + (n * 7) % 3) for n in range(len(scores))]
        result = ranked(scores, edges, sides=sides, tiers=tiers, buckets=buckets, efforts=efforts)
        tier_at = {c.name: i for i, c in enumerate(tiers)}
        bucket_at = {c.name: i for i, c in enumerate(buckets)}
        by_key = {r.item.key: r for r in result}
        for a, b in edges:
            blocker, blocked = by_key[key(a)], by_key[key(b)]
            assert tier_at[str(blocker.tier)] <= tier_at[str(blocked.tier)]
            assert bucket_at[str(blocker.bucket)] <= bucket_at[str(blocked.bucket)]
        items, score_list = build(scores, edges, sides=sides, efforts=efforts)
        pairs = list(zip(items, score_list, strict=True))
        rnd.shuffle(pairs)
        shuffled = rank_backlog(
            [i for i, _ in pairs],
            [s for _, s in pairs],
            tiers=tiers,
            buckets=buckets,
            effort_input="effort",
        )
        assert shuffled == result
