"""The configuration schema (design §5): what a ``priosync.toml`` may say.

Every model forbids unknown keys, so a typo is an error rather than a setting that silently
does nothing. Secrets never live here: sources name the environment variables that hold
them (``token_env``), and ``config.secrets`` reads those.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.schedule import build_cron_trigger
from priosync.domain import Cut, FreshnessSpec, MetricSpec, ModelName, ModelSpec
from priosync.errors import ConfigError
from scoring import (
    DEFAULT_EFFORT_INPUT,
    METRIC_INPUT,
    MODEL_INPUTS,
    check_formula,
    input_names,
    metric_key,
)

#: Inputs read as fractions ("80%" → 0.8) unless the config says otherwise.
PERCENT_INPUTS: dict[str, tuple[str, ...]] = {"rice": ("confidence",)}

# Jira labels cannot contain spaces; GitHub allows them but a shared rule keeps configs portable.
_LABEL = re.compile(r"^[^\s]+$")

_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")


def label_safe(value: str | None) -> str | None:
    """A label setting as given; a label with spaces is refused (trackers cannot hold it)."""
    if value is not None and not _LABEL.match(value):
        raise ValueError("labels cannot contain spaces")
    return value


class Problem(ValueError):
    """A validation failure that knows the sub-key it is about and what was expected.

    Pydantic reports model-level validators at the model's own path; the loader appends
    ``key`` so the message points at ``outputs.roadmap[1].capacity``, not ``outputs``.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        expected: str | None = None,
        found: object = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.expected = expected
        self.found = found


#: No setting is a novel: long strings are refused before they cost anything (a 10 MB label
#: prefix once made `plan` run for minutes). JQL and formulas get more room.
MAX_TEXT = 1_000
MAX_QUERY = 20_000

#: How every model reads values: unknown keys are errors, and types are strict (``port = true``
#: or ``notify = "yes"`` is an error, not 1 or True), numbers must be finite (``nan`` is not a
#: score), and strings are capped.
STRICT = ConfigDict(
    extra="forbid",
    frozen=True,
    str_strip_whitespace=True,
    strict=True,
    allow_inf_nan=False,
    str_max_length=MAX_TEXT,
)


class Strict(BaseModel):
    model_config = STRICT


class CutConfig(Strict):
    """A priority tier or roadmap bucket: at most one condition; none makes it the catch-all."""

    name: Annotated[str, Field(min_length=1)]
    min_score: float | None = None
    top: Annotated[int, Field(gt=0)] | None = None
    top_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    capacity: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        set_ = [
            k
            for k in ("min_score", "top", "top_percent", "capacity")
            if getattr(self, k) is not None
        ]
        if len(set_) > 1:
            raise ValueError(
                f"a tier or bucket takes one of min_score, top, top_percent, capacity; "
                f"found {', '.join(set_)}"
            )
        return self

    @property
    def is_catch_all(self) -> bool:
        return all(
            getattr(self, k) is None for k in ("min_score", "top", "top_percent", "capacity")
        )

    def to_cut(self) -> Cut:
        return Cut(
            name=self.name,
            min_score=self.min_score,
            top=self.top,
            top_percent=self.top_percent,
            capacity=self.capacity,
        )


