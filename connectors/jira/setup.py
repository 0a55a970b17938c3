"""`priosync setup` for a Jira source: plan what the site lacks, then create it.

Planning reads the field list, one issue's ``editmeta`` (which fields its edit screen offers,
with select options) and whether the account holds *Administer Jira*; then
``connectors.setup.compare_fields`` says what to create. Jira adds one kind of step: an
existing output field that no edit screen offers gets put on the default screen, since Jira
refuses edits to it ("Field '…' cannot be set. It is not on the appropriate screen, or
unknown."). Applying creates each field (number: float; explanation: multi-line text; a
custom priority: a single select whose options are the tier names, added to its global
context), puts it on the default screen, and then reads ``editmeta`` and the field list again:
a field the project's edit screen still does not offer (the project uses screens of its own),
or a name that now has two fields (a request that landed twice), is reported with the steps
an administrator takes by hand. Data Center creates fields and fills screens over REST but
cannot add options to a select: such a field is never half made, its creation is reported
as an administrator's job instead. Sources: docs/tracker-apis.md §1.11.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from connectors.fields import TrackerField, fields_named
from connectors.jira import protocol as p
from connectors.jira import setup_requests as r
from connectors.jira.fields import RULES, WHERE, with_options
from connectors.setup import (
    FieldNeed,
    SetupPlan,
    SetupProblem,
    SetupReport,
    SetupStep,
    StepResult,
    compare_fields,
    field_needs,
)
from priosync.errors import ChangeRejected, NotFound, TrackerError

if TYPE_CHECKING:
    from connectors.jira.connector import JiraConnector

_CUSTOM_ID = re.compile(r"^customfield_\d+$", re.IGNORECASE)
ADMIN_FIX = (
    "a Jira administrator can grant it (Settings → System → Global permissions → Administer "
    "Jira), or run `priosync setup` with an administrator's credentials"
)


async def plan_setup(connector: JiraConnector) -> SetupPlan:
    """What the source's outputs need that the site lacks (requests: fields, editmeta, permission)."""
    deployment, site_url = await connector.deployment_info()
    flavour = "Jira Cloud" if deployment == "cloud" else "Jira Data Center"
    listed = await connector.client.fields()
    keys = await connector.sample_keys(limit=1)
    editable, options = await _edit_screen(connector, keys)
    needs = field_needs(connector.outputs)
    if deployment == "cloud":
        options.update(await _off_screen_options(connector, listed, needs, editable))
    fields = with_options(listed, options)
    compared = compare_fields(
        needs,
        fields,
        rules=RULES,
        where=WHERE,
        looks_like_id=lambda ref: bool(_CUSTOM_ID.match(ref)),
    )
    steps = list(compared.steps)
    problems = list(compared.problems)
    present = dict(compared.present)
    for need, found in compared.found.items():
        if found.custom and found.id not in editable and keys:
            steps.append(_screen_step(need, found))
            present.pop(need, None)
    if deployment == "dc":
        steps, more = _what_dc_cannot(steps)
        problems += more
    if steps and not await _is_admin(connector, deployment):
        problems.append(
            SetupProblem(
                "permission",
                f"creating fields, options and screen entries needs the 'Administer Jira' "
                f"global permission, which {await connector.client.myself()} lacks",
                ADMIN_FIX,
            )
        )
        return SetupPlan(
            connector.name,
            f"{flavour} at {site_url}",
            tuple(present.values()),
            (),
            tuple(problems),
            blocked=tuple(steps),
        )
    return SetupPlan(
        connector.name,
        f"{flavour} at {site_url}",
        tuple(present.values()),
        tuple(steps),
        tuple(problems),
    )


async def apply_setup(connector: JiraConnector, plan: SetupPlan) -> SetupReport:
    """Take the plan's steps in order; stop at the first refusal; then check what edits reach."""
    deployment, _ = await connector.deployment_info()
    report = SetupReport(plan)
    touched: dict[str, str] = {}  # field id → name, for the check afterwards
    for step in plan.steps:
        try:
            result = await _apply_step(connector, deployment, step)
        except TrackerError as exc:
            report.results.append(StepResult(step, False, str(exc)))
            report.stopped = str(exc)
            break
        report.results.append(result)
        if result.field_id:
            touched[result.field_id] = step.target
        if not result.ok:
            report.stopped = result.detail
            break
    if touched:
        report.problems += await _check_reachable(connector, deployment, touched, report)
    return report


