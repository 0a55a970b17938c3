"""Fuzzing the configuration: whatever a file or the environment says, loading it either
succeeds or raises one ConfigError — never another exception, never a secret echoed."""

from __future__ import annotations

import string
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import validate_config
from priosync.errors import ConfigError

KEYS = [
    "scoring", "outputs", "sources", "schedule", "server", "state", "model", "decimals",
    "inputs", "scales", "percent_inputs", "formula", "effort_input", "ranking", "reach",
    "impact", "confidence", "effort", "score_field", "priority_field", "label_prefix",
    "needs_input_label", "explain_field", "rank_field", "pin_label", "priority", "roadmap",
    "name", "min_score", "top", "top_percent", "capacity", "kind", "url", "jql", "project",
    "repo", "path", "api_url", "cron", "timezone", "host", "port", "max_body_bytes",
    "accept_unsigned", "report", "notify", "pacing", "concurrency", "token", "cloud_id",
    "reorder",
]  # fmt: skip
TEXT = st.text(alphabet=string.printable + "\x00\x1b\u2028é×", max_size=40)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(["rice", "ice", "wsjf", "formula", "jira", "github", "file", "0 * * * *",
                     "https://acme.atlassian.net", "UTC", "Mars/Olympus", "99 99 * * *"]),
)  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), TEXT), inner, max_size=5),
    ),
    max_leaves=30,
)
BASE: dict[str, Any] = {
    "scoring": {
        "model": "rice",
        "inputs": {"reach": "R", "impact": "I", "confidence": "C", "effort": "E"},
    },
    "sources": [{"name": "web", "kind": "jira", "url": "https://acme.atlassian.net", "jql": "x"}],
}
ENV_NAMES = st.sampled_from(
    ["PRIOSYNC_SCORING__DECIMALS", "PRIOSYNC_SERVER__PORT", "PRIOSYNC_SCORING__INPUTS",
     "PRIOSYNC_OUTPUTS__ROADMAP", "PRIOSYNC_SCHEDULE__CRON", "PRIOSYNC_STATE",
     "PRIOSYNC_SERVER__ACCEPT_UNSIGNED", "PRIOSYNC_SOURCES", "PRIOSYNC_NOPE__X"]
)  # fmt: skip
SECRET = "tok-SECRET-5f4e3d2c1b0a"


def merge(base: dict[str, Any], extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        return base
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(out.get(key), dict) else value
    return out


class TestConfigFuzz:
    @settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(extra=TREES, environ=st.dictionaries(ENV_NAMES, st.one_of(TEXT, st.just(SECRET))))
    def test_any_data_loads_or_is_one_config_error(
        self, extra: Any, environ: dict[str, str]
    ) -> None:
        """A random tree merged into a valid config, with random overrides: ok or ConfigError,
        and a value from the environment never appears in the message."""
        raw = merge(BASE, extra)
        errors: tuple[ConfigError, ...] = ()
        try:
            validate_config(raw, file=Path("fuzz.toml"), environ=environ)
        except ConfigError as exc:
            errors = getattr(exc, "errors", (exc,))
        for error in errors:
            assert SECRET not in str(error)
            assert "\n" not in str(error)  # each problem is one line

    @settings(max_examples=300, deadline=None)
    @given(text=st.text(max_size=300))
    def test_any_text_is_toml_or_a_config_error(self, text: str, tmp_path_factory: Any) -> None:
        """Arbitrary text as a file: parsed, or a ConfigError; never a parser exception."""
        from config.loading import read_toml

        path = tmp_path_factory.mktemp("fuzz") / "priosync.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            raw = read_toml(path)
        except ConfigError:
            return
        assert isinstance(raw, dict)
        assert tomllib.loads(text.removeprefix("\ufeff")) == raw

    def test_the_cli_reports_broken_configs_in_one_line_each(self, tmp_path: Path) -> None:
        """`priosync check` on broken files: exit 1 and no traceback, each time."""
        broken = [
            "y = " + "[" * 1000 + "]" * 1000,
            ".".join(["a"] * 1000) + " = 1",
            '[scoring]\nmodel = "rice"\ndecimals = true',
            "[server]\nport = 1e400",
            '[scoring]\nmodel = "rice"\ninputs = { reach = "R" }\n[[sources]]\nname = 3',
            "\x00\x01\x02",
        ]
        for i, text in enumerate(broken):
            path = tmp_path / f"b{i}.toml"
            path.write_text(text)
            result = subprocess.run(
                [sys.executable, "-m", "priosync", "check", "--config", str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 1, (text[:40], result.stdout, result.stderr)
            assert "Traceback" not in result.stdout + result.stderr
