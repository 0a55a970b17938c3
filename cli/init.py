"""`priosync init`: a commented starter config; when a source and its credentials are given,
the mapping is filled in from the tracker's own field names."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cli.init_cuts import propose_cuts, with_cuts
from cli.init_fit import (
    check_source_options,
    discover_fields,
    mark_fields,
    missing_inputs,
    read_inputs_only,
    with_api_url,
)
from priosync.domain import FieldInfo
from priosync.errors import ConfigError, PriosyncError

#: What each model input and owned field is usually called in a tracker.
GUESSES = {
    "reach": "Reach",
    "impact": "Impact",
    "confidence": "Confidence",
    "effort": "Effort",
    "score_field": "RICE score",
    "explain_field": "Score rationale",
    "rank_field": "Backlog rank",
}

TEMPLATE = """\
# priosync configuration — reference: README.md "Configuration".
# Secrets never go in this file: set {secrets} in the environment.

[scoring]
model = "rice"            # rice | ice | ice-avg | wsjf | formula
decimals = 1              # scores are rounded to this before comparing and writing
# model input → the tracker field holding it (a name, or an id such as customfield_10016)
inputs = {{ reach = {reach}, impact = {impact}, confidence = {confidence}, effort = {effort} }}
# select options (and t-shirt sizes) → numbers; matched case-insensitively
scales.impact = {{ Massive = 3, High = 2, Medium = 1, Low = 0.5, Minimal = 0.25 }}
scales.confidence = {{ High = 1.0, Medium = 0.8, Low = 0.5 }}

[outputs]
{score_line}
priority_field = {priority_field}
label_prefix = "roadmap:"            # priosync adds/removes only labels with this prefix
needs_input_label = "needs-scoring"  # on items missing an input
{explain_line}
{rank_line}
pin_label = "priority-pinned"        # a person's override: keep this item's priority and bucket
priority = [                         # first match wins: top N, top_percent, min_score, or catch-all
  {{ name = "Highest", top = 5 }},
  {{ name = "High", min_score = 100 }},
  {{ name = "Medium", min_score = 20 }},
  {{ name = "Low" }},
]
roadmap = [                          # capacity = effort units summed in rank order
  {{ name = "now", capacity = 6 }},
  {{ name = "next", capacity = 12 }},
  {{ name = "later" }},
]

[[sources]]
{source}

# [schedule]
# cron = "0 * * * *"     # for `priosync serve`

