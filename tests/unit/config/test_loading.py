"""Loading priosync.toml: examples load, bad configs get messages that name key, expected and found."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from config import FileSource, GitHubSource, JiraSource, load_config
from config.loading import read_toml
from priosync.errors import ConfigError, ConfigErrors

EXAMPLES = Path(__file__).parents[3] / "examples"

BASE = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }
scales.impact = { High = 2, Low = 0.5 }

[outputs]
priority_field = "priority"
priority = [{ name = "High", min_score = 100 }, { name = "Low" }]
roadmap = [{ name = "now", capacity = 6 }, { name = "later" }]

[[sources]]
name = "web"
kind = "jira"
url = "https://acme.atlassian.net"
jql = "project = WEB"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "priosync.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=environ or {})
    return info.value


class TestExamples:
    @pytest.mark.parametrize("name", ["jira.toml", "github.toml", "file.toml"])
    def test_example_loads(self, name: str) -> None:
        """Every shipped example config loads without errors."""
        loaded = load_config(EXAMPLES / name, environ={})
        assert loaded.config.sources
        assert len(loaded.sha256) == 64

    def test_example_kinds(self) -> None:
        """The examples cover the three source kinds, with file paths resolved next to the config."""
        jira = load_config(EXAMPLES / "jira.toml", environ={}).config.sources[0]
        github = load_config(EXAMPLES / "github.toml", environ={}).config.sources
        file = load_config(EXAMPLES / "file.toml", environ={}).config.sources[0]
        assert isinstance(jira, JiraSource)
        assert jira.url == "https://acme.atlassian.net"
        assert isinstance(github[0], GitHubSource)
        assert isinstance(github[1], GitHubSource)
        assert github[0].project == "acme/1"
        assert github[1].repo == "acme/api"
        assert isinstance(file, FileSource)
        assert file.path == EXAMPLES / "backlog.csv"

    def test_model_spec_from_config(self) -> None:
        """The scoring section becomes a ModelSpec with RICE's percent input and effort."""
        spec = load_config(EXAMPLES / "file.toml", environ={}).config.scoring.to_model_spec()
        assert spec.inputs == ("reach", "impact", "confidence", "effort")
        assert spec.percent_inputs == frozenset({"confidence"})
        assert spec.effort_input == "effort"
        assert spec.scales["impact"]["Massive"] == 3