def _check_cuts(cuts: list[CutConfig], *, what: str, key: str) -> None:
    names = [c.name for c in cuts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise Problem(
            f"{what} names must be unique; {', '.join(dupes)} appears twice",
            key=f"{key}[{names.index(dupes[0], names.index(dupes[0]) + 1)}].name",
        )
    for i, cut in enumerate(cuts[:-1]):
        if cut.is_catch_all:
            raise Problem(
                key=f"{key}[{i}]",
                message=f"{what} '{cut.name}' has no condition, so it takes everything and the "
                f"{what}s after it ({', '.join(names[i + 1 :])}) can never match; "
                f"put the catch-all last",
            )


class MetricsConfig(Strict):
    """``[scoring.metrics]``: the key metric an item moves weighs its score."""

    #: The field (or CSV column) naming the metric: a select or a text field.
    field: Annotated[str, Field(min_length=1)] | None = None
    #: Or: labels naming the metric, e.g. "metric:" for ``metric:retention``.
    label_prefix: Annotated[str, Field(min_length=1)] | None = None
    #: Metric name → weight (the score is multiplied by it).
    weights: dict[Annotated[str, Field(min_length=1)], Annotated[float, Field(ge=0)]]
    #: The weight of an item naming no metric, or "missing" to make naming one required.
    default: Annotated[float, Field(ge=0)] | Literal["missing"] = 1.0
    #: Metric name → the share (0–1) of each bucket's capacity it should get, for reports.
    targets: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)

    @field_validator("label_prefix")
    @classmethod
    def _label_safe(cls, value: str | None) -> str | None:
        return label_safe(value)

    @field_validator("default", mode="before")
    @classmethod
    def _weight_or_missing(cls, value: object) -> object:
        if isinstance(value, str) and value != "missing":
            raise ValueError(f'default is a weight (a number) or "missing", not {value!r}')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.field is None) == (self.label_prefix is None):
            raise Problem(
                "name where the metric comes from: exactly one of field or label_prefix",
                key="field",
                expected='field = "Key metric" or label_prefix = "metric:"',
                found="both" if self.field else "neither",
            )
        if not self.weights:
            raise Problem(
                "weights are empty", key="weights", expected="{ Revenue = 2.0, Retention = 1.2 }"
            )
        folded = [metric_key(n) for n in self.weights]
        dupes = [n for i, n in enumerate(self.weights) if folded[i] in folded[:i]]
        if dupes:
            raise Problem(
                f"metric names must differ ignoring case; '{dupes[0]}' repeats another",
                key=f"weights.{dupes[0]}",
            )
        for name in self.targets:
            if name not in self.weights:
                raise Problem(
                    "a target names a metric without a weight",
                    key=f"targets.{name}",
                    expected=f"one of {', '.join(self.weights)}",
                    found=repr(name),
                )
        total = sum(self.targets.values())
        if total > 1 + 1e-9:
            raise Problem(
                f"targets add up to {total:g}; shares of one bucket cannot exceed 1",
                key="targets",
                expected="shares that sum to at most 1 (0.5 = 50 %)",
                found=f"{total:g}",
            )
        return self

    def to_spec(self) -> MetricSpec:
        return MetricSpec(
            weights=dict(self.weights),
            default=None if self.default == "missing" else float(self.default),
            label_prefix=self.label_prefix,
            targets=dict(self.targets),
        )


class FreshnessConfig(Strict):
    """``[scoring.freshness]``: inputs unchanged for long are stale."""

    review_after_days: Annotated[int, Field(gt=0, le=36_500)]
    #: Added while an item's inputs are stale, removed once one changes.
    stale_label: Annotated[str, Field(min_length=1)] | None = None
    #: Multiply the confidence input by this while stale (RICE, ICE, or a formula's).
    confidence_decay: Annotated[float, Field(gt=0, le=1)] | None = None

    @field_validator("stale_label")
    @classmethod
    def _label_safe(cls, value: str | None) -> str | None:
        return label_safe(value)

    def to_spec(self) -> FreshnessSpec:
        return FreshnessSpec(
            review_after_days=self.review_after_days, confidence_decay=self.confidence_decay
        )