# [server]
# host = "127.0.0.1"
# port = 8080
"""


def source_block(
    kind: str, *, url: str | None, jql: str | None, project: str | None, file: Path | None
) -> str:
    if kind == "jira":
        return "\n".join(
            [
                'name = "backlog"',
                'kind = "jira"',
                f"url = {json.dumps(url or 'https://your-site.atlassian.net')}",
                f"jql = {json.dumps(jql or 'project = WEB AND statusCategory != Done')}",
                "# notify = true   # email watchers about priosync's edits; off needs project admin",
            ]
        )
    if kind == "github":
        return "\n".join(
            [
                'name = "backlog"',
                'kind = "github"',
                f"project = {json.dumps(project or 'your-org/1')}",
            ]
        )
    if kind == "file":
        return "\n".join(
            [
                'name = "backlog"',
                'kind = "file"',
                f"path = {json.dumps(str(file or 'backlog.csv'))}",
            ]
        )
    raise ConfigError(
        "unknown source kind", key="--kind", expected="jira, github or file", found=kind
    )


def secrets_for(kind: str) -> str:
    return {
        "jira": "JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)",
        "github": "GITHUB_TOKEN (or a GitHub App's GITHUB_APP_* variables)",
        "file": "nothing (a file source needs no credentials)",
    }.get(kind, "credentials")


def render_config(kind: str, source: str, mapping: dict[str, str | None]) -> str:
    def q(key: str) -> str:
        return json.dumps(mapping.get(key) or GUESSES.get(key, key))

    def optional(key: str, comment: str) -> str:
        value = mapping.get(key, GUESSES.get(key))
        line = f"{key} = {json.dumps(value)}  # {comment}"
        return line if value else f"# {key} = {json.dumps(GUESSES.get(key, ''))}  # {comment}"

    return TEMPLATE.format(
        secrets=secrets_for(kind),
        reach=q("reach"),
        impact=q("impact"),
        confidence=q("confidence"),
        effort=q("effort"),
        score_line=optional("score_field", "a number field; omit to not write a score"),
        priority_field=json.dumps("priority" if kind == "jira" else "Priority"),
        explain_line=optional("explain_field", "optional text field"),
        # Not proposed: a number field makes every item below a change a write. reorder
        # sets the tracker's own order in the fewest moves instead.
        rank_line=(
            f"# rank_field = {json.dumps(mapping.get('rank_field') or GUESSES['rank_field'])}"
            "  # a number field, 1 is the top; rewrites every item below a change\n"
            + ("" if kind != "file" else "# ")
            + "reorder = true                       # the backlog's own order follows the ranking"
        ),
        source=source,
    )


def guess_mapping(found: list[FieldInfo]) -> dict[str, str | None]:
    """Pick the tracker field whose name matches each input best (exact, then close)."""
    names = [f.name for f in found]
    by_folded = {n.casefold(): n for n in names}
    mapping: dict[str, str | None] = {}
    for key, guess in GUESSES.items():
        exact = by_folded.get(guess.casefold())
        close = difflib.get_close_matches(guess, names, n=1, cutoff=0.8)
        mapping[key] = exact or (close[0] if close else None)
    return mapping


async def write_starter_config(
    path: Path,
    *,
    kind: str,
    url: str | None,
    jql: str | None,
    project: str | None,
    file: Path | None,
    discover: bool | None,
    force: bool,
    environ: Mapping[str, str] | None = None,
    api_url: str | None = None,
) -> tuple[Path, str]:
    """Write the file; return it and a note on discovery (empty when none was tried).

    ``discover=None`` discovers when a source and its credentials are given, and falls back
    to the plain template (saying why) when the tracker cannot be asked.
    """
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it", file=str(path))
    env = os.environ if environ is None else environ
    check_source_options(kind, url=url, api_url=api_url)
    source = with_api_url(source_block(kind, url=url, jql=jql, project=project, file=file), api_url)
    wanted = (
        discover
        if discover is not None
        else can_discover(kind, url=url, project=project, environ=env)
    )
    mapping: dict[str, str | None] = {}
    note = ""
    listed: list[FieldInfo] | None = None
    if wanted:
        try:
            draft = render_config(kind, source, {})
            listed = await discover_fields(draft, path=path, environ=env)
            mapping = guess_mapping(listed)
            found = sum(1 for v in mapping.values() if v)
            note = f"discovered {found} of {len(mapping)} fields from the tracker"
        except PriosyncError as exc:
            if discover:
                raise
            note = f"could not ask the tracker for its fields ({exc}); wrote the template"
    text = mark_fields(
        render_config(kind, source, mapping),
        kind=kind,
        discovered=None if listed is None else [f.name for f in listed],
        missing=missing_inputs(mapping),
    )
    if listed is not None:
        text, note = await fitted_cuts(text, note, mapping, path=path, environ=env)
    path.write_text(text, encoding="utf-8")
    return path, note


async def fitted_cuts(
    text: str,
    note: str,
    mapping: Mapping[str, str | None],
    *,
    path: Path,
    environ: Mapping[str, str],
) -> tuple[str, str]:
    """Score the backlog once and put tiers and buckets that fit it in the config."""
    if missing_inputs(mapping):
        return text, note + "; tiers and buckets left as in the template (inputs missing)"
    try:
        items, spec = await read_inputs_only(text, path=path, environ=environ)
    except PriosyncError as exc:
        return text, note + f"; could not read the backlog to fit tiers and buckets ({exc})"
    proposal = propose_cuts(items, spec)
    if proposal is None:
        return text, note + "; too few scored items to fit tiers and buckets to"
    return with_cuts(text, proposal), f"{note}\n{proposal.note()}"


def can_discover(
    kind: str, *, url: str | None, project: str | None, environ: Mapping[str, str]
) -> bool:
    if kind == "jira" and url:
        return bool(
            environ.get("JIRA_PAT") or (environ.get("JIRA_EMAIL") and environ.get("JIRA_API_TOKEN"))
        )
    if kind == "github" and project:
        return bool(environ.get("GITHUB_TOKEN") or environ.get("GITHUB_APP_ID"))
    return False