# (config text, key the error must name, fragments the message must contain)
BAD_CONFIGS: list[tuple[str, str, str, list[str]]] = [
    (
        "capacity of the wrong type",
        BASE.replace('{ name = "now", capacity = 6 }', '{ name = "now", capacity = "six" }'),
        "outputs.roadmap[0].capacity",
        ["expected a valid number", "found 'six'"],
    ),
    (
        "typo in a bucket key",
        BASE.replace('{ name = "now", capacity = 6 }', '{ name = "now", capacty = 6 }'),
        "outputs.roadmap[0].capacty",
        ["unknown key", "did you mean 'capacity'"],
    ),
    (
        "typo in a section",
        BASE.replace("[outputs]", "[output]"),
        "output",
        ["unknown key", "did you mean 'outputs'"],
    ),
    (
        "unknown model",
        BASE.replace('model = "rice"', 'model = "rise"'),
        "scoring.model",
        ["'rice'", "found 'rise'"],
    ),
    (
        "RICE without effort",
        BASE.replace(', effort = "Effort" }', " }"),
        "scoring.inputs",
        ["missing effort", "expected reach, impact, confidence, effort"],
    ),
    (
        "scale for an input that does not exist",
        BASE.replace("scales.impact", "scales.impakt"),
        "scoring.scales.impakt",
        ["not one of the inputs"],
    ),
    (
        "token in a jira source",
        BASE + 'token = "abc123"\n',
        "sources[0].token",
        ["environment only", "JIRA_API_TOKEN", "not shown"],
    ),
    (
        "github token pasted as a value",
        BASE.replace('jql = "project = WEB"', 'jql = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"'),
        "sources[0].jql",
        ["looks like a token", "not shown"],
    ),
    (
        "unknown source kind",
        BASE.replace('kind = "jira"', 'kind = "linear"'),
        "sources[0].kind",
        ["'jira' or 'github' or 'file'", "found 'linear'"],
    ),
    (
        "jira source without url or cloud_id",
        BASE.replace('url = "https://acme.atlassian.net"\n', ""),
        "sources[0].url",
        ["exactly one of url", "found neither"],
    ),
    (
        "jira url without scheme",
        BASE.replace('"https://acme.atlassian.net"', '"acme.atlassian.net"'),
        "sources[0].url",
        ["https://"],
    ),
    (
        "two conditions on one tier",
        BASE.replace(
            '{ name = "High", min_score = 100 }', '{ name = "High", min_score = 100, top = 5 }'
        ),
        "outputs.priority[0]",
        ["one of min_score, top, top_percent, capacity", "min_score, top"],
    ),
    (
        "catch-all tier before others",
        BASE.replace(
            'priority = [{ name = "High", min_score = 100 }, { name = "Low" }]',
            'priority = [{ name = "Low" }, { name = "High", min_score = 100 }]',
        ),
        "outputs.priority[0]",
        ["catch-all last"],
    ),
    (
        "capacity on a priority tier",
        BASE.replace('{ name = "High", min_score = 100 }', '{ name = "High", capacity = 5 }'),
        "outputs.priority[0].capacity",
        ["roadmap buckets"],
    ),
    (
        "top_percent over 100",
        BASE.replace('{ name = "High", min_score = 100 }', '{ name = "High", top_percent = 150 }'),
        "outputs.priority[0].top_percent",
        ["less than or equal to 100", "found 150"],
    ),
    (
        "label prefix with a space",
        BASE.replace("[outputs]", '[outputs]\nlabel_prefix = "road map:"'),
        "outputs.label_prefix",
        ["cannot contain spaces"],
    ),
    (
        "duplicate source names",
        BASE + '\n[[sources]]\nname = "web"\nkind = "file"\npath = "x.csv"\n',
        "sources[1].name",
        ["unique", "web"],
    ),
    (
        "bad cron",
        BASE + '\n[schedule]\ncron = "every hour"\n',
        "schedule.cron",
        ["five fields", "'every hour'"],
    ),
    (
        "port out of range",
        BASE + "\n[server]\nport = 70000\n",
        "server.port",
        ["less than or equal to 65535", "found 70000"],
    ),
    (
        "github source with both project and repo",
        BASE
        + '\n[[sources]]\nname = "gh"\nkind = "github"\nproject = "acme/1"\nrepo = "acme/api"\n',
        "sources[1].project",
        ["exactly one of project or repo", "found both"],
    ),
    (
        "capacity buckets with ICE",
        BASE.replace('model = "rice"', 'model = "ice"').replace(
            'inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }',
            'inputs = { impact = "Impact", confidence = "Confidence", ease = "Ease" }',
        ),
        "outputs.roadmap",
        ["need an effort input", "ice"],
    ),
    (
        "formula with an unknown name",
        BASE.replace('model = "rice"', 'model = "formula"\nformula = "reach * impct / effort"'),
        "scoring.formula",
        ["impct", "impact"],
    ),
    (
        "webhook secret in the server table",
        BASE + '\n[server]\nwebhook_secret = "s3cret"\n',
        "server.webhook_secret",
        ["PRIOSYNC_GITHUB_WEBHOOK_SECRET"],
    ),
    (
        "required scoring section missing",
        '[[sources]]\nname = "x"\nkind = "file"\npath = "a.csv"\n',
        "scoring",
        ["required key is missing"],
    ),
]


class TestBadConfigs:
    @pytest.mark.parametrize(
        ("text", "key", "fragments"),
        [pytest.param(t, k, f, id=i) for i, t, k, f in BAD_CONFIGS],
    )
    def test_message_names_file_key_and_problem(
        self, tmp_path: Path, text: str, key: str, fragments: list[str]
    ) -> None:
        """Each bad config fails with a message naming the file, the key path and the problem."""
        error = load_error(tmp_path, text)
        message = str(error)
        assert str(tmp_path / "priosync.toml") in message
        assert f"{key}:" in message or f"{key} " in message or message.rstrip().endswith(key), (
            message
        )
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"

    def test_secret_value_is_never_echoed(self, tmp_path: Path) -> None:
        """A token written in the file is refused without printing it."""
        error = load_error(tmp_path, BASE + 'api_token = "super-secret-value"\n')
        assert "super-secret-value" not in str(error)

    def test_invalid_toml_names_line(self, tmp_path: Path) -> None:
        """A TOML syntax error names the file and the line."""
        error = load_error(tmp_path, "[scoring\nmodel = 1\n")
        assert "not valid TOML" in str(error)
        assert "line 1" in str(error)

    def test_missing_file_says_where_it_looked(self, tmp_path: Path) -> None:
        """No config file: the error names the path and how to create one."""
        with pytest.raises(ConfigError) as info:
            load_config(tmp_path / "nope.toml", environ={})
        assert "priosync init" in str(info.value)
        assert "nope.toml" in str(info.value)

    def test_several_problems_reported_together(self, tmp_path: Path) -> None:
        """All problems in a file are reported at once, not one per run."""
        text = (
            BASE.replace("capacity = 6", 'capacity = "x"').replace("port", "port")
            + "\n[server]\nport = 0\n"
        )
        error = load_error(tmp_path, text)
        assert isinstance(error, ConfigErrors)
        keys = {e.key for e in error.errors}
        assert {"outputs.roadmap[0].capacity", "server.port"} <= keys