class ScoringConfig(Strict):
    model: ModelName = "rice"
    decimals: Annotated[int, Field(ge=0, le=6)] = 1
    #: Model input name → the tracker field (name or id) holding it.
    inputs: dict[str, Annotated[str, Field(min_length=1)]]
    #: Per input: option name → number, for select fields and t-shirt sizes.
    scales: dict[str, dict[str, float]] = Field(default_factory=dict)
    #: Inputs read as fractions; default: RICE's confidence.
    percent_inputs: list[str] | None = None
    #: The expression for ``model = "formula"``, over the input names.
    formula: Annotated[str, Field(max_length=MAX_QUERY)] | None = None
    #: For ``formula``: the input that sizes an item for capacity buckets.
    effort_input: str | None = None
    #: ``per-source`` ranks each source alone; ``global`` ranks all sources as one portfolio.
    ranking: Literal["per-source", "global"] = "per-source"
    #: ``lift`` ranks a blocker above what it blocks (Jira "Blocks" links, GitHub issue
    #: dependencies, a Jira CSV export's link columns); ``ignore`` neither reads nor uses them.
    dependencies: Literal["lift", "ignore"] = "lift"
    #: ``[scoring.metrics]``: weigh each score by the key metric its item moves.
    metrics: MetricsConfig | None = None
    #: ``[scoring.freshness]``: flag items whose inputs have not changed for long.
    freshness: FreshnessConfig | None = None

    @model_validator(mode="after")
    def _inputs_fit_model(self) -> Self:
        if self.model == "formula":
            if not self.formula:
                raise Problem(
                    'model = "formula" needs a formula',
                    key="formula",
                    expected='an expression such as "reach * impact / effort"',
                    found="nothing",
                )
            problem = check_formula(self.formula, list(self.inputs))
            if problem:
                raise Problem(problem, key="formula")
        else:
            if self.formula:
                raise Problem(
                    f'formula is only used with model = "formula", not "{self.model}"',
                    key="formula",
                )
            expected = MODEL_INPUTS[self.model]
            missing = [n for n in expected if n not in self.inputs]
            extra = [n for n in self.inputs if n not in expected]
            if missing or extra:
                raise Problem(
                    key="inputs",
                    expected=", ".join(expected),
                    found=", ".join(self.inputs) or "nothing",
                    message=f"{self.model} takes inputs {', '.join(expected)}; "
                    + "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(missing)}" if missing else "",
                            f"unknown {', '.join(extra)}" if extra else "",
                        )
                        if part
                    ),
                )
        for name in list(self.scales) + list(self.percent_inputs or []):
            if name not in self.inputs:
                where = "scales" if name in self.scales else "percent_inputs"
                raise Problem(
                    f"'{name}' is not one of the inputs",
                    key=f"{where}.{name}",
                    expected=f"one of {', '.join(self.inputs)}",
                    found=repr(name),
                )
        if self.effort_input is not None and self.effort_input not in self.inputs:
            raise Problem(
                "effort_input is not one of the inputs",
                key="effort_input",
                expected=f"one of {', '.join(self.inputs)}",
                found=repr(self.effort_input),
            )
        if METRIC_INPUT in self.inputs:
            raise Problem(
                f"'{METRIC_INPUT}' is reserved for [scoring.metrics] field; name the input "
                "differently",
                key=f"inputs.{METRIC_INPUT}",
            )
        decay = self.freshness.confidence_decay if self.freshness is not None else None
        if decay is not None and "confidence" not in input_names(self.to_model_spec()):
            raise Problem(
                f"confidence_decay multiplies the confidence input, and model '{self.model}' "
                "has none",
                key="freshness.confidence_decay",
                expected="rice, ice, ice-avg, or a formula with an input named confidence",
                found=self.model,
            )
        return self

    @property
    def effort(self) -> str | None:
        return self.effort_input or DEFAULT_EFFORT_INPUT.get(self.model)

    def to_model_spec(self) -> ModelSpec:
        percent = (
            self.percent_inputs
            if self.percent_inputs is not None
            else PERCENT_INPUTS.get(self.model, ())
        )
        return ModelSpec(
            model=self.model,
            inputs=MODEL_INPUTS.get(self.model, tuple(self.inputs)),
            scales={k: dict(v) for k, v in self.scales.items()},
            percent_inputs=frozenset(percent),
            formula=self.formula,
            decimals=self.decimals,
            effort_input=self.effort,
            metrics=self.metrics.to_spec() if self.metrics is not None else None,
            freshness=self.freshness.to_spec() if self.freshness is not None else None,
        )


