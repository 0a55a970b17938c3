"""`priosync setup` for a GitHub source: the Project's output fields and the managed labels.

A Project source gets its missing output fields from ``createProjectV2Field`` (NUMBER for the
score and rank, TEXT for the explanation, SINGLE_SELECT with the tier names for the
priority), one document each, and the labels priosync manages (each roadmap bucket's and the
needs-input label, with colours) in every repository its items live in, created by
``ManagedLabels`` as a sync would. Tier names an existing single select lacks are added with
``updateProjectV2Field``, which replaces the whole option set: the existing options are sent
back with their ids (so the values people chose stay) and the missing ones after them. A
repository source's fields are the organization's issue fields, which only an organization
owner defines: a missing one is reported with where to add it, and only its labels are
created. Sources: docs/tracker-apis.md §3.9.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.fields import fields_named
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.fields import RULES
from connectors.github.project import ProjectConnector
from connectors.setup import (
    NeedKind,
    SetupPlan,
    SetupProblem,
    SetupReport,
    SetupStep,
    StepResult,
    compare_fields,
    compare_labels,
    field_needs,
    label_needs,
)
from priosync.errors import AuthFailed, TrackerError

if TYPE_CHECKING:
    from connectors.github.common import GitHubSourceConnector

#: The repositories a Project's items live in, 100 items a page.
ITEM_REPOSITORIES_QUERY = f"""query($project: ID!, $after: String) {{
  node(id: $project) {{
    ... on ProjectV2 {{
      items(first: {g.PAGE_SIZE}, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{
          content {{
            ... on Issue {{ repository {{ nameWithOwner }} }}
            ... on PullRequest {{ repository {{ nameWithOwner }} }}
          }}
        }}
      }}
    }}
  }}
  {g.RATE_LIMIT}
}}"""

CREATE_FIELD_MUTATION = """mutation($input: CreateProjectV2FieldInput!) {
  createProjectV2Field(input: $input) {
    projectV2Field { ... on ProjectV2FieldCommon { id name dataType } }
  }
}"""

#: A single select's options with everything ``updateProjectV2Field`` must send back.
FIELD_OPTIONS_QUERY = f"""query($field: ID!) {{
  node(id: $field) {{
    ... on ProjectV2SingleSelectField {{ id options {{ id name color description }} }}
  }}
  {g.RATE_LIMIT}
}}"""

UPDATE_FIELD_MUTATION = """mutation($input: UpdateProjectV2FieldInput!) {
  updateProjectV2Field(input: $input) {
    projectV2Field { ... on ProjectV2SingleSelectField { id options { id name } } }
  }
}"""

DATA_TYPES: dict[NeedKind, str] = {"number": "NUMBER", "text": "TEXT", "select": "SINGLE_SELECT"}
#: Tier colours, top tier first (GitHub's ProjectV2SingleSelectFieldOptionColor values).
TIER_COLORS = ("RED", "ORANGE", "YELLOW", "GRAY", "BLUE", "GREEN", "PURPLE", "PINK")
PROJECT_GRANT = (
    "the token needs the 'project' scope (classic) or Projects read-and-write (fine-grained), "
    "and its account write access to the Project; a Project admin or an organization owner "
    "grants that (the Project → ⋯ → Settings → Manage access)"
)
LABEL_GRANT = (
    "creating labels needs write access to the repository (and the 'repo' scope on a classic "
    "token); a repository admin grants it"
)


async def plan_setup(connector: GitHubSourceConnector) -> SetupPlan:
    """What the source's outputs need that GitHub lacks: fields, options, labels."""
    source = connector.source
    fields = await connector.all_fields()
    needs = field_needs(connector.outputs)
    compared = compare_fields(
        needs,
        fields,
        rules=RULES,
        where=connector.where(),
        looks_like_id=lambda ref: ref.startswith(("PVTF_", "PVTSSF_", "PVTIF_")),
    )
    steps: list[SetupStep] = []
    problems = list(compared.problems)
    for step in compared.steps:
        if step.action == "create-field" and source.project:
            steps.append(step)
        elif step.action == "create-field":
            problems.append(_issue_field_problem(step, source.repo or ""))
        elif source.project:
            steps.append(step)
        else:
            problems.append(
                SetupProblem(
                    step.setting,
                    f"the issue field '{step.target}' lacks the options {', '.join(step.options)}",
                    f"an organization owner adds them to '{step.target}' (organization "
                    "settings → Issue fields), or rename the tiers",
                )
            )
    repos = (
        await project_repositories(connector)
        if isinstance(connector, ProjectConnector)
        else [source.repo or ""]
    )
    existing = {repo: await connector.labels.names(repo) for repo in repos}
    present_labels, label_steps = compare_labels(label_needs(connector.outputs), existing)
    steps += label_steps
    scopes = connector.client.last_scopes
    lacking = [
        s
        for s, needed in (
            ("project", any(s.action == "create-field" for s in steps)),
            ("repo", bool(label_steps)),
        )
        if needed and scopes is not None and s not in scopes
    ]
    present = (*compared.present.values(), *present_labels)
    tracker = f"{connector.where()} on {source.api_url}"
    if lacking:
        problems.append(
            SetupProblem(
                "permission",
                f"the token lacks the {', '.join(repr(s) for s in lacking)} scope "
                f"(it has {', '.join(sorted(scopes or ())) or 'none'})",
                "the token's owner adds the scope (GitHub → Settings → Developer settings → "
                "Personal access tokens), or use a token that has it",
            )
        )
        return SetupPlan(
            connector.name, tracker, present, (), tuple(problems), blocked=tuple(steps)
        )
    return SetupPlan(connector.name, tracker, present, tuple(steps), tuple(problems))