class TestEnvironment:
    def test_env_overrides_a_setting(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """PRIOSYNC_<SECTION>__<KEY> overrides the file's value."""
        monkeypatch.setenv("PRIOSYNC_SCORING__DECIMALS", "3")
        monkeypatch.setenv("PRIOSYNC_SERVER__PORT", "9090")
        path = write(tmp_path, BASE)
        loaded = load_config(path)
        assert loaded.config.scoring.decimals == 3
        assert loaded.config.server.port == 9090

    def test_env_override_is_validated(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A bad value from the environment is reported with its key like one from the file."""
        monkeypatch.setenv("PRIOSYNC_SERVER__PORT", "http")
        path = write(tmp_path, BASE)
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert "server.port" in str(info.value)
        assert "PRIOSYNC_SERVER__PORT" in str(info.value)
        assert "http" not in str(info.value).split("(", 1)[1]

    def test_unknown_priosync_variable_is_an_error(self, tmp_path: Path) -> None:
        """A PRIOSYNC_ variable that overrides nothing is reported as a probable typo."""
        error = load_error(tmp_path, BASE, environ={"PRIOSYNC_SCORNG__DECIMALS": "2"})
        assert "PRIOSYNC_SCORNG__DECIMALS" in str(error)
        assert "did you mean PRIOSYNC_SCORING" in str(error)

    def test_service_variables_are_not_typos(self, tmp_path: Path) -> None:
        """The variables the service reads are known, not reported as overrides gone wrong."""
        environ = {
            "PRIOSYNC_JIRA_WEBHOOK_TOKEN": "t",
            "PRIOSYNC_WEBHOOK_IGNORE_ACTORS": "bot",
            "PRIOSYNC_GITHUB_WEBHOOK_SECRET": "s",
            "PRIOSYNC_JIRA_WEBHOOK_SECRET": "s",
        }
        loaded = load_config(write(tmp_path, BASE), environ=environ)
        assert loaded.config.sources

    def test_config_path_from_environment(self, tmp_path: Path) -> None:
        """PRIOSYNC_CONFIG names the file when --config is not given."""
        path = write(tmp_path, BASE)
        loaded = load_config(None, environ={"PRIOSYNC_CONFIG": str(path)})
        assert loaded.path == path


class TestHostileInput:
    """Inputs found by fuzzing: each is a one-line ConfigError, never a traceback."""

    def test_deeply_nested_arrays(self, tmp_path: Path) -> None:
        """An array nested 1,000 deep is refused as too deep, not a RecursionError."""
        error = load_error(tmp_path, BASE + "\ny = " + "[" * 1000 + "]" * 1000 + "\n")
        assert "nested too deeply" in str(error)

    def test_a_thousand_dotted_keys(self, tmp_path: Path) -> None:
        """1,000 dotted keys make a table 1,000 deep: refused, naming the depth allowed."""
        error = load_error(tmp_path, BASE + "\n" + ".".join(["a"] * 1000) + " = 1\n")
        assert "nested too deeply" in str(error)
        assert "at most 16 levels" in str(error)

    def test_byte_order_mark_is_accepted(self, tmp_path: Path) -> None:
        """A file saved with a UTF-8 byte-order mark (Windows editors) loads."""
        path = tmp_path / "priosync.toml"
        path.write_bytes(b"\xef\xbb\xbf" + textwrap.dedent(BASE).encode())
        assert load_config(path, environ={}).config.sources[0].name == "web"

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A cp1252 file says it is not UTF-8 and where."""
        path = tmp_path / "priosync.toml"
        path.write_bytes(textwrap.dedent(BASE).encode() + b"\n# caf\xe9\n")
        with pytest.raises(ConfigError, match="not UTF-8"):
            load_config(path, environ={})

    @pytest.mark.parametrize(
        ("setting", "value"),
        [
            ("[server]\nport", "true"),
            ("[scoring]\ndecimals", "true"),
            ("[[sources]]\nnotify", '"yes"'),
        ],
    )
    def test_wrong_types_are_errors_not_conversions(
        self, tmp_path: Path, setting: str, value: str
    ) -> None:
        """A boolean for a number, or text for a boolean, is an error (strict types)."""
        table, key = setting.split("\n")
        text = (
            BASE.replace("[scoring]\n", "[scoring]\ndecimals = true\n")
            if key == "decimals"
            else BASE
        )
        if key == "port":
            text += f"\n{table}\n{key} = {value}\n"
        elif key == "notify":
            text = text.replace('jql = "project = WEB"', f'jql = "project = WEB"\nnotify = {value}')
        error = load_error(tmp_path, text)
        assert key in str(error)
        assert "invalid value" in str(error)

    def test_nan_is_not_a_score(self, tmp_path: Path) -> None:
        """min_score = nan is refused: no tier would ever match."""
        error = load_error(tmp_path, BASE.replace("min_score = 100", "min_score = nan"))
        assert "outputs.priority[0].min_score" in str(error)
        assert "finite" in str(error)

    def test_cron_serve_would_refuse(self, tmp_path: Path) -> None:
        """A five-field cron that names no real minute is refused by the config, as serve would."""
        error = load_error(tmp_path, BASE + '\n[schedule]\ncron = "99 99 * * *"\n')
        assert "schedule.cron" in str(error)

    def test_unknown_time_zone(self, tmp_path: Path) -> None:
        """An unknown IANA zone is refused by the config, naming the key."""
        error = load_error(
            tmp_path, BASE + '\n[schedule]\ncron = "0 * * * *"\ntimezone = "Mars/Olympus"\n'
        )
        assert "schedule.timezone" in str(error)
        assert "Mars/Olympus" in str(error)

    @pytest.mark.parametrize(
        "url",
        [
            "https://acme.atlassian.net\\r\\nX: 1",
            "https://acme.atlassian.net/ x",
            "https://user:pass@acme.atlassian.net",
            "https://acme.atlassian.net?x=1",
            "https://acme.atlassian.net:99999",
            "ftp://acme.atlassian.net",
        ],
    )
    def test_urls_that_hide_something(self, tmp_path: Path, url: str) -> None:
        """Control characters, credentials, a query or a bad port in a tracker URL are refused."""
        error = load_error(tmp_path, BASE.replace("https://acme.atlassian.net", url))
        assert "sources[0].url" in str(error)

    def test_long_strings_are_capped(self, tmp_path: Path) -> None:
        """A 5,000-character label prefix is refused at once, naming the limit."""
        text = BASE.replace(
            'priority_field = "priority"',
            f'label_prefix = "{"x" * 5000}"\npriority_field = "priority"',
        )
        error = load_error(tmp_path, text)
        assert "outputs.label_prefix" in str(error)
        assert "at most 1000 characters" in str(error)

    def test_huge_files_are_refused_unread(self, tmp_path: Path) -> None:
        """A 10 MB file is not read whole: it is refused as too large to be a configuration."""
        error = load_error(tmp_path, BASE + f"\n# {'x' * 10_000_000}\n")
        assert "too large" in str(error)

    def test_env_json_that_is_not_json(self, tmp_path: Path) -> None:
        """PRIOSYNC_SCORING__INPUTS='{not json' names the variable and hides the value."""
        error = load_error(tmp_path, BASE, environ={"PRIOSYNC_SCORING__INPUTS": "{not json"})
        assert "scoring.inputs" in str(error)
        assert "PRIOSYNC_SCORING__INPUTS" in str(error)
        assert "not json" not in str(error)

    def test_env_value_is_never_echoed(self, tmp_path: Path) -> None:
        """A token pasted into a settings variable does not appear in the error."""
        token = "tok-0123456789abcdef"
        error = load_error(tmp_path, BASE, environ={"PRIOSYNC_SCORING__DECIMALS": token})
        assert "PRIOSYNC_SCORING__DECIMALS" in str(error)
        assert token not in str(error)

    def test_env_numbers_and_booleans_are_decoded(self, tmp_path: Path) -> None:
        """Numbers and booleans from the environment are read as such; text stays text."""
        path = write(tmp_path, BASE)
        loaded = load_config(
            path,
            environ={
                "PRIOSYNC_SERVER__PORT": "8081",
                "PRIOSYNC_SERVER__ACCEPT_UNSIGNED": "true",
                "PRIOSYNC_SERVER__HOST": "127.0.0.2",
                "PRIOSYNC_OUTPUTS__SCORE_FIELD": "123",
                "PRIOSYNC_SCORING__SCALES__IMPACT": '{"High": 3, "Low": 1}',
            },
        )
        server = loaded.config.server
        assert (server.port, server.accept_unsigned, server.host) == (8081, True, "127.0.0.2")
        assert loaded.config.outputs.score_field == "123"
        assert loaded.config.scoring.scales["impact"] == {"High": 3.0, "Low": 1.0}


class TestHugeNumbers:
    def test_a_5000_digit_integer_is_a_config_error(self, tmp_path: Path) -> None:
        """Past Python's 4,300-digit limit a TOML number is refused, not a ValueError traceback."""
        error = load_error(tmp_path, BASE + "\n[server]\nport = " + "9" * 5000 + "\n")
        assert "4300" in str(error)


class TestConfigPath:
    def test_a_fifo_as_the_config_is_refused_not_waited_on(self, tmp_path: Path) -> None:
        """--config pointing at a FIFO fails at once instead of hanging."""
        fifo = tmp_path / "priosync.toml"
        os.mkfifo(fifo)
        with pytest.raises(ConfigError, match="no configuration file"):
            load_config(fifo, environ={})
        with pytest.raises(ConfigError, match="not a regular file"):
            read_toml(fifo)


class TestReadOnlyTiers:
    FILE_ONLY = """
[scoring]
model = "rice"
inputs = { reach = "Reach", impact = "Impact", confidence = "Confidence", effort = "Effort" }

[outputs]
priority = [{ name = "High", min_score = 100 }, { name = "Low" }]

[[sources]]
name = "export"
kind = "file"
path = "backlog.csv"
"""

    def test_file_only_config_takes_tiers_without_a_priority_field(self, tmp_path: Path) -> None:
        """Tiers need no field to write to when every source is a read-only file."""
        loaded = load_config(write(tmp_path, self.FILE_ONLY), environ={})
        assert [c.name for c in loaded.config.outputs.priority] == ["High", "Low"]
        assert loaded.config.outputs.priority_field is None

    def test_a_tracker_source_still_needs_the_priority_field(self, tmp_path: Path) -> None:
        """With a Jira source the same tiers are refused, naming the field they lack."""
        text = self.FILE_ONLY + '\n[[sources]]\nname = "web"\nkind = "jira"\n'
        text += 'url = "https://acme.atlassian.net"\njql = "project = WEB"\n'
        error = load_error(tmp_path, text)
        assert error.key == "outputs.priority_field"
        assert "no field to write them to" in str(error)
        assert "source web is written" in str(error)


METRICS = """
[scoring.metrics]
field = "Key metric"
weights = { Activation = 1.5, Retention = 1.2, Revenue = 2.0 }
targets = { Revenue = 0.5 }

[scoring.freshness]
review_after_days = 90
stale_label = "needs-review"
confidence_decay = 0.5
"""


def with_sections(metrics: str = "", freshness: str = "", outputs: str = "") -> str:
    """BASE with [scoring.metrics], [scoring.freshness] and extra [outputs] lines."""
    head, rest = BASE.split("[outputs]", 1)
    sections = (f"[scoring.metrics]\n{metrics}\n" if metrics else "") + (
        f"[scoring.freshness]\n{freshness}\n" if freshness else ""
    )
    return f"{head}{sections}[outputs]\n{outputs}{rest}"


WEIGHTS = 'field = "Key metric"\nweights = { Revenue = 2.0, Retention = 1.2 }'


class TestMetricsAndFreshness:
    def test_sections_become_the_model_spec(self, tmp_path: Path) -> None:
        """Weights, targets, the review period and the decay reach the scoring spec; the
        metric's field is read as the reserved input and its options checked against weights."""
        head, rest = BASE.split("[outputs]", 1)
        config = load_config(
            write(tmp_path, head + METRICS + "[outputs]" + rest), environ={}
        ).config
        spec = config.scoring.to_model_spec()
        assert spec.metrics is not None
        assert spec.metrics.weights["Revenue"] == 2.0
        assert spec.metrics.targets == {"Revenue": 0.5}
        assert spec.freshness is not None
        assert (spec.freshness.review_after_days, spec.freshness.confidence_decay) == (90, 0.5)
        assert config.inputs_for(config.sources[0])["key_metric"] == "Key metric"
        assert config.stale_label() == "needs-review"

    @pytest.mark.parametrize(
        ("metrics", "freshness", "outputs", "key", "fragment"),
        [
            (
                'field = "K"\nlabel_prefix = "metric:"\nweights = { A = 1 }',
                "",
                "",
                "scoring.metrics.field",
                "exactly one of field or label_prefix",
            ),
            ('field = "K"\nweights = {}', "", "", "scoring.metrics.weights", "weights are empty"),
            (
                'field = "K"\nweights = { Revenue = 1, revenue = 2 }',
                "",
                "",
                "scoring.metrics.weights.revenue",
                "must differ ignoring case",
            ),
            (
                WEIGHTS + "\ntargets = { Churn = 0.5 }",
                "",
                "",
                "scoring.metrics.targets.Churn",
                "without a weight",
            ),
            (
                WEIGHTS + "\ntargets = { Revenue = 0.7, Retention = 0.5 }",
                "",
                "",
                "scoring.metrics.targets",
                "add up to 1.2",
            ),
            (WEIGHTS + '\ndefault = "none"', "", "", "scoring.metrics.default", 'or "missing"'),
            (
                'field = "K"\nweights = { Revenue = -1 }',
                "",
                "",
                "scoring.metrics.weights.Revenue",
                "greater than or equal to 0",
            ),
            (
                'label_prefix = "roadmap:metric:"\nweights = { A = 1 }',
                "",
                "",
                "scoring.metrics.label_prefix",
                "overlaps the label 'roadmap:'",
            ),
            (
                "",
                "review_after_days = 0",
                "",
                "scoring.freshness.review_after_days",
                "greater than 0",
            ),
            (
                "",
                'review_after_days = 90\nstale_label = "roadmap:stale"',
                "",
                "scoring.freshness.stale_label",
                "must differ",
            ),
            (
                "",
                'review_after_days = 90\nstale_label = "needs-scoring"',
                'needs_input_label = "needs-scoring"\n',
                "scoring.freshness.stale_label",
                "must differ",
            ),
            (
                "",
                "review_after_days = 90\nconfidence_decay = 1.5",
                "",
                "scoring.freshness.confidence_decay",
                "less than or equal to 1",
            ),
            (
                "",
                "review_after_days = 90\nreview = 30",
                "",
                "scoring.freshness.review",
                "unknown key",
            ),
        ],
        ids=[
            "field-and-prefix",
            "no-weights",
            "twin-names",
            "unknown-target",
            "targets-over-one",
            "bad-default",
            "negative-weight",
            "prefix-overlap",
            "zero-days",
            "stale-under-prefix",
            "stale-is-needs-input",
            "decay-above-one",
            "typo",
        ],
    )
    def test_bad_sections_name_their_key(
        self, tmp_path: Path, metrics: str, freshness: str, outputs: str, key: str, fragment: str
    ) -> None:
        """Each mistake fails with the full key path and what was wrong."""
        message = str(load_error(tmp_path, with_sections(metrics, freshness, outputs)))
        assert key in message, message
        assert fragment in message, message

    def test_decay_needs_a_confidence_input(self, tmp_path: Path) -> None:
        """WSJF has no confidence to decay: the decay is refused, naming the model."""
        text = """
        [scoring]
        model = "wsjf"
        inputs = { business_value = "BV", time_criticality = "TC", risk_reduction = "RR", job_size = "JS" }
        [scoring.freshness]
        review_after_days = 90
        confidence_decay = 0.5
        """
        message = str(load_error(tmp_path, text))
        assert "scoring.freshness.confidence_decay" in message
        assert "model 'wsjf' has none" in message

    def test_the_metric_input_name_is_reserved(self, tmp_path: Path) -> None:
        """A formula input called key_metric would be taken for the metric's field."""
        text = """
        [scoring]
        model = "formula"
        formula = "key_metric * 2"
        inputs = { key_metric = "Value" }
        """
        assert "scoring.inputs.key_metric" in str(load_error(tmp_path, text))
