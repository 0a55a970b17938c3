"""``priosync check`` for a GitHub source: one ``CheckResult`` per thing that can be wrong.

Order: the token (``viewer``, and for classic tokens the ``x-oauth-scopes`` it carries)
first — when it fails nothing else can be asked; then each mapped field (exists, type
fits, single-select options covered by the scale), the priority names, the label prefix,
and the hourly budget against what a full sync would cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from connectors.fields import (
    OUTPUT_SETTINGS,
    TrackerField,
    field_checks,
    output_refs,
    resolve_field,
)
from connectors.github import graphql as g
from connectors.github.fields import RULES
from priosync.domain import CheckResult
from priosync.errors import AuthFailed, FieldMappingError, TrackerError

if TYPE_CHECKING:
    from connectors.github.common import GitHubSourceConnector

#: GitHub refuses label names longer than 50 characters.
MAX_LABEL_LENGTH = 50

#: The fix for an address that does not answer, or answers as something else.
ADDRESS_FIX = "check the source's api_url and that this machine can reach it"


async def check_source(connector: GitHubSourceConnector) -> list[CheckResult]:
    """Every check line for the connector's source; a tracker error fails its line only."""
    name = connector.source.name
    try:
        result = await connector.client.graphql(g.VIEWER_QUERY)
    except TrackerError as exc:
        # Only a refusal is about the credentials; an unreachable or wrong address is not.
        fix = credentials_fix(connector) if isinstance(exc, AuthFailed) else ADDRESS_FIX
        return [CheckResult(f"{name}: credentials", False, str(exc), fix)]
    login = str((result.data.get("viewer") or {}).get("login") or "?")
    results = [CheckResult(f"{name}: credentials", True, f"{login} on {connector.source.api_url}")]
    results.append(scope_line(connector, connector.client.last_scopes))
    try:
        all_fields = await connector.all_fields()
    except TrackerError as exc:
        return [*results, CheckResult(f"{name}: fields of {connector.where()}", False, str(exc))]
    results += field_checks(
        name,
        inputs=connector.inputs,
        outputs=connector.outputs,
        fields=all_fields,
        rules=RULES,
        where=connector.where(),
        scales=connector.scales,
    )
    results += priority_lines(connector, all_fields)
    results.append(label_line(connector))
    results.append(await budget_line(connector))
    return results


def credentials_fix(connector: GitHubSourceConnector) -> str:
    return (
        f"set {connector.source.token_env} to a valid token, or GITHUB_APP_ID, "
        "GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID for a GitHub App"
    )


def scope_line(connector: GitHubSourceConnector, scopes: frozenset[str] | None) -> CheckResult:
    """Classic tokens list their scopes; fine-grained tokens and Apps are checked by use."""
    label = f"{connector.source.name}: token permissions"
    if scopes is None:
        return CheckResult(
            label, True, "fine-grained token or GitHub App: permissions are checked by reading"
        )
    missing = [s for s in connector.token_scopes if s not in scopes]
    if missing:
        return CheckResult(
            label,
            False,
            f"the token lacks {', '.join(missing)} (has {', '.join(sorted(scopes)) or 'none'})",
            f"add the {', '.join(missing)} scope(s) to the token",
        )
    return CheckResult(label, True, ", ".join(sorted(scopes)))


def priority_lines(
    connector: GitHubSourceConnector, all_fields: Sequence[TrackerField]
) -> list[CheckResult]:
    """Whether every priority tier name is an option of the priority field."""
    ref = connector.outputs.priority_field
    if not connector.priority_names or ref is None:
        return []
    try:
        target = resolve_field(
            ref,
            all_fields,
            rules=RULES,
            what=OUTPUT_SETTINGS["priority"],
            where=connector.where(),
        )
    except FieldMappingError:
        return []  # already reported by the field line
    label = f"{connector.source.name}: priority names"
    missing = [n for n in connector.priority_names if target.option_id(n) is None]
    if missing:
        return [
            CheckResult(
                label,
                False,
                f"{', '.join(missing)} not among {target.name} options: "
                f"{', '.join(target.options)}",
                f"add the options to {target.name} or rename the tiers",
            )
        ]
    return [CheckResult(label, True, ", ".join(connector.priority_names))]


def label_line(connector: GitHubSourceConnector) -> CheckResult:
    """Managed label names fit GitHub's 50-character limit."""
    outputs = connector.outputs
    names = [outputs.bucket_label(c.name) for c in outputs.roadmap]
    names += [outputs.needs_input_label] if outputs.needs_input_label else []
    too_long = [n for n in names if len(n) > MAX_LABEL_LENGTH]
    label = f"{connector.source.name}: label prefix '{outputs.label_prefix}'"
    if too_long:
        return CheckResult(
            label,
            False,
            f"longer than {MAX_LABEL_LENGTH} characters: {', '.join(too_long)}",
            "shorten label_prefix or the bucket names",
        )
    return CheckResult(label, True, ", ".join(names) or "no managed labels")


async def budget_line(connector: GitHubSourceConnector) -> CheckResult:
    """The hourly GraphQL budget left against a full sync's cost (reads plus writes)."""
    label = f"{connector.source.name}: rate-limit budget"
    client = connector.client
    try:
        size = await connector.backlog_size()
    except TrackerError as exc:
        return CheckResult(label, False, str(exc))
    budget = client.budget
    if budget is None:
        return CheckResult(label, True, "not reported (GitHub Enterprise Server with limits off?)")
    if size is None:
        return CheckResult(label, True, f"{budget.remaining} GraphQL points left this hour")
    outputs = len(output_refs(connector.outputs)) + 1
    cost = math.ceil(size / g.PAGE_SIZE) + math.ceil(size * outputs / g.MUTATIONS_PER_DOCUMENT)
    ok = budget.remaining >= cost
    detail = f"{budget.remaining} points left; a full sync of {size} items costs about {cost}"
    return CheckResult(label, ok, detail, "" if ok else "run later, after the hourly reset")
