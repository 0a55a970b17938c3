"""The self-contained HTML report: content, escaping, and size at thousands of items."""

from __future__ import annotations

import time
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from priosync.domain import Change, Missing, Outputs, Plan, RankedItem, Score, Skipped, WorkItem
from reports.html import bar_percent, render_html, render_link, split_segments

#: Every tag the report may contain; anything else came from tracker text and was not escaped.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul", "li", "b",
    "input", "label", "span", "table", "thead", "tbody", "tr", "th", "td", "a", "div",
    "i", "code", "br",
}  # fmt: skip


class TagCollector(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser.tags


def make_ranked(
    n: int,
    *,
    title: str = "Item",
    tier_every: int = 10,
    url: str = "https://jira.example.com/browse/WEB-{n}",
) -> list[RankedItem]:
    return [
        RankedItem(
            item=WorkItem(
                key=f"WEB-{i}",
                title=f"{title} {i}",
                url=url.format(n=i),
                source="web",
                inputs={},
            ),
            score=Score(
                value=float(10 * (n - i) + 1),
                terms={"reach": float(1000 + i), "impact": 2.0, "confidence": 0.8, "effort": 3.0},
                explanation=f"RICE {1000 + i}×2×0.8/3 = {10 * (n - i) + 1}",
            ),
            rank=i,
            tier="High" if i <= tier_every else "Low",
            bucket="now" if i <= tier_every // 2 else "later",
            of=n,
        )
        for i in range(1, n + 1)
    ]


def make_change(ranked: RankedItem) -> Change:
    return Change(
        key=ranked.item.key,
        source=ranked.item.source,
        url=ranked.item.url,
        before=Outputs(score=1.0, priority="Low", labels=frozenset({"roadmap:later"})),
        after=Outputs(
            score=ranked.score.value, priority=ranked.tier, labels=frozenset({"roadmap:now"})
        ),
        reason=ranked.score.explanation,
    )


def unscored(key: str, *, title: str = "No inputs", reason: str = "Reach: missing") -> RankedItem:
    return RankedItem(
        item=WorkItem(
            key=key,
            title=title,
            url=f"https://jira.example.com/browse/{key}",
            source="web",
            inputs={},
        ),
        score=Score(value=None, missing=(Missing("reach", reason),)),
    )


class TestRenderHtml:
    def test_lists_the_ranking_in_rank_order(self, sandbox_plan: Plan) -> None:
        """Every ranked key appears, in the order of its rank."""
        html = render_html(sandbox_plan, title="WEB", generated_at="2025-06-02 09:00 UTC")
        ranked = [r for r in sandbox_plan.ranking if r.rank is not None]
        positions = [html.index(f">{r.item.key}</a>") for r in ranked]
        assert len(ranked) > 20
        assert positions == sorted(positions)

    def test_highlights_exactly_the_planned_changes(self, sandbox_plan: Plan) -> None:
        """Each planned change is one highlighted row with its before → after phrase."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        assert sandbox_plan.changes
        assert html.count("<tr class='item changed'>") == len(sandbox_plan.changes)
        assert "→" in html.split("<tr class='item changed'>", 1)[1].split("</tr>", 1)[0]

    def test_lists_items_needing_input_with_reasons(self, sandbox_plan: Plan) -> None:
        """Items skipped for missing inputs appear in their own section with each reason."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        section = html.split("<h2>Needs input", 1)[1]
        assert sandbox_plan.skipped
        for skipped in sandbox_plan.skipped:
            assert f">{skipped.key}</a>" in section
            for missing in skipped.missing:
                assert missing.reason in section

    def test_draws_a_boundary_at_each_tier_or_bucket_change(self) -> None:
        """A boundary row starts each run of items that share a tier and a bucket."""
        ranked = make_ranked(30, tier_every=10)
        html = render_html(Plan(ranking=tuple(ranked)), title="t", generated_at="now")
        assert len(split_segments(ranked)) == 3
        assert html.count("<tr class=cut>") == 3
        assert "priority High</span> · <span class=cb>roadmap now</span> · ranks 1–5" in html
        assert "priority High</span> · <span class=cb>roadmap later</span> · ranks 6–10" in html
        assert "priority Low</span> · <span class=cb>roadmap later</span> · ranks 11–30" in html

    def test_shows_each_term_of_a_score(self) -> None:
        """The score's explanation and every term are printed beside the item."""
        html = render_html(Plan(ranking=tuple(make_ranked(1))), title="t", generated_at="now")
        assert "RICE 1001×2×0.8/3 = 1" in html
        for term in ("reach 1001", "impact 2", "confidence 0.8", "effort 3"):
            assert f"<code>{term}</code>" in html

    def test_renders_an_empty_plan(self) -> None:
        """A plan with nothing ranked still renders a page that says so."""
        html = render_html(Plan(), title="Empty", generated_at="now")
        assert "No item could be scored." in html
        assert "Every item has the inputs its score needs." in html

    def test_is_self_contained(self, sandbox_plan: Plan) -> None:
        """No scripts, no external stylesheets, images or fonts: only links to the tracker."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        tags = parse_tags(html)
        assert {tag for tag, _ in tags} <= ALLOWED_TAGS
        assert not any(tag in {"script", "link", "img", "iframe"} for tag, _ in tags)
        assert "url(" not in html
        assert "@import" not in html

    def test_is_a_pure_function_of_its_arguments(self, sandbox_plan: Plan) -> None:
        """The same plan and time render byte-identical pages; the time is printed as given."""
        first = render_html(sandbox_plan, title="WEB", generated_at="2025-06-02 09:00 UTC")
        assert first == render_html(sandbox_plan, title="WEB", generated_at="2025-06-02 09:00 UTC")
        assert "Generated 2025-06-02 09:00 UTC" in first


class TestEscaping:
    def test_escapes_hostile_tracker_text(self) -> None:
        """Titles, keys, tiers, reasons and explanations from a tracker cannot inject markup."""
        evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
        item = RankedItem(
            item=WorkItem(
                key=f"K{evil}", title=evil, url="javascript:alert(3)", source=evil, inputs={}
            ),
            score=Score(value=5.0, terms={evil: 1.0}, explanation=evil, notes=(evil,)),
            rank=1,
            tier=evil,
            bucket=evil,
            of=1,
        )
        change = Change(
            key=item.item.key, source=evil, url=item.item.url, before=Outputs(priority=evil),
            after=Outputs(priority="High", labels=frozenset({evil})), reason=evil,
        )  # fmt: skip
        missing = unscored("WEB-9", title=evil, reason=evil)
        plan = Plan(
            changes=(change,),
            ranking=(item, missing),
            skipped=(Skipped(key=evil, source="web", missing=(Missing("reach", evil),)),),
        )
        html = render_html(plan, title=evil, generated_at=evil)
        tags = parse_tags(html)
        assert {tag for tag, _ in tags} <= ALLOWED_TAGS
        assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
        assert "javascript:" not in html
        assert "&lt;script&gt;" in html

    @settings(max_examples=60, deadline=None)
    @given(text=st.text(min_size=1, max_size=40))
    def test_any_text_stays_text(self, text: str) -> None:
        """Whatever a title, key or reason holds, the page's tags stay the report's own."""
        ranked = make_ranked(2, title=text)
        plan = Plan(
            ranking=(*ranked, unscored(text, title=text, reason=text)),
            changes=(make_change(ranked[0]),),
        )
        tags = parse_tags(render_html(plan, title=text, generated_at=text))
        assert {tag for tag, _ in tags} <= ALLOWED_TAGS
        assert all(not name.startswith("on") for _, attrs in tags for name in attrs)

    def test_links_only_web_urls(self) -> None:
        """http and https URLs become links; other schemes are shown as plain text."""
        assert render_link("A-1", "https://x.example/browse/A-1?a=1&b=2") == (
            '<a href="https://x.example/browse/A-1?a=1&amp;b=2">A-1</a>'
        )
        assert render_link("A-1", "JavaScript:alert(1)") == "A-1"
        assert render_link("<b>", "data:text/html,hi") == "&lt;b&gt;"


class TestScale:
    def test_five_thousand_items_render_quickly_and_compactly(self) -> None:
        """5,000 ranked items with 500 changes render in well under a second, under 600 bytes each."""
        ranked = make_ranked(5_000, tier_every=400)
        plan = Plan(
            changes=tuple(make_change(r) for r in ranked[::10]),
            ranking=(*ranked, *(unscored(f"OLD-{i}") for i in range(200))),
        )
        started = time.perf_counter()
        html = render_html(plan, title="Big", generated_at="now")
        elapsed_s = time.perf_counter() - started
        # Generous bound for a shared CI machine; measured ~0.1 s here.
        assert elapsed_s < 2.0
        assert len(html.encode()) < 600 * 5_200
        assert html.count("<tr class='item") == 5_200

    def test_bar_lengths_are_monotonic_and_bounded(self) -> None:
        """Longer bars mean higher scores, the top score fills the bar, and odd values are empty."""
        lengths = [bar_percent(v, 18_000.0) for v in (0.5, 10.0, 600.0, 18_000.0)]
        assert lengths == sorted(lengths)
        assert lengths[-1] == 100.0
        assert (
            bar_percent(0.0, 10.0)
            == bar_percent(-3.0, 10.0)
            == bar_percent(float("nan"), 10.0)
            == 0.0
        )