# ── planning ─────────────────────────────────────────────────────────────────────────────


async def _edit_screen(
    connector: JiraConnector, keys: Sequence[str]
) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """Field ids the first issue's edit screen offers, and their select options."""
    if not keys:
        return set(), {}
    body = await connector.client.call(
        p.build_editmeta_request(connector.client.deployment, keys[0])
    )
    return r.parse_editmeta_field_ids(body), p.parse_editmeta_options(body)


async def _off_screen_options(
    connector: JiraConnector,
    listed: Sequence[TrackerField],
    needs: Sequence[FieldNeed],
    editable: set[str],
) -> dict[str, tuple[str, ...]]:
    """Options of the select fields a need names that no edit screen shows (Cloud contexts).

    ``editmeta`` lists options only for fields on the edit screen; an administrator can read
    the others from the field's contexts. Without that right they stay unknown.
    """
    wanted = {n.name.casefold() for n in needs if n.kind == "select"}
    found: dict[str, tuple[str, ...]] = {}
    for field in listed:
        if field.custom and field.kind == "select" and field.id not in editable:
            if field.name.casefold() not in wanted:
                continue
            try:
                found[field.id] = tuple(await _context_options(connector, field.id))
            except TrackerError:
                continue
    return found


async def _context_options(connector: JiraConnector, field_id: str) -> list[str]:
    call = connector.client.call
    values: list[str] = []
    for context in r.parse_contexts(await call(r.build_contexts_request(field_id))):
        values += r.parse_options(await call(r.build_options_request(field_id, context.id)))
    return list(dict.fromkeys(values))


def _screen_step(need: FieldNeed, found: TrackerField) -> SetupStep:
    return SetupStep(
        "add-to-screen",
        found.name,
        f"'{found.name}' ({found.id}, {need.setting}) on the default screen, so edits can reach it",
        kind=need.kind,
        setting=need.setting,
        field_id=found.id,
    )


def _what_dc_cannot(steps: Sequence[SetupStep]) -> tuple[list[SetupStep], list[SetupProblem]]:
    """Data Center has no REST endpoint that adds select options: those steps are a person's."""
    kept: list[SetupStep] = []
    problems: list[SetupProblem] = []
    for step in steps:
        if step.kind != "select" or step.action == "add-to-screen":
            kept.append(step)
            continue
        options = ", ".join(step.options)
        setting = step.setting
        if step.action == "create-field":
            how = (
                f"Administration → Issues → Custom fields → Create custom field → Select List "
                f"(single choice), named '{step.target}', with options {options}; then add it "
                f"to the project's edit screen"
            )
        else:
            how = (
                f"Administration → Issues → Custom fields → '{step.target}' → Contexts and "
                f"default value → Edit options: add {options}"
            )
        problems.append(
            SetupProblem(
                setting,
                f"Jira Data Center cannot add options to a select field over REST, so "
                f"'{step.target}' is left to an administrator",
                how,
            )
        )
    return kept, problems


async def _is_admin(connector: JiraConnector, deployment: p.Deployment) -> bool:
    body = await connector.client.call(r.build_global_permission_request(deployment))
    return p.parse_mypermissions(body).get(r.ADMINISTER, False)


# ── applying ─────────────────────────────────────────────────────────────────────────────


async def _apply_step(
    connector: JiraConnector, deployment: p.Deployment, step: SetupStep
) -> StepResult:
    call = connector.client.call
    if step.action == "create-field":
        assert step.kind is not None
        created = r.parse_created_field(
            await call(
                r.build_create_field_request(
                    deployment,
                    name=step.target,
                    kind=step.kind,
                    description=r.field_description(step.setting),
                )
            )
        )
        made = f"created {created}"
        try:
            if step.options:
                await _add_options(connector, created, step.options)
                made += f" with options {', '.join(step.options)}"
            await _add_to_default_screen(connector, deployment, created)
        except TrackerError as exc:
            return StepResult(
                step,
                False,
                f"{made}, but then Jira refused: {exc}; finish it by hand (options in the "
                f"field's context, the field on the project's edit screen) or delete "
                f"{created} and run setup again",
                field_id=created,
            )
        return StepResult(step, True, f"{made}, on the default screen", field_id=created)
    assert step.field_id is not None
    if step.action == "add-options":
        await _add_options(connector, step.field_id, step.options)
        return StepResult(step, True, f"added {', '.join(step.options)}", field_id=step.field_id)
    await _add_to_default_screen(connector, deployment, step.field_id)
    return StepResult(step, True, "on the default screen", field_id=step.field_id)