class OutputsConfig(Strict):
    score_field: str | None = None
    priority_field: str | None = None
    label_prefix: Annotated[str, Field(min_length=1)] = "roadmap:"
    needs_input_label: str | None = None
    explain_field: str | None = None
    rank_field: str | None = None
    pin_label: str | None = None
    #: Put the source's ranked items in ranking order in the tracker's own order (Jira's
    #: Rank, a GitHub Project's item positions), moving as few as possible.
    reorder: bool = False
    priority: list[CutConfig] = Field(default_factory=list)
    roadmap: list[CutConfig] = Field(default_factory=list)

    @field_validator("label_prefix", "needs_input_label", "pin_label")
    @classmethod
    def _label_safe(cls, value: str | None) -> str | None:
        return label_safe(value)

    @model_validator(mode="after")
    def _cuts_make_sense(self) -> Self:
        _check_cuts(self.priority, what="priority tier", key="priority")
        _check_cuts(self.roadmap, what="roadmap bucket", key="roadmap")
        for i, cut in enumerate(self.priority):
            if cut.capacity is not None:
                raise Problem(
                    key=f"priority[{i}].capacity",
                    message=f"priority tier '{cut.name}': capacity is for roadmap buckets; "
                    "use min_score, top or top_percent",
                )
        for i, cut in enumerate(self.roadmap):
            if not _LABEL.match(cut.name):
                raise Problem(
                    "roadmap bucket names become labels and cannot contain spaces",
                    key=f"roadmap[{i}].name",
                    found=repr(cut.name),
                )
        for key, label in (
            ("needs_input_label", self.needs_input_label),
            ("pin_label", self.pin_label),
        ):
            if label and label.startswith(self.label_prefix):
                raise Problem(
                    key=key,
                    message=f"'{label}' starts with label_prefix '{self.label_prefix}'; priosync would "
                    "treat it as a roadmap label. Pick a label outside the prefix",
                )
        return self

    def bucket_label(self, bucket: str) -> str:
        return f"{self.label_prefix}{bucket}"

    def owns_label(self, label: str) -> bool:
        """True for the labels priosync may add or remove: the prefix and needs-input."""
        return label.startswith(self.label_prefix) or label == self.needs_input_label


def http_url(value: str, *, key: str) -> str:
    """A tracker's base URL without its trailing slash: http(s), a host, nothing hidden.

    Whitespace or control characters anywhere (a pasted ``\r\n`` would smuggle a header),
    credentials in the URL, a query or a fragment are refused.
    """
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError(f"{key} contains whitespace or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"{key} must be an http(s) URL with a host, e.g. https://acme.atlassian.net"
        )
    if parts.username or parts.password:
        raise ValueError(f"{key} must not carry credentials; they come from the environment")
    if parts.query or parts.fragment:
        raise ValueError(f"{key} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{key} has an invalid port") from None
    return value.rstrip("/")


#: A Jira issue link type's name ("Blocks"), as Jira's link-type settings show it.
LinkTypeName = Annotated[str, Field(min_length=1, max_length=255)]


class Pacing(Strict):
    """Overrides for a connector's default pacing; leave unset to keep the tracker's safe defaults."""

    concurrency: Annotated[int, Field(ge=1, le=64)] | None = None
    reads_per_second: Annotated[float, Field(gt=0)] | None = None
    writes_per_second: Annotated[float, Field(gt=0)] | None = None


class SourceBase(Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
    #: Per-source overrides of ``scoring.inputs`` (input name → field name or id).
    inputs: dict[str, str] = Field(default_factory=dict)
    pacing: Pacing = Pacing()


class JiraSource(SourceBase):
    kind: Literal["jira"]
    #: The site, e.g. https://acme.atlassian.net (Cloud) or https://jira.acme.com (Data Center).
    url: str | None = None
    #: For scoped API tokens: requests go through api.atlassian.com/ex/jira/{cloud_id}.
    cloud_id: str | None = None
    jql: Annotated[str, Field(min_length=1, max_length=MAX_QUERY)]
    #: ``auto`` asks serverInfo; set ``cloud`` or ``dc`` to skip that request.
    deployment: Literal["auto", "cloud", "dc"] = "auto"
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_API_TOKEN"  # noqa: S105 - a variable name, not a token
    pat_env: str = "JIRA_PAT"
    #: Send notifications for priosync's edits (Jira's notifyUsers). Off needs project-admin.
    notify: bool = False
    #: Issue link types (by name) whose outward side blocks the inward side, for
    #: ``[scoring] dependencies``. Link types are a site's own configuration, hence per source.
    blocking_link_types: list[LinkTypeName] = Field(default_factory=lambda: ["Blocks"])

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, key="url")

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.url is None) == (self.cloud_id is None):
            raise Problem(
                "a jira source needs exactly one of url (the site) or cloud_id",
                key="url",
                expected='url = "https://your-site.atlassian.net" or cloud_id = "…"',
                found="both" if self.url else "neither",
            )
        if self.cloud_id is not None and self.deployment == "dc":
            raise Problem("cloud_id is for Jira Cloud; Data Center sources use url", key="cloud_id")
        return self


