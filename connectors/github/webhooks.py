"""GitHub webhook deliveries → which items of which sources to rescore (pure, no I/O).

A delivery signed with the webhook's secret carries ``X-Hub-Signature-256: sha256=<hex
HMAC-SHA256(secret, body)>``; ``X-GitHub-Event`` names the event and ``X-GitHub-Delivery``
identifies the delivery (it keeps its value when redelivered).

Payload reference: docs/tracker-apis.md §3.6
(https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues,
#projects_v2_item).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from pydantic import Field

from config.models import GitHubSource, Source
from connectors.webhooks import (
    REF_PREFIX,
    OwnedFields,
    Payload,
    SignatureScheme,
    Target,
    Verdict,
    WebhookSpec,
    header_value,
    ignore,
    require_json,
    validate_body,
)

__all__ = ["WEBHOOK", "parse_event"]

EVENT_HEADER = "X-GitHub-Event"

#: ``issues`` actions that cannot change what priosync reads.
QUIET_ISSUE_ACTIONS = frozenset(
    {
        "assigned",
        "unassigned",
        "locked",
        "unlocked",
        "pinned",
        "unpinned",
        "milestoned",
        "demilestoned",
        "typed",
        "untyped",
    }
)
#: ``projects_v2_item`` actions that change an item's values or membership (not its order).
PROJECT_ACTIONS = frozenset({"created", "edited", "deleted", "archived", "restored", "converted"})


class Account(Payload):
    login: str = Field(min_length=1)


class Repository(Payload):
    full_name: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")


class Label(Payload):
    name: str


class Issue(Payload):
    number: int = Field(gt=0)


class IssuesEvent(Payload):
    action: str
    issue: Issue
    repository: Repository
    label: Label | None = None
    sender: Account | None = None


class ProjectItem(Payload):
    node_id: str
    content_node_id: str | None = None
    content_type: str | None = None


class FieldValueChange(Payload):
    field_node_id: str | None = None
    #: Newer payloads name the field; older ones only give its node id.
    field_name: str | None = None


class ProjectItemChanges(Payload):
    field_value: FieldValueChange | None = None


class ProjectsV2ItemEvent(Payload):
    action: str
    projects_v2_item: ProjectItem
    changes: ProjectItemChanges | None = None
    organization: Account | None = None
    sender: Account | None = None


def parse_event(
    headers: Mapping[str, str],
    body: bytes,
    *,
    sources: Sequence[Source],
    owned: OwnedFields,
    own_actors: Collection[str] = (),
) -> Verdict:
    """Decide what a GitHub delivery (its event named by ``X-GitHub-Event``) asks for.

    ``ping`` is answered; ``issues`` names one item (``owner/repo#number``);
    ``projects_v2_item`` names a project item by node id only, so the project sources of the
    organization are re-read whole (coalesced per burst). Other events are ignored.
    """
    event = header_value(headers, EVENT_HEADER) or ""
    if event == "ping":
        require_json(body)
        return Verdict("ping", reason="pong")
    if event == "issues":
        return issues_verdict(validate_body(IssuesEvent, body), sources, owned, own_actors)
    if event == "projects_v2_item":
        return project_item_verdict(
            validate_body(ProjectsV2ItemEvent, body), sources, owned, own_actors
        )
    require_json(body)
    return ignore(f"event {event or '(none)'} is not one priosync handles")


def issues_verdict(
    payload: IssuesEvent,
    sources: Sequence[Source],
    owned: OwnedFields,
    own_actors: Collection[str],
) -> Verdict:
    if payload.sender is not None and payload.sender.login in own_actors:
        return ignore("caused by priosync's own account")
    if payload.action in QUIET_ISSUE_ACTIONS:
        return ignore(f"issues.{payload.action} does not change scores")
    if payload.action in ("labeled", "unlabeled") and (
        payload.label is not None and owned.owns_label(payload.label.name)
    ):
        return ignore("changed only labels priosync owns")
    repo = payload.repository.full_name
    key = f"{repo}#{payload.issue.number}"
    targets = [Target(name, key) for name in sources_for_repo(repo, sources)]
    if not targets:
        return ignore(f"no GitHub source reads {repo}")
    return Verdict("rescore", tuple(targets))


def sources_for_repo(repo: str, sources: Sequence[Source]) -> list[str]:
    """Repository sources for ``repo``, plus project sources of the same owner (an issue of
    the repository may be an item of the project; ``read_items`` says whether it is)."""
    return [s.name for s in _github(sources) if _may_hold(s, repo)]


def _may_hold(source: GitHubSource, repo: str) -> bool:
    if source.repo is not None:
        return source.repo.casefold() == repo.casefold()
    owner = repo.split("/", 1)[0].casefold()
    return source.project is not None and source.project.split("/", 1)[0].casefold() == owner


def project_item_verdict(
    payload: ProjectsV2ItemEvent,
    sources: Sequence[Source],
    owned: OwnedFields,
    own_actors: Collection[str],
) -> Verdict:
    if payload.sender is not None and payload.sender.login in own_actors:
        return ignore("caused by priosync's own account")
    if payload.action not in PROJECT_ACTIONS:
        return ignore(f"projects_v2_item.{payload.action} does not change scores")
    change = payload.changes.field_value if payload.changes else None
    if change is not None and owned.owns_field(change.field_name, change.field_node_id):
        return ignore("changed only fields priosync owns")
    org = payload.organization.login.casefold() if payload.organization else None
    names = [
        s.name
        for s in _github(sources)
        if s.project is not None and (org is None or s.project.split("/", 1)[0].casefold() == org)
    ]
    if not names:
        return ignore("no GitHub project source for this organization")
    # The item by its node id: the service re-reads that one item, not the whole Project.
    key = f"{REF_PREFIX}{payload.projects_v2_item.node_id}"
    return Verdict("rescore", tuple(Target(name, key) for name in names))


def _github(sources: Iterable[Source]) -> list[GitHubSource]:
    return [s for s in sources if isinstance(s, GitHubSource)]


WEBHOOK = WebhookSpec(
    signature=SignatureScheme(header="X-Hub-Signature-256"),
    delivery_header="X-GitHub-Delivery",
    event_header=EVENT_HEADER,
    parse_event=parse_event,
)