async def _add_options(connector: JiraConnector, field_id: str, values: Sequence[str]) -> None:
    """Add options to the field's global context (creating one when it has none)."""
    call = connector.client.call
    contexts = r.parse_contexts(await call(r.build_contexts_request(field_id)))
    context = next((c.id for c in contexts if c.is_global), None)
    if context is None:
        context = r.parse_created_context(await call(r.build_create_context_request(field_id)))
    await call(r.build_create_options_request(field_id, context, values))


async def _add_to_default_screen(
    connector: JiraConnector, deployment: p.Deployment, field_id: str
) -> None:
    try:
        await connector.client.call(r.build_add_to_default_screen_request(deployment, field_id))
    except NotFound:
        return  # Jira's answer when the field is on the default screen already


async def _check_reachable(
    connector: JiraConnector,
    deployment: p.Deployment,
    touched: dict[str, str],
    report: SetupReport,
) -> list[SetupProblem]:
    """Problems left after applying: fields edits still cannot reach, names now doubled.

    A field the default screen holds but the issue's edit screen does not offer is put on
    the project's own screens (Cloud: found through its issue type screen scheme).
    """
    problems: list[SetupProblem] = []
    listed = await connector.client.fields()
    for field_id, name in touched.items():
        same = [f.id for f in fields_named(listed, name)]
        if len(same) > 1:
            problems.append(
                SetupProblem(
                    name,
                    f"{len(same)} fields are now named '{name}': {', '.join(same)}",
                    f"keep {field_id} and delete the others (Settings → Issues → Custom fields)",
                )
            )
    keys = await connector.sample_keys(limit=1)
    if not keys:
        return problems
    editable, _ = await _edit_screen(connector, keys)
    unreachable = [f for f in touched if f not in editable]
    why = "the project uses screens of its own"
    if unreachable and deployment == "cloud":
        try:
            screens = await _add_to_project_screens(connector, keys[0], unreachable)
        except TrackerError as exc:
            why += f", and putting it on them failed: {exc}"
        else:
            names = ", ".join(touched[f] for f in unreachable)
            report.notes.append(f"put {names} on the project's screen(s) {', '.join(screens)}")
        editable, _ = await _edit_screen(connector, keys)
        unreachable = [f for f in unreachable if f not in editable]
    for field_id in unreachable:
        name = touched[field_id]
        problems.append(
            SetupProblem(
                name,
                f"'{name}' ({field_id}) is on the default screen, but {keys[0]}'s edit screen "
                f"does not offer it: {why}",
                "a Jira administrator adds it to the project's edit screen (Project "
                "settings → Issues → Screens → the edit screen → Add field)",
            )
        )
    return problems


async def _add_to_project_screens(
    connector: JiraConnector, issue: str, field_ids: Sequence[str]
) -> list[str]:
    """Put fields on the edit screens of the issue's project; the screens' ids.

    Project → issue type screen scheme → its screen schemes → each one's edit (else default)
    screen → its first tab. A field already there (400) counts as done.
    """
    deployment = connector.client.deployment
    call = connector.client.call
    project = r.parse_issue_project_id(await call(r.build_issue_project_request(deployment, issue)))
    type_schemes = r.page_values(await call(r.build_type_screen_scheme_request(project)))
    scheme_ids = [str((v.get("issueTypeScreenScheme") or {}).get("id")) for v in type_schemes if v]
    screen_schemes: list[str] = []
    for scheme_id in scheme_ids:
        mapping = r.page_values(await call(r.build_type_scheme_mapping_request(scheme_id)))
        screen_schemes += [str(m["screenSchemeId"]) for m in mapping if m.get("screenSchemeId")]
    schemes = []
    for screen_scheme in dict.fromkeys(screen_schemes):
        schemes += r.page_values(await call(r.build_screen_scheme_request(screen_scheme)))
    screens = r.edit_screens(schemes)
    for screen in screens:
        tabs = await call(r.build_tabs_request(deployment, screen))
        if not isinstance(tabs, list) or not tabs:
            continue
        tab = str(tabs[0]["id"])
        for field_id in field_ids:
            try:
                await call(r.build_add_tab_field_request(deployment, screen, tab, field_id))
            except ChangeRejected:
                continue  # already on that screen
    return screens
