"""Seed a realistic, reproducible backlog for the sandbox GitHub.

One organization with repositories, labels (GitHub's defaults, labels people added, and
stale ``roadmap:`` labels from an earlier run), issues and pull requests, organization
issue fields, and Project number 1 whose fields configs and examples rely on:
``Reach``, ``Impact``, ``Confidence``, ``Effort``, ``Ease``, ``RICE score``, ``Priority``,
``Score rationale``, ``Status`` and ``Iteration``. Some inputs are missing or invalid
(effort 0 or negative), some items are drafts or pull requests. The same arguments always
give the same state.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from .state import (
    DraftIssue,
    GitHubState,
    Issue,
    IssueFieldOption,
    Iteration,
    Label,
    OrgIssueField,
    Project,
    ProjectField,
    ProjectFieldType,
    ProjectItem,
    Repository,
    SelectOption,
    make_node_id,
)

IMPACT_OPTIONS = ("Massive", "High", "Medium", "Low", "Minimal")
CONFIDENCE_OPTIONS = ("High", "Medium", "Low")
PRIORITY_OPTIONS = ("Highest", "High", "Medium", "Low")
STATUS_OPTIONS = ("Todo", "In Progress", "Done")
ROADMAP_LABELS = ("roadmap:now", "roadmap:next", "roadmap:later")

_DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("question", "d876e3", "Further information is requested"),
)
_HUMAN_LABELS = (("customer-request", "fbca04"), ("tech-debt", "c5def5"), ("area/ui", "bfdadc"))
_VERBS = ("Add", "Fix", "Improve", "Support", "Remove", "Speed up", "Document", "Refactor")
_THINGS = (
    "CSV export", "login page", "search filters", "billing webhooks", "dark mode",
    "audit log", "SSO with Okta", "bulk edit", "mobile layout", "rate limiting",
    "onboarding emails", "API pagination", "team invites", "notifications", "2FA recovery",
)  # fmt: skip
_SEED_EPOCH = datetime(2024, 6, 3, 9, 0, 0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _option_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08x}"


def _select_options(rng: random.Random, names: Sequence[str]) -> list[SelectOption]:
    colors = ("RED", "ORANGE", "YELLOW", "GREEN", "BLUE", "PURPLE", "PINK", "GRAY")
    return [
        SelectOption(id=_option_id(rng), name=n, color=colors[i % 8]) for i, n in enumerate(names)
    ]


def _iterations(rng: random.Random) -> list[Iteration]:
    start = date(2024, 6, 3)
    return [
        Iteration(id=_option_id(rng), title=f"Iteration {i + 1}",
                  start_date=(start + timedelta(days=14 * i)).isoformat())
        for i in range(6)
    ]  # fmt: skip


def _project_fields(state: GitHubState, rng: random.Random) -> list[ProjectField]:
    specs: list[tuple[str, ProjectFieldType, Sequence[str]]] = [
        ("Title", "TITLE", ()),
        ("Status", "SINGLE_SELECT", STATUS_OPTIONS),
        ("Reach", "NUMBER", ()),
        ("Impact", "SINGLE_SELECT", IMPACT_OPTIONS),
        ("Confidence", "SINGLE_SELECT", CONFIDENCE_OPTIONS),
        ("Effort", "NUMBER", ()),
        ("Ease", "NUMBER", ()),
        ("RICE score", "NUMBER", ()),
        ("Priority", "SINGLE_SELECT", PRIORITY_OPTIONS),
        ("Score rationale", "TEXT", ()),
        ("Iteration", "ITERATION", ()),
        ("Target date", "DATE", ()),
    ]
    fields = []
    for name, data_type, options in specs:
        fid = state.allocate_id()
        prefix = {"SINGLE_SELECT": "PVTSSF", "ITERATION": "PVTIF"}.get(data_type, "PVTF")
        fields.append(ProjectField(
            id=fid, node_id=make_node_id(prefix, fid), project_number=1, name=name, data_type=data_type,
            options=_select_options(rng, options),
            iterations=_iterations(rng) if data_type == "ITERATION" else [],
        ))  # fmt: skip
    return fields


def _issue_fields(state: GitHubState) -> list[OrgIssueField]:
    def options(names: Sequence[str]) -> list[IssueFieldOption]:
        colors = ("red", "orange", "yellow", "green", "blue")
        return [IssueFieldOption(id=state.allocate_id(), name=n, color=colors[i % 5])
                for i, n in enumerate(names)]  # fmt: skip

    specs = [
        ("Reach", "number", ()), ("Impact", "single_select", IMPACT_OPTIONS),
        ("Confidence", "single_select", CONFIDENCE_OPTIONS), ("Effort", "number", ()),
        ("Ease", "number", ()), ("RICE score", "number", ()),
        ("Priority", "single_select", PRIORITY_OPTIONS), ("Score rationale", "text", ()),
    ]  # fmt: skip
    fields = []
    for name, data_type, names in specs:
        fid = state.allocate_id()
        prefix = "IFSS" if data_type == "single_select" else "IF"
        fields.append(OrgIssueField(
            id=fid, node_id=make_node_id(prefix, fid), name=name,
            data_type=data_type, options=options(names),  # type: ignore[arg-type]
        ))  # fmt: skip
    return fields


def _repo_labels(state: GitHubState, repo: str, *, with_roadmap: bool) -> list[Label]:
    specs: list[tuple[str, str, str | None]] = list(_DEFAULT_LABELS)
    specs += [(n, c, None) for n, c in _HUMAN_LABELS]
    if with_roadmap:
        specs += [(n, "1d76db", "Managed by priosync") for n in ROADMAP_LABELS]
    labels = []
    for name, color, description in specs:
        lid = state.allocate_id()
        labels.append(
            Label(
                id=lid,
                node_id=make_node_id("LA", lid),
                repo=repo,
                name=name,
                color=color,
                description=description,
                default=(name, color, description) in _DEFAULT_LABELS,
            )
        )
    return labels


def _human_labels(rng: random.Random, repo: Repository) -> list[str]:
    names = [lb.name for lb in repo.labels if not lb.name.startswith("roadmap:")]
    chosen = rng.sample(names, k=rng.choice((0, 0, 1, 1, 2)))
    # Stale managed labels from an earlier run, only where the repository has them.
    if repo.find_label("roadmap:now") and rng.random() < 0.25:
        chosen.append(rng.choice(ROADMAP_LABELS))
    return chosen


def _make_issue(state: GitHubState, rng: random.Random, repo: Repository, index: int) -> Issue:
    number = len(repo.issues) + 1
    iid = state.allocate_id()
    is_pr = rng.random() < 0.08
    created = _SEED_EPOCH + timedelta(hours=7 * index)
    closed = rng.random() < 0.05
    title = f"{rng.choice(_VERBS)} {rng.choice(_THINGS)}"
    return Issue(
        id=iid, node_id=make_node_id("PR" if is_pr else "I", iid), repo=repo.name,
        number=number, title=title, body=f"Seeded item {index}.",
        state="closed" if closed else "open", is_pull_request=is_pr,
        draft=is_pr and rng.random() < 0.3, labels=_human_labels(rng, repo),
        created_at=_iso(created), updated_at=_iso(created + timedelta(hours=rng.randint(1, 400))),
        closed_at=_iso(created + timedelta(days=3)) if closed else None,
        assignees=_assignees(repo.name, number),
    )  # fmt: skip


#: Logins of the sandbox's people.
ASSIGNEES = ("ana-ruiz", "ben-okafor", "chen-wei", "dana-kim", "eli-novak")


def _assignees(repo: str, number: int) -> list[str]:
    """A fixed choice per issue (not from the backlog's random stream, which stays as it
    was): about one issue in five is unassigned, one in ten has two people."""
    pick = zlib.crc32(f"{repo}#{number}".encode())
    if pick % 5 == 0:
        return []
    first = ASSIGNEES[pick % len(ASSIGNEES)]
    second = ASSIGNEES[(pick // 7) % len(ASSIGNEES)]
    return [first, second] if pick % 10 == 1 and second != first else [first]


def _input_values(rng: random.Random) -> dict[str, float | str]:
    """Draw raw RICE/ICE inputs for one item: some missing, some invalid on purpose."""
    values: dict[str, float | str] = {
        "Reach": float(rng.choice((50, 100, 200, 500, 800, 1000, 2500, 5000))),
        "Impact": rng.choice(IMPACT_OPTIONS),
        "Confidence": rng.choice(CONFIDENCE_OPTIONS),
        "Effort": rng.choice((0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)),
        "Ease": float(rng.randint(1, 10)),
    }
    for name in list(values):
        if rng.random() < 0.06:
            del values[name]
    if "Effort" in values and rng.random() < 0.03:
        values["Effort"] = rng.choice((0.0, -1.0))
    return values


def _fill_item(project: Project, item: ProjectItem, rng: random.Random, title: str) -> None:
    by_name = {f.name: f for f in project.fields}
    item.values[by_name["Title"].id] = title
    status = by_name["Status"]
    item.values[status.id] = rng.choice(status.options[:2]).id
    for name, raw in _input_values(rng).items():
        field = by_name[name]
        if field.data_type == "SINGLE_SELECT":
            item.values[field.id] = next(o.id for o in field.options if o.name == raw)
        else:
            item.values[field.id] = raw
    if rng.random() < 0.3:
        iteration = by_name["Iteration"]
        item.values[iteration.id] = rng.choice(iteration.iterations).id
    if rng.random() < 0.1:  # left over from an earlier scoring run, probably stale
        item.values[by_name["RICE score"].id] = float(rng.randint(1, 900))
        item.values[by_name["Priority"].id] = rng.choice(by_name["Priority"].options).id


def _fill_issue_fields(state: GitHubState, issue: Issue, rng: random.Random) -> None:
    by_name = {f.name: f for f in state.issue_fields}
    for name, raw in _input_values(rng).items():
        issue.issue_field_values[by_name[name].id] = raw


def _add_item(
    state: GitHubState, project: Project, kind: str, ref: str, created: str
) -> ProjectItem:
    pid = state.allocate_id()
    item = ProjectItem(
        id=pid,
        node_id=make_node_id("PVTI", pid),
        project_number=project.number,
        kind=kind,  # type: ignore[arg-type]
        content_ref=ref,
        created_at=created,
        updated_at=created,
    )
    project.items.append(item)
    return item


def _add_draft(state: GitHubState, project: Project, rng: random.Random, index: int) -> None:
    did = state.allocate_id()
    created = _iso(_SEED_EPOCH + timedelta(hours=7 * index))
    draft = DraftIssue(
        id=did,
        node_id=make_node_id("DI", did),
        title=f"Idea: {rng.choice(_VERBS).lower()} {rng.choice(_THINGS)}",
        created_at=created,
        updated_at=created,
    )
    project.drafts[draft.node_id] = draft
    _fill_item(
        project, _add_item(state, project, "DRAFT_ISSUE", draft.node_id, created), rng, draft.title
    )


#: The Project fields priosync writes: a bare sandbox lacks them (``priosync setup`` adds them).
OUTPUT_FIELDS = ("RICE score", "Priority", "Score rationale")


def strip_outputs(state: GitHubState) -> None:
    """Remove priosync's output fields from the Projects and its labels from every repository,
    as in an organization that never ran priosync."""
    for project in state.projects.values():
        gone = {f.id for f in project.fields if f.name in OUTPUT_FIELDS}
        project.fields = [f for f in project.fields if f.id not in gone]
        for item in project.items:
            item.values = {k: v for k, v in item.values.items() if k not in gone}
    for repo in state.repos.values():
        repo.labels = [lb for lb in repo.labels if not lb.name.startswith("roadmap:")]
        for issue in repo.issues.values():
            issue.labels = [n for n in issue.labels if not n.startswith("roadmap:")]
    state.reindex()


def seed_state(
    *,
    issues: int = 200,
    seed: int = 7,
    org: str = "acme",
    repos: Sequence[str] = ("app", "web"),
    bare: bool = False,
) -> GitHubState:
    """Return a fresh sandbox state with ``issues`` project items spread over ``repos``.

    About 8 % of the items are drafts and 8 % of the rest pull requests; a further tenth
    as many issues exist outside the project (repository-only sources). Roadmap labels
    exist in the first repository only, so a client must create them in the others.
    ``bare`` then removes priosync's output fields and labels (``strip_outputs``).
    """
    if not repos:
        raise ValueError("at least one repository is needed")
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not security)
    state = GitHubState(org=org, org_id=100)
    for position, name in enumerate(repos):
        rid = state.allocate_id()
        state.repos[name] = Repository(
            id=rid,
            node_id=make_node_id("R", rid),
            name=name,
            labels=_repo_labels(state, name, with_roadmap=position == 0),
        )
    state.issue_fields = _issue_fields(state)
    project_id = state.allocate_id()
    project = Project(
        id=project_id,
        node_id=make_node_id("PVT", project_id),
        number=1,
        title=f"{org} roadmap",
        fields=_project_fields(state, rng),
    )
    state.projects[1] = project
    repo_list = [state.repos[n] for n in repos]
    for index in range(issues + issues // 10):
        if index < issues and rng.random() < 0.08:
            _add_draft(state, project, rng, index)
            continue
        repo = repo_list[index % len(repo_list)]
        issue = _make_issue(state, rng, repo, index)
        repo.issues[issue.number] = issue
        _fill_issue_fields(state, issue, rng)
        if index < issues:
            kind = "PULL_REQUEST" if issue.is_pull_request else "ISSUE"
            ref = f"{repo.name}#{issue.number}"
            _fill_item(
                project, _add_item(state, project, kind, ref, issue.created_at), rng, issue.title
            )
    state.reindex()
    if bare:
        strip_outputs(state)
    return state