class GitHubSource(SourceBase):
    kind: Literal["github"]
    #: A GitHub Project as "owner/number": inputs come from its custom fields.
    project: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]*/\d+$")] | None = None
    #: A repository as "owner/name": inputs come from the organization's issue fields.
    repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]*/[A-Za-z0-9_.\-]+$")] | None = (
        None
    )
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a token
    include_pull_requests: bool = False
    state: Literal["open", "closed", "all"] = "open"

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value, key="api_url")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.project is None) == (self.repo is None):
            raise Problem(
                "a github source needs exactly one of project or repo",
                key="project",
                expected='project = "owner/number" or repo = "owner/name"',
                found="both" if self.project else "neither",
            )
        return self


class FileSource(SourceBase):
    kind: Literal["file"]
    #: A CSV (e.g. a Jira export) or JSON file, relative to the config file. Read-only.
    path: Annotated[Path, Field(strict=False)]
    format: Literal["auto", "csv", "json"] = "auto"
    key_column: str = "Issue key"
    title_column: str = "Summary"
    #: Link types read from a Jira CSV export's ``Outward issue link (<type>)`` (blocks) and
    #: ``Inward issue link (<type>)`` (is blocked by) columns, for ``[scoring] dependencies``.
    blocking_link_types: list[LinkTypeName] = Field(default_factory=lambda: ["Blocks"])
    #: With ``[scoring.freshness]``: the column holding when the inputs last changed (a date).
    changed_column: str | None = None


Source = Annotated[JiraSource | GitHubSource | FileSource, Field(discriminator="kind")]


class ScheduleConfig(Strict):
    #: Five-field cron expression for the full sync when running `priosync serve`.
    cron: str | None = None
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = value.split()
        if len(parts) != 5 or not all(_CRON_FIELD.match(p) for p in parts):
            raise ValueError(
                "cron takes five fields (minute hour day month weekday), e.g. '0 * * * *'"
            )
        return value

    @model_validator(mode="after")
    def _serve_can_run_it(self) -> Self:
        # The service's own trigger decides: `check` refuses what `serve` would refuse. The
        # default (hourly, UTC) always holds, and a cron job's config then loads no scheduler.
        if self.cron is None and self.timezone == "UTC":
            return self
        try:
            build_cron_trigger(self.cron or "0 * * * *", self.timezone)
        except ConfigError as exc:
            raise Problem(
                exc.detail,
                key=(exc.key or "schedule").removeprefix("schedule."),
                expected=exc.expected,
                found=exc.found,
            ) from None
        return self


