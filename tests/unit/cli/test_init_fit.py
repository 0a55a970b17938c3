"""`init` fitted to the tracker: source options, marks for what setup creates, proposed cuts."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cli.init import render_config, source_block
from cli.init_cuts import MIN_SCORED, propose_cuts, with_cuts
from cli.init_fit import check_source_options, mark_fields, with_api_url
from config import validate_config
from priosync.domain import ModelSpec, WorkItem
from priosync.errors import ConfigError

RICE = ModelSpec(
    model="rice",
    inputs=("reach", "impact", "confidence", "effort"),
    scales={},
    percent_inputs=frozenset(),
    formula=None,
    decimals=1,
    effort_input=None,
)


def item(n: int, *, effort: float = 2.0, reach: float | None = None) -> WorkItem:
    inputs: dict[str, object] = {
        "reach": float(reach if reach is not None else 100 * n),
        "impact": 1.0,
        "confidence": 1.0,
        "effort": effort,
    }
    return WorkItem(key=f"WEB-{n}", source="web", title=f"Item {n}", url="", inputs=inputs)  # type: ignore[arg-type]


def starter(kind: str = "jira", **source: str | None) -> str:
    block = source_block(
        kind, url=source.get("url"), jql=None, project=source.get("project"), file=None
    )
    return render_config(kind, block, {})


class TestSourceOptions:
    def test_url_for_a_github_source_is_an_error_naming_api_url(self) -> None:
        """--url with --kind github is refused, and the message says to use --api-url."""
        with pytest.raises(ConfigError, match="--api-url") as info:
            check_source_options("github", url="http://127.0.0.1:8081", api_url=None)
        assert info.value.key == "--url"

    def test_api_url_for_a_jira_source_is_an_error(self) -> None:
        """--api-url is GitHub's; a Jira source gets told to use --url."""
        with pytest.raises(ConfigError, match="takes --url"):
            check_source_options("jira", url=None, api_url="http://127.0.0.1:8081")

    def test_api_url_lands_in_the_github_source_and_validates(self) -> None:
        """The GitHub source block carries api_url without its trailing slash."""
        block = with_api_url(
            source_block("github", url=None, jql=None, project="acme/1", file=None),
            "http://127.0.0.1:8081/",
        )
        loaded = validate_config(
            tomllib.loads(render_config("github", block, {})), file=Path("p.toml"), environ={}
        )
        assert loaded.config.sources[0].api_url == "http://127.0.0.1:8081"  # type: ignore[union-attr]


class TestMarks:
    def test_discovered_missing_outputs_are_marked_for_setup(self) -> None:
        """With discovery, an output the tracker lacks is named and marked 'not in the tracker yet'."""
        text = mark_fields(
            starter(), kind="jira", discovered=["Reach", "Impact", "Confidence", "Effort"]
        )
        config = tomllib.loads(text)
        assert config["outputs"]["score_field"] == "RICE score"
        line = next(x for x in text.splitlines() if x.startswith("score_field"))
        assert "not in the tracker yet: `priosync setup` creates a number field" in line

    def test_existing_outputs_are_left_as_they_are(self) -> None:
        """An output the tracker has gets no mark."""
        names = ["Reach", "Impact", "Confidence", "Effort", "RICE score", "Score rationale"]
        names.append("Backlog rank")
        text = mark_fields(starter(), kind="jira", discovered=names)
        assert "not in the tracker yet" not in text

    def test_without_discovery_every_output_says_setup_creates_it_if_missing(self) -> None:
        """No discovery: output lines stay valid TOML and say setup creates them when missing."""
        text = mark_fields(starter("github", project="acme/1"), kind="github", discovered=None)
        config = tomllib.loads(text)
        assert config["outputs"]["priority_field"] == "Priority"
        priority = next(x for x in text.splitlines() if x.startswith("priority_field"))
        assert priority.endswith("# `priosync setup` creates it if missing")

    def test_missing_inputs_are_listed_above_the_inputs(self) -> None:
        """Inputs discovery did not find are named for the PM to map; setup cannot make them."""
        text = mark_fields(starter(), kind="jira", discovered=["Reach"], missing=["effort"])
        lines = text.splitlines()
        at = next(i for i, x in enumerate(lines) if x.startswith("inputs = {"))
        assert lines[at - 1].startswith("# not found in the tracker: effort")


class TestProposedCuts:
    def test_tiers_are_shares_of_the_ranking_and_the_distribution_is_told(self) -> None:
        """100 scored items: Highest 5, High 10, Medium 30, Low 55, said in the note."""
        proposal = propose_cuts([item(n) for n in range(1, 101)], RICE)
        assert proposal is not None
        assert [(c.name, c.top_percent) for c in proposal.tiers] == [
            ("Highest", 5.0),
            ("High", 15.0),
            ("Medium", 45.0),
            ("Low", None),
        ]
        assert proposal.tier_counts == "Highest 5, High 10, Medium 30, Low 55"
        assert "priority: Highest 5, High 10, Medium 30, Low 55" in proposal.note()

    def test_bucket_capacities_come_from_the_top_items_efforts(self) -> None:
        """Efforts of 2: now holds the top 10 % (capacity 20), next the 20 % after (40)."""
        proposal = propose_cuts([item(n) for n in range(1, 101)], RICE)
        assert proposal is not None
        assert [(c.name, c.capacity) for c in proposal.buckets] == [
            ("now", 20.0),
            ("next", 40.0),
            ("later", None),
        ]
        assert proposal.bucket_counts == "now 10, next 20, later 70"

    def test_unscored_items_are_counted_apart(self) -> None:
        """Items lacking an input are neither in a tier nor in the scored count."""
        items = [item(n) for n in range(1, 21)]
        items[0] = WorkItem(key="WEB-1", source="web", title="", url="", inputs={})
        proposal = propose_cuts(items, RICE)
        assert proposal is not None
        assert (proposal.scored, proposal.unscored) == (19, 1)

    def test_too_few_scored_items_propose_nothing(self) -> None:
        """Below the minimum the template's cuts stay."""
        assert propose_cuts([item(n) for n in range(1, MIN_SCORED)], RICE) is None

    def test_the_proposal_replaces_the_template_lists_and_still_validates(self) -> None:
        """with_cuts writes the proposed lists into the config, which loads."""
        proposal = propose_cuts([item(n) for n in range(1, 41)], RICE)
        assert proposal is not None
        text = with_cuts(starter(url="https://acme.atlassian.net"), proposal)
        config = tomllib.loads(text)
        assert config["outputs"]["priority"][0] == {"name": "Highest", "top_percent": 5}
        assert config["outputs"]["roadmap"][0] == {"name": "now", "capacity": 8}
        validate_config(config, file=Path("priosync.toml"), environ={})