async def apply_setup(connector: GitHubSourceConnector, plan: SetupPlan) -> SetupReport:
    """Create the fields, then the labels; stop at the first refusal, naming the permission."""
    report = SetupReport(plan)
    project_id = (await connector.project()).id if isinstance(connector, ProjectConnector) else ""
    for step in plan.steps:
        try:
            if step.action == "create-field":
                result = await _create_field(connector, project_id, step)
            elif step.action == "add-options":
                result = await _add_options(connector, step)
            else:
                await connector.labels.ids(step.where, [step.target])
                result = StepResult(step, True, f"created in {step.where}")
        except AuthFailed as exc:
            grant = LABEL_GRANT if step.action == "create-label" else PROJECT_GRANT
            report.results.append(StepResult(step, False, f"{exc}; {grant}"))
            report.stopped = f"GitHub refused: {grant}"
            break
        except TrackerError as exc:
            report.results.append(StepResult(step, False, str(exc)))
            report.stopped = str(exc)
            break
        report.results.append(result)
    if any(r.ok and r.step.action != "create-label" for r in report.results):
        report.problems += await _check_fields(connector, report)
    return report


async def project_repositories(connector: ProjectConnector) -> list[str]:
    """Every repository the Project's issues and pull requests live in, in first-seen order."""
    project_id = (await connector.project()).id
    found: dict[str, None] = {}
    after: str | None = None
    while True:
        variables = {"project": project_id, "after": after}
        data = (await connector.client.graphql(ITEM_REPOSITORIES_QUERY, variables)).data
        page = (data.get("node") or {}).get("items") or {}
        for node in page.get("nodes") or ():
            repo = ((node or {}).get("content") or {}).get("repository") or {}
            if repo.get("nameWithOwner"):
                found[str(repo["nameWithOwner"])] = None
        if not (page.get("pageInfo") or {}).get("hasNextPage"):
            return list(found)
        after = page["pageInfo"]["endCursor"]


