"""The self-contained HTML report: content, escaping, and size at thousands of items."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import replace
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from priosync.domain import (
    Change,
    Cut,
    Missing,
    Outputs,
    Plan,
    RankedItem,
    Score,
    Skipped,
    WorkItem,
)
from reports.html import bar_percent, render_html, render_link, split_segments
from reports.overview import ReportSettings
from sync.standings import Standing, Standings

#: Every tag the report may contain; anything else came from tracker text and was not escaped.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "b",
    "input", "label", "span", "table", "thead", "tbody", "tr", "th", "td", "a", "div",
    "i", "code", "br", "section", "form", "select", "option", "button", "output", "details",
    "summary", "script", "svg", "rect", "line", "text",
}  # fmt: skip


class TagCollector(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


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
        backlog = html.split("<section id=backlog>", 1)[1]
        assert backlog.count("<tr class='item changed'") == len(sandbox_plan.changes)
        assert "→" in backlog.split("<tr class='item changed'", 1)[1].split("</tr>", 1)[0]

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
        """One inline script and stylesheet, no external assets, images or fonts: only links."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        tags = parse_tags(html)
        assert {tag for tag, _ in tags} <= ALLOWED_TAGS
        assert [tag for tag, _ in tags].count("script") == 1
        assert not any(tag in {"link", "img", "iframe", "object"} for tag, _ in tags)
        assert all("src" not in attrs for _, attrs in tags)
        assert "url(" not in html
        assert "@import" not in html

    def test_policy_admits_exactly_its_own_script_and_style(self, sandbox_plan: Plan) -> None:
        """The CSP names the hashes of the page's one script and stylesheet, and no style attribute is used."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        script = html.split("<script>", 1)[1].split("</script>", 1)[0]
        style = html.split("<style>", 1)[1].split("</style>", 1)[0]
        policy = html.split('http-equiv=Content-Security-Policy content="', 1)[1].split('"', 1)[0]
        assert f"script-src 'sha256-{sha256_b64(script)}'" in policy
        assert f"style-src 'sha256-{sha256_b64(style)}'" in policy
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert all("style" not in attrs for _, attrs in parse_tags(html))

    def test_the_filter_bar_is_hidden_until_the_script_runs(self, sandbox_plan: Plan) -> None:
        """Without JavaScript the page shows every item; the filter form starts hidden."""
        html = render_html(sandbox_plan, title="WEB", generated_at="now")
        (form,) = [attrs for tag, attrs in parse_tags(html) if tag == "form"]
        assert "hidden" in form
        assert html.count("<tr class='item") >= len(sandbox_plan.ranking)

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


def standing_of(r: RankedItem, **changes: object) -> Standing:
    values: dict[str, object] = {
        "rank": r.rank,
        "tier": r.tier,
        "bucket": r.bucket,
        "score": r.score.value,
    }
    values.update(changes)
    return Standing(**values)  # type: ignore[arg-type]


class TestMovement:
    def test_says_there_is_nothing_to_compare_without_an_earlier_sync(self) -> None:
        """Without standings the section says so, and no row shows a movement."""
        html = render_html(Plan(ranking=tuple(make_ranked(5))), title="t", generated_at="now")
        section = html.split("<section id=movement>", 1)[1].split("</section>", 1)[0]
        assert "No earlier sync is recorded" in section
        assert "<span class=up>" not in html.split("<section id=backlog>", 1)[1]

    def test_shows_places_new_entrants_and_crossings_first(self) -> None:
        """Moves up and down, a new item and a bucket change are listed before the backlog."""
        ranked = make_ranked(12, tier_every=6)
        then = {
            ("web", r.item.key): standing_of(r)
            for r in ranked
            if r.item.key not in {"WEB-2", "WEB-9"}
        }
        then[("web", "WEB-4")] = standing_of(ranked[3], rank=9, tier="Low", bucket="now")
        then[("web", "WEB-9")] = standing_of(ranked[8], rank=4)
        then[("web", "OLD-1")] = Standing(rank=1, tier="High", bucket="now", score=99.0)
        baseline = Standings(at="2025-06-01T09:00:00+00:00", sources=frozenset({"web"}), items=then)
        html = render_html(
            Plan(ranking=tuple(ranked)), title="t", generated_at="now", baseline=baseline
        )
        assert html.index("<section id=movement>") < html.index("<section id=backlog>")
        section = html.split("<section id=movement>", 1)[1].split("</section>", 1)[0]
        assert "Compared with the sync of 2025-06-01 09:00 UTC" in section
        assert "<b>1</b> new" in section  # WEB-2
        assert "<b>1</b> left the backlog" in section  # OLD-1
        assert "#9 → #4 · tier Low → High · bucket now → later" in section
        assert "new at #2" in section
        row = html.split(">WEB-9</a>", 2)[2].split("</tr>", 1)[0]
        assert "<span class=down>↓5</span>" in row
        row4 = html.split(">WEB-4</a>", 2)[2].split("</tr>", 1)[0]
        assert "<span class=up>↑5</span>" in row4

    def test_compares_only_the_sources_the_last_sync_read(self) -> None:
        """An item of a source the baseline did not read is neither new nor moved."""
        ranked = make_ranked(3)
        baseline = Standings(at="x", sources=frozenset({"other"}), items={})
        html = render_html(
            Plan(ranking=tuple(ranked)), title="t", generated_at="now", baseline=baseline
        )
        assert "<b>0</b> new" in html
        assert "Nothing moved." in html


class TestRoadmapOverview:
    def test_shows_capacity_used_per_bucket_and_items_per_tier(self) -> None:
        """Each bucket shows its effort against its capacity; each tier its count."""
        ranked = make_ranked(12, tier_every=6)  # effort 3 each; now holds 3 items
        settings = ReportSettings(
            tiers=(Cut("High", top=6), Cut("Low")),
            buckets=(Cut("now", capacity=10.0), Cut("later")),
            effort_input="effort",
        )
        html = render_html(
            Plan(ranking=tuple(ranked)), title="t", generated_at="now", settings=settings
        )
        overview = html.split("<section id=overview>", 1)[1].split("</section>", 1)[0]
        assert "<b>now</b>: 9 of 10 · 3 items" in overview
        assert "<b>later</b>: 27 · 9 items" in overview
        assert "<span class='pill pt'>High</span> 6" in overview
        assert "<span class='pill pt'>Low</span> 6" in overview
        assert "effort used per bucket" in overview

    def test_charts_the_scores_on_a_log_scale_with_the_tier_cuts(self) -> None:
        """The histogram has a bar per occupied bin and a dashed line where the upper tier starts."""
        ranked = make_ranked(40, tier_every=8)
        html = render_html(Plan(ranking=tuple(ranked)), title="t", generated_at="now")
        chart = html.split("data-chart=scores>", 1)[1].split("</svg>", 1)[0]
        bins = chart.count("<rect class=bin")
        assert 3 <= bins <= 16
        assert chart.count("<line class=cutline") == 1
        assert "High ≥ 321" in chart
        assert ">1k</text>" in chart
        assert "data-chart=buckets>" in html


class TestPlanView:
    def test_lists_field_changes_and_folds_rank_only_ones(self) -> None:
        """A change of the rank field alone is folded into one line; field changes get rows."""
        ranked = make_ranked(4)
        field_change = make_change(ranked[0])
        rank_moves = tuple(
            Change(
                key=r.item.key, source="web", url=r.item.url,
                before=Outputs(score=5.0, rank=r.rank), after=Outputs(score=5.0, rank=(r.rank or 0) + 1),
                reason="", item=r.item,
            )
            for r in ranked[1:]
        )  # fmt: skip
        plan = Plan(ranking=tuple(ranked), changes=(field_change, *rank_moves))
        html = render_html(plan, title="t", generated_at="now", view="plan")
        section = html.split("<section id=changes>", 1)[1].split("</section>", 1)[0]
        assert section.count("<tr class='item changed'>") == 1
        assert "and 3 items only change their rank field</summary>" in section
        assert "WEB-2 2→3, WEB-3 3→4, WEB-4 4→5" in section
        backlog = html.split("<section id=backlog>", 1)[1]
        assert backlog.count("<tr class='item changed'") == 1
        assert backlog.count('data-c="r"') == 3

    def test_rank_view_has_no_changes_section(self, sandbox_plan: Plan) -> None:
        """`rank` shows the ranking; the change list belongs to `plan`."""
        html = render_html(sandbox_plan, title="t", generated_at="now")
        assert "<section id=changes>" not in html


class TestNeedsInputByAssignee:
    def test_groups_items_by_who_to_ask(self) -> None:
        """Items needing input are grouped per assignee, largest group first, unassigned last."""

        def person(key: str, who: str | None) -> RankedItem:
            r = unscored(key)
            return replace(r, item=replace(r.item, assignee=who))

        plan = Plan(
            ranking=(
                *make_ranked(2),
                person("WEB-10", "Ana Ruiz"),
                person("WEB-11", None),
                person("WEB-12", "Ben <b>Okafor</b>"),
                person("WEB-13", "Ben <b>Okafor</b>"),
            )
        )
        html = render_html(plan, title="t", generated_at="now")
        section = html.split("<section id=needs>", 1)[1]
        heads = re.findall(r"<div class=group><h3>([^<]+(?:<[^h][^<]*)*?) · (\d+)</h3>", section)
        assert [h[1] for h in heads] == ["2", "1", "1"]
        assert section.index("Ben &lt;b&gt;Okafor&lt;/b&gt; · 2") < section.index("Ana Ruiz · 1")
        assert section.index("Ana Ruiz · 1") < section.index("Unassigned · 1")
