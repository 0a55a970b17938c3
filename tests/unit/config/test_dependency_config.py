"""The dependency settings: `[scoring] dependencies` and a source's `blocking_link_types`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from config import JiraSource, PriosyncConfig, load_config
from priosync.errors import ConfigError

BASE = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
{scoring}

[[sources]]
name = "web"
kind = "jira"
url = "https://acme.atlassian.net"
jql = "project = WEB"
{source}
"""


def load(
    tmp_path: Path, *, scoring: str = "", source: str = "", env: dict[str, str] | None = None
) -> PriosyncConfig:
    text = BASE.replace("{scoring}", scoring).replace("{source}", source)
    path = tmp_path / "priosync.toml"
    path.write_text(textwrap.dedent(text))
    return load_config(path, environ=env or {}).config


class TestDependencySettings:
    """Lifting is on by default, can be turned off in the file or the environment."""

    def test_the_defaults_lift_with_blocks_links(self, tmp_path: Path) -> None:
        """No setting: dependencies = "lift" and Jira sources read "Blocks" links."""
        config = load(tmp_path)
        assert config.scoring.dependencies == "lift"
        source = config.sources[0]
        assert isinstance(source, JiraSource)
        assert source.blocking_link_types == ["Blocks"]

    def test_ignore_in_the_file_or_the_environment(self, tmp_path: Path) -> None:
        """``dependencies = "ignore"`` and ``PRIOSYNC_SCORING__DEPENDENCIES=ignore`` both work."""
        assert load(tmp_path, scoring='dependencies = "ignore"').scoring.dependencies == "ignore"
        env = {"PRIOSYNC_SCORING__DEPENDENCIES": "ignore"}
        assert load(tmp_path, env=env).scoring.dependencies == "ignore"

    def test_a_wrong_value_names_the_key_and_the_choices(self, tmp_path: Path) -> None:
        """``dependencies = "yes"`` is an error naming scoring.dependencies and lift/ignore."""
        with pytest.raises(ConfigError) as info:
            load(tmp_path, scoring='dependencies = "yes"')
        text = str(info.value)
        assert "scoring.dependencies" in text
        assert "lift" in text
        assert "ignore" in text

    def test_link_types_are_a_list_of_names(self, tmp_path: Path) -> None:
        """A site's own types are taken; an empty name or a bare string is refused."""
        config = load(tmp_path, source='blocking_link_types = ["Blocks", "Depends"]')
        source = config.sources[0]
        assert isinstance(source, JiraSource)
        assert source.blocking_link_types == ["Blocks", "Depends"]
        for bad in ('blocking_link_types = [""]', 'blocking_link_types = "Blocks"'):
            with pytest.raises(ConfigError) as info:
                load(tmp_path, source=bad)
            assert "blocking_link_types" in str(info.value)