def create_field_input(project_id: str, step: SetupStep) -> dict[str, Any]:
    """The ``CreateProjectV2FieldInput`` of one create-field step."""
    assert step.kind is not None
    value: dict[str, Any] = {
        "projectId": project_id,
        "name": step.target,
        "dataType": DATA_TYPES[step.kind],
    }
    if step.kind == "select":
        value["singleSelectOptions"] = [
            {"name": name, "color": TIER_COLORS[i % len(TIER_COLORS)], "description": ""}
            for i, name in enumerate(step.options)
        ]
    return value


async def _create_field(
    connector: GitHubSourceConnector, project_id: str, step: SetupStep
) -> StepResult:
    result = await connector.client.graphql(
        CREATE_FIELD_MUTATION, {"input": create_field_input(project_id, step)}, mutations=1
    )
    made: Mapping[str, Any] = (result.data.get("createProjectV2Field") or {}).get(
        "projectV2Field"
    ) or {}
    field_id = str(made.get("id") or "")
    options = f" with options {', '.join(step.options)}" if step.options else ""
    return StepResult(step, True, f"created {made.get('dataType', '')}{options}", field_id=field_id)


def options_input(
    field_id: str, existing: list[dict[str, Any]], added: tuple[str, ...]
) -> dict[str, Any]:
    """The ``UpdateProjectV2FieldInput`` that keeps ``existing`` (by id) and adds ``added``."""
    kept = [
        {
            "id": str(o["id"]),
            "name": str(o["name"]),
            "color": str(o.get("color") or "GRAY"),
            "description": str(o.get("description") or ""),
        }
        for o in existing
    ]
    new = [
        {"name": name, "color": TIER_COLORS[(len(kept) + i) % len(TIER_COLORS)], "description": ""}
        for i, name in enumerate(added)
    ]
    return {"fieldId": field_id, "singleSelectOptions": kept + new}


async def _add_options(connector: GitHubSourceConnector, step: SetupStep) -> StepResult:
    assert step.field_id is not None
    data = (await connector.client.graphql(FIELD_OPTIONS_QUERY, {"field": step.field_id})).data
    existing = list((data.get("node") or {}).get("options") or ())
    await connector.client.graphql(
        UPDATE_FIELD_MUTATION,
        {"input": options_input(step.field_id, existing, step.options)},
        mutations=1,
    )
    return StepResult(
        step, True, f"added {', '.join(step.options)}, kept {len(existing)}", field_id=step.field_id
    )


async def _check_fields(
    connector: GitHubSourceConnector, report: SetupReport
) -> list[SetupProblem]:
    """Read the Project's fields again: every created name names one field, added options exist."""
    if isinstance(connector, ProjectConnector):
        connector.forget_project()
    fields = await connector.all_fields()
    problems = []
    for result in report.results:
        if result.ok and result.step.action == "create-field":
            same = fields_named(fields, result.step.target)
            if len(same) != 1:
                problems.append(
                    SetupProblem(
                        result.step.target,
                        f"the Project now has {len(same)} fields named '{result.step.target}'",
                        "keep one and delete the others in the Project's settings",
                    )
                )
        if result.ok and result.step.action == "add-options":
            field = next((f for f in fields if f.id == result.step.field_id), None)
            lacking = [
                o for o in result.step.options if field is None or field.option_id(o) is None
            ]
            if lacking:
                problems.append(
                    SetupProblem(
                        result.step.target,
                        f"'{result.step.target}' still lacks {', '.join(lacking)}",
                        "add the options in the Project's settings",
                    )
                )
    return problems


def _issue_field_problem(step: SetupStep, repo: str) -> SetupProblem:
    kind = {"number": "Number", "text": "Text", "select": "Single select"}[step.kind or "text"]
    options = f" with options {', '.join(step.options)}" if step.options else ""
    owner = p.split_slug(repo)[0] if "/" in repo else "the organization"
    return SetupProblem(
        step.setting,
        f"{owner} has no issue field '{step.target}': issue fields belong to the organization, "
        "and setup does not create them",
        f"an owner of {owner} adds a {kind} issue field '{step.target}'{options} "
        "(organization settings → Issue fields)",
    )
