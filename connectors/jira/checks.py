"""``priosync check`` for a Jira source: one ``CheckResult`` per thing that can be wrong.

Order: credentials (``/myself``) first — when they fail nothing else can be asked; then each
mapped field (exists, type fits, select options covered by the configured scale), the
priority tier names, edit permission on the source's projects, and, when ``notify`` is off,
the project-admin permission Jira demands before it accepts ``notifyUsers=false``
(docs/tracker-apis.md §1.4), and with ``reorder`` the *Schedule Issues* permission the rank
call needs (§4.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from connectors.fields import (
    OUTPUT_SETTINGS,
    TrackerField,
    field_checks,
    resolve_field,
)
from connectors.jira import protocol as p
from connectors.jira.fields import RULES, WHERE, with_options
from connectors.jira.rank import order_by_rank, without_rank
from priosync.domain import CheckResult
from priosync.errors import AuthFailed, FieldMappingError, TrackerError

if TYPE_CHECKING:
    from connectors.jira.connector import JiraConnector

EDIT = "EDIT_ISSUES"
ADMIN = "ADMINISTER_PROJECTS"
#: Ranking an issue needs *Schedule Issues* (``reorder``).
SCHEDULE = "SCHEDULE_ISSUES"

#: The fix for an address that does not answer, or answers as something else.
ADDRESS_FIX = "check the source's url (or cloud_id) and that this machine can reach it"


async def check_source(connector: JiraConnector) -> list[CheckResult]:
    """Every check line for the connector's source; a tracker error fails its line only."""
    source = connector.source.name
    try:
        deployment, site_url = await connector.deployment_info()
        who = await connector.client.myself()
    except TrackerError as exc:
        # Only a refusal is about the credentials; an unreachable or wrong address is not.
        fix = credentials_fix(connector) if isinstance(exc, AuthFailed) else ADDRESS_FIX
        return [CheckResult(f"{source}: credentials", False, str(exc), fix)]
    flavour = "Jira Cloud" if deployment == "cloud" else "Jira Data Center"
    results = [CheckResult(f"{source}: credentials", True, f"{who} on {flavour} at {site_url}")]
    try:
        listed = await connector.client.fields()
        keys = await connector.sample_keys()
        options = await connector.client.edit_options(keys[0]) if keys else {}
    except TrackerError as exc:
        return [*results, CheckResult(f"{source}: fields", False, str(exc))]
    all_fields = with_options(listed, options)
    results += field_checks(
        source,
        inputs=connector.inputs,
        outputs=connector.outputs,
        fields=all_fields,
        rules=RULES,
        where=WHERE,
        scales=connector.scales,
    )
    results += await check_priority_names(connector, all_fields)
    results += await check_permissions(connector, p.project_keys(keys))
    if connector.outputs.reorder:
        results.append(await check_rank_order(connector))
    return results


async def check_rank_order(connector: JiraConnector) -> CheckResult:
    """Whether the source's JQL can be read ``ORDER BY Rank`` (Jira Software's field)."""
    label = f"{connector.source.name}: read the backlog's order"
    try:
        await connector.sample_keys(limit=1, jql=order_by_rank(connector.source.jql))
    except TrackerError as exc:
        return CheckResult(
            label, False, str(without_rank(exc)), "install Jira Software, or set reorder = false"
        )
    return CheckResult(label, True, "ORDER BY Rank: reorder reads Jira's own order")


def credentials_fix(connector: JiraConnector) -> str:
    """How to fix refused credentials, naming the variables this source reads."""
    s = connector.source
    return (
        f"set {s.email_env} and {s.token_env} (Cloud; a scoped token also needs cloud_id) "
        f"or {s.pat_env} (Data Center); API tokens expire, so check it was not revoked"
    )


async def check_priority_names(
    connector: JiraConnector, all_fields: Sequence[TrackerField]
) -> list[CheckResult]:
    """A line saying whether every priority tier name is a value the priority field takes."""
    ref = connector.outputs.priority_field
    if not connector.priority_names or ref is None:
        return []
    label = f"{connector.source.name}: priority names"
    try:
        target = resolve_field(
            ref, all_fields, rules=RULES, what=OUTPUT_SETTINGS["priority"], where=WHERE
        )
    except FieldMappingError:
        return []  # already reported by the field line
    known = list(target.options)
    if not known and target.kind == "priority":
        try:
            known = await connector.client.priorities()
        except TrackerError as exc:
            return [CheckResult(label, False, str(exc))]
    if not known:
        return [CheckResult(label, False, f"could not read the options of {target.name}")]
    missing = [n for n in connector.priority_names if n.lower() not in {k.lower() for k in known}]
    if missing:
        return [
            CheckResult(
                label,
                False,
                f"{', '.join(missing)} not among {target.name} values: {', '.join(known)}",
                "rename the tiers in [outputs] priority to values Jira has",
            )
        ]
    return [CheckResult(label, True, ", ".join(connector.priority_names))]


async def check_permissions(connector: JiraConnector, projects: Sequence[str]) -> list[CheckResult]:
    """Edit permission per project, and project admin when notifications are suppressed."""
    source = connector.source
    wanted = [EDIT] if source.notify else [EDIT, ADMIN]
    reorder = connector.outputs.reorder
    if reorder:
        wanted.append(SCHEDULE)
    results: list[CheckResult] = []
    for project in projects:
        try:
            held = await connector.client.my_permissions(project, wanted)
        except TrackerError as exc:
            results.append(CheckResult(f"{source.name}: permissions in {project}", False, str(exc)))
            continue
        results.append(
            CheckResult(
                f"{source.name}: edit issues in {project}",
                held.get(EDIT, False),
                "" if held.get(EDIT) else "the account cannot edit issues there",
                "" if held.get(EDIT) else f"grant 'Edit Issues' in {project}",
            )
        )
        if not source.notify:
            results.append(admin_line(source.name, project, held.get(ADMIN, False)))
        if reorder:
            results.append(schedule_line(source.name, project, held.get(SCHEDULE, False)))
    return results


def schedule_line(source: str, project: str, held: bool) -> CheckResult:
    """The permission Jira's rank call needs (``reorder``, docs/tracker-apis.md §4.1)."""
    label = f"{source}: rank issues in {project}"
    if held:
        return CheckResult(label, True, "'Schedule Issues': reorder can move issues")
    return CheckResult(
        label,
        False,
        "reorder moves issues with Jira Software's rank call, which needs 'Schedule Issues'",
        f"grant 'Schedule Issues' in {project}, or set reorder = false",
    )


def admin_line(source: str, project: str, held: bool) -> CheckResult:
    """The notifyUsers=false permission line, naming both fixes when it is missing."""
    label = f"{source}: edit without notifying watchers in {project}"
    if held:
        return CheckResult(label, True, "project admin: notifyUsers=false is accepted")
    return CheckResult(
        label,
        False,
        "Jira refuses notifyUsers=false without project-admin rights; every edit would get 403",
        f"grant 'Administer Projects' in {project}, or set notify = true on source '{source}'",
    )