class ServerConfig(Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    #: Webhook bodies larger than this are refused with 413.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    #: Accept webhooks without a configured secret. Only for trying things out.
    accept_unsigned: bool = False
    #: Serve ``GET /report``: the whole ranking (titles, keys, scores) to whoever reaches the
    #: port. Off by default; with PRIOSYNC_REPORT_TOKEN set it also needs that token.
    report: bool = False
    #: Replicas (a PostgreSQL ``state``): a replica silent this long (no heartbeat) is taken
    #: for dead, and its job is run again by another.
    takeover_after_s: Annotated[float, Field(ge=1, le=3600)] = 30.0


#: A duration as the config writes it: a whole number and a unit, ``90s``, ``10m``, ``24h``, ``7d``.
Duration = Annotated[str, Field(pattern=r"^[0-9]{1,7}[smhd]$")]
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(value: str) -> int:
    """Seconds in a ``Duration`` (``"24h"`` → 86400)."""
    return int(value[:-1]) * _UNIT_S[value[-1]]


class SyncConfig(Strict):
    """How a scheduled sync reads (``sync.incremental``): docs/tracker-apis.md §1.13."""

    #: With a state store (``priosync sync``, the service's schedule): read the list of ids
    #: and the full fields only of issues updated since the last sync, the rest from the
    #: stored snapshot. Sources that cannot be read so (GitHub, files) are read in full.
    incremental: bool = True
    #: A full read at least this often (and on ``sync --full``).
    full_every: Duration = "24h"
    #: How far before the last sync's read an incremental read looks back: covers the search
    #: index's lag, clock skew between replicas and the minute resolution of JQL dates.
    overlap: Duration = "10m"


class PriosyncConfig(BaseModel):
    """The whole configuration: the TOML file, overridden by ``PRIOSYNC_<SECTION>__<KEY>``.

    A plain model, not a pydantic-settings one: ``config.loading`` merges the environment into
    the file's values itself, and importing pydantic-settings (every provider from AWS to
    YAML) cost each command 5 MB of memory for nothing.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        strict=True,
        allow_inf_nan=False,
        str_max_length=MAX_TEXT,
        # As pydantic-settings did: defaults are validated too.
        validate_default=True,
    )

    scoring: ScoringConfig
    outputs: OutputsConfig = OutputsConfig()
    sources: list[Source] = Field(default_factory=list)
    schedule: ScheduleConfig = ScheduleConfig()
    server: ServerConfig = ServerConfig()
    sync: SyncConfig = SyncConfig()
    #: Where the audit log (and the service's shared state) lives: a SQLite file path, or a
    #: ``postgresql://user@host/db`` URL whose password comes from the environment
    #: (``PGPASSWORD``, or the whole URL in ``PRIOSYNC_STATE``). Default: the user's state
    #: directory.
    state: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise Problem(
                f"source names must be unique; {', '.join(dupes)} appears twice",
                key=f"sources[{names.index(dupes[0], names.index(dupes[0]) + 1)}].name",
            )
        if (
            any(c.capacity is not None for c in self.outputs.roadmap)
            and self.scoring.effort is None
        ):
            raise Problem(
                key="outputs.roadmap",
                message=f"capacity buckets need an effort input; model '{self.scoring.model}' has none "
                "(use min_score, top or top_percent, or a formula with effort_input)",
            )
        writable = [s.name for s in self.sources if not isinstance(s, FileSource)]
        if self.outputs.priority and not self.outputs.priority_field and writable:
            # A read-only config (file sources only) shows its tiers in `rank`, writes nothing.
            raise Problem(
                f"priority tiers are configured but there is no field to write them to "
                f"(source {writable[0]} is written)",
                key="outputs.priority_field",
                expected='a field name, e.g. "priority"',
                found="nothing",
            )
        self._labels_apart()
        metric_field = self.scoring.metrics is not None and self.scoring.metrics.field is not None
        for i, source in enumerate(self.sources):
            unknown = [
                n
                for n in source.inputs
                if n not in self.scoring.inputs and not (n == METRIC_INPUT and metric_field)
            ]
            if unknown:
                raise Problem(
                    "maps an input the model does not take",
                    key=f"sources[{i}].inputs.{unknown[0]}",
                    expected=f"one of {', '.join(self.scoring.inputs)}",
                    found=repr(unknown[0]),
                )
        return self

    def _labels_apart(self) -> None:
        """The stale label and metric labels must not be taken for one another or for owned
        roadmap and needs-input labels (priosync would add or remove the wrong ones)."""
        outputs, scoring = self.outputs, self.scoring
        stale = scoring.freshness.stale_label if scoring.freshness is not None else None
        prefix = scoring.metrics.label_prefix if scoring.metrics is not None else None
        if stale is not None:
            if stale.startswith(outputs.label_prefix) or stale in (
                outputs.needs_input_label,
                outputs.pin_label,
            ):
                raise Problem(
                    f"'{stale}' is a roadmap, needs-input or pin label; the stale label must "
                    "differ",
                    key="scoring.freshness.stale_label",
                )
            if prefix is not None and stale.casefold().startswith(prefix.casefold()):
                raise Problem(
                    f"'{stale}' starts with the metrics label_prefix '{prefix}'",
                    key="scoring.freshness.stale_label",
                )
        if prefix is not None:
            owned = [outputs.label_prefix, outputs.needs_input_label, outputs.pin_label]
            for label in filter(None, owned):
                if label.casefold().startswith(prefix.casefold()) or prefix.casefold().startswith(
                    label.casefold()
                ):
                    raise Problem(
                        f"label_prefix '{prefix}' overlaps the label '{label}' priosync "
                        "manages or honours; pick a prefix apart from it",
                        key="scoring.metrics.label_prefix",
                    )

    def stale_label(self) -> str | None:
        """The label flagging stale items, when configured."""
        freshness = self.scoring.freshness
        return freshness.stale_label if freshness is not None else None

    def source(self, name: str) -> JiraSource | GitHubSource | FileSource:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def inputs_for(self, source: JiraSource | GitHubSource | FileSource) -> dict[str, str]:
        """Input name → tracker field for one source: the scoring map with its overrides,
        and the field naming the key metric (as the reserved input ``METRIC_INPUT``)."""
        metrics = self.scoring.metrics
        named = {METRIC_INPUT: metrics.field} if metrics is not None and metrics.field else {}
        return {**self.scoring.inputs, **named, **source.inputs}
