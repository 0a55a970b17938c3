"""`priosync init` fitted to the tracker: where it is, what it has, what setup will add.

- GitHub Enterprise Server and the sandbox are reached with ``--api-url``; ``--url`` is a Jira
  site's and is refused for a GitHub source rather than ignored.
- A starter config names only fields that exist or marks the ones ``priosync setup`` will
  create: with discovery, an output field the tracker lacks is marked "not in the tracker
  yet"; without it, every output line says setup creates it when missing. An input the
  tracker lacks cannot be created; it is listed for the PM to map.
- With discovery, the backlog is read once (inputs only) so tiers and buckets can be
  proposed from its scores (``cli.init_cuts``).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from config import validate_config
from config.models import PriosyncConfig
from connectors.base import Connector
from priosync.domain import FieldInfo, ModelSpec, WorkItem
from priosync.errors import ConfigError
from sync.pipeline import open_connector

#: Output setting → the kind of field `priosync setup` creates for it.
OUTPUT_KINDS = {
    "score_field": "a number field",
    "explain_field": "a text field",
    "rank_field": "a number field",
    "priority_field": "a single-select field with the tier names",
}
INPUT_KEYS = ("reach", "impact", "confidence", "effort")


def check_source_options(kind: str, *, url: str | None, api_url: str | None) -> None:
    """Refuse an option the source kind does not use, naming the one it does."""
    if kind == "github" and url:
        raise ConfigError(
            "--url is a Jira site's address; a GitHub source takes --api-url (GitHub "
            "Enterprise Server: https://HOST/api/v3; the sandbox: http://127.0.0.1:8081)",
            key="--url",
            found=url,
        )
    if kind != "github" and api_url:
        raise ConfigError(
            "--api-url is for GitHub sources (Enterprise Server, the sandbox); a Jira source "
            "takes --url",
            key="--api-url",
            found=api_url,
        )


def with_api_url(source: str, api_url: str | None) -> str:
    """The GitHub source block with its ``api_url`` when one was given."""
    if not api_url:
        return source
    return f"{source}\napi_url = {json.dumps(api_url.rstrip('/'))}"


@asynccontextmanager
async def first_source(
    data: Mapping[str, Any], *, path: Path, environ: Mapping[str, str]
) -> AsyncIterator[tuple[Connector, PriosyncConfig]]:
    """The connector of a draft config's first source (and the config), closed after."""
    loaded = validate_config(data, file=path, environ={})
    connector = open_connector(loaded.config.sources[0], loaded.config, environ=environ)
    try:
        yield connector, loaded.config
    finally:
        await connector.aclose()


async def discover_fields(draft: str, *, path: Path, environ: Mapping[str, str]) -> list[FieldInfo]:
    """The tracker's fields, asked with the draft config's first source."""
    async with first_source(tomllib.loads(draft), path=path, environ=environ) as (connector, _):
        return await connector.fields()


async def read_inputs_only(
    text: str, *, path: Path, environ: Mapping[str, str]
) -> tuple[list[WorkItem], ModelSpec]:
    """The backlog read with the config's inputs and no outputs, and its scoring model.

    Outputs are left out so a tracker that lacks them (before `priosync setup`) reads.
    """
    data: dict[str, Any] = tomllib.loads(text)
    outputs = data.get("outputs") or {}
    data["outputs"] = {"label_prefix": outputs.get("label_prefix", "roadmap:")}
    async with first_source(data, path=path, environ=environ) as (connector, config):
        return await connector.read(), config.scoring.to_model_spec()


def missing_inputs(mapping: Mapping[str, str | None]) -> list[str]:
    """Model inputs discovery found no field for."""
    return [k for k in INPUT_KEYS if k in mapping and not mapping[k]]


def mark_fields(
    text: str,
    *,
    kind: str,
    discovered: Collection[str] | None,
    missing: Sequence[str] = (),
) -> str:
    """The starter config with each output line saying whether setup will create its field.

    ``discovered``: the tracker's field names (None without discovery). ``missing``: inputs
    discovery did not find, listed above the inputs line.
    """
    if kind == "file":
        return text  # a file source is read-only: no output is written, none is created
    names = None if discovered is None else {n.casefold() for n in discovered}
    lines = []
    for line in text.splitlines():
        offered = _COMMENTED_LINE.match(line)
        if offered and names is not None and offered["key"] in PROPOSED:
            line = line.removeprefix("# ")  # offered by the template: setup will create it
        match = _OUTPUT_LINE.match(line)
        if match and _marks(match["key"], kind):
            value = json.loads(match["value"])
            what = OUTPUT_KINDS[match["key"]]
            if names is None:
                said = "`priosync setup` creates it if missing"
                line = f"{line} ({said})" if "#" in match["rest"] else f"{line}  # {said}"
            elif value.casefold() not in names:
                line = (
                    f"{match['key']} = {match['value']}  # not in the tracker yet: "
                    f"`priosync setup` creates {what}"
                )
        if line.startswith("inputs = {") and missing:
            lines.append(
                f"# not found in the tracker: {', '.join(missing)} — map each to a field "
                "it has (`priosync fields` lists them)"
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


#: Outputs a discovered config proposes even when the tracker lacks them: setup creates them.
PROPOSED = ("score_field", "explain_field")
_COMMENTED_LINE = re.compile(r'^# (?P<key>[a-z_]+_field) = "')
_OUTPUT_LINE = re.compile(r'^(?P<key>[a-z_]+_field) = (?P<value>"(?:[^"\\]|\\.)*")(?P<rest>.*)$')


def _marks(key: str, kind: str) -> bool:
    # Jira's priority is the system field every site has; GitHub's is a Project field.
    return key in OUTPUT_KINDS and (key != "priority_field" or kind == "github")
