"""Inbound webhook bodies → which items of which sources to rescore (pure, no I/O).

Bodies are hints, not truth: only the item's identity is taken from them, and the items are
re-read from the tracker before anything is scored. Pydantic models validate the little each
handler needs (unknown fields are ignored); anything that does not fit is a 400.

Loop prevention (design §8): a delivery is ignored when its actor is priosync's own account,
or when the change touched only fields priosync owns (score, priority, explanation, rank,
the managed labels). Any such event that slips through is harmless: the re-read item plans
to no change.

Payload references: Jira docs/tracker-apis.md §1.7
(https://developer.atlassian.com/cloud/jira/platform/webhooks/); GitHub §3.6
(https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues,
#projects_v2_item).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.models import FileSource, GitHubSource, JiraSource, OutputsConfig
from priosync.errors import WebhookRejected

AnySource = JiraSource | GitHubSource | FileSource
M = TypeVar("M", bound=BaseModel)

#: Jira events that can change an item's inputs or scope.
JIRA_ITEM_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
#: ``issues`` actions that cannot change what priosync reads.
GITHUB_QUIET_ISSUE_ACTIONS = frozenset(
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
GITHUB_PROJECT_ACTIONS = frozenset(
    {"created", "edited", "deleted", "archived", "restored", "converted"}
)


# ── what a delivery asks for ─────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to re-read: an item of a source, or (``key`` None) the whole source."""

    source: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one verified delivery."""

    action: Literal["rescore", "ignore", "ping"]
    targets: tuple[Target, ...] = ()
    reason: str = ""


def ignore(reason: str) -> Verdict:
    return Verdict("ignore", reason=reason)


@dataclass(frozen=True, slots=True)
class OwnedFields:
    """The fields and labels priosync writes, to recognise its own changes coming back."""

    #: Casefolded names or ids of owned single-value fields (score, priority, …).
    fields: frozenset[str]
    #: The managed label prefix, when roadmap buckets are configured.
    label_prefix: str | None
    needs_input_label: str | None

    @classmethod
    def from_config(cls, outputs: OutputsConfig) -> OwnedFields:
        names = (
            outputs.score_field,
            outputs.priority_field,
            outputs.explain_field,
            outputs.rank_field,
        )
        return cls(
            fields=frozenset(n.casefold() for n in names if n),
            label_prefix=outputs.label_prefix if outputs.roadmap else None,
            needs_input_label=outputs.needs_input_label,
        )

    def owns_field(self, *names: str | None) -> bool:
        """True when any of a field's names (display name, id) is an owned field."""
        return any(n is not None and n.casefold() in self.fields for n in names)

    def owns_label(self, label: str) -> bool:
        if self.label_prefix is not None and label.startswith(self.label_prefix):
            return True
        return label == self.needs_input_label


# ── Jira ─────────────────────────────────────────────────────────────────────────────────


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class JiraUser(_Payload):
    account_id: str | None = Field(default=None, alias="accountId")
    #: Data Center identifies users by ``name`` (and ``key``) instead of accountId.
    name: str | None = None


class JiraIssue(_Payload):
    key: str = Field(min_length=1)
    self_url: str | None = Field(default=None, alias="self")


class JiraChangeItem(_Payload):
    field: str = ""
    field_id: str | None = Field(default=None, alias="fieldId")
    from_string: str | None = Field(default=None, alias="fromString")
    to_string: str | None = Field(default=None, alias="toString")


class JiraChangelog(_Payload):
    items: list[JiraChangeItem] = Field(default_factory=list)


class JiraEvent(_Payload):
    webhook_event: str = Field(alias="webhookEvent")
    user: JiraUser | None = None
    issue: JiraIssue | None = None
    changelog: JiraChangelog | None = None


def parse_jira_event(
    body: bytes,
    *,
    sources: Sequence[AnySource],
    owned: OwnedFields,
    own_actors: Collection[str] = (),
) -> Verdict:
    """Decide what a Jira admin-webhook delivery asks for; ``WebhookRejected(400)`` if malformed."""
    event = _validate(JiraEvent, body)
    if event.webhook_event not in JIRA_ITEM_EVENTS:
        return ignore(f"event {event.webhook_event} does not change items")
    if event.issue is None:
        raise WebhookRejected(f"{event.webhook_event} without an issue", status=400)
    actor = (event.user.account_id or event.user.name) if event.user else None
    if actor is not None and actor in own_actors:
        return ignore("caused by priosync's own account")
    if event.webhook_event == "jira:issue_updated" and only_owned_jira_changes(event, owned):
        return ignore("changed only fields priosync owns")
    candidates = jira_sources_for(event.issue, sources)
    if not candidates:
        return ignore("no Jira source is configured")
    return Verdict("rescore", tuple(Target(s, event.issue.key) for s in candidates))


def only_owned_jira_changes(event: JiraEvent, owned: OwnedFields) -> bool:
    """True when the changelog exists and every item touches only what priosync owns."""
    if event.changelog is None or not event.changelog.items:
        return False
    return all(_owned_jira_item(item, owned) for item in event.changelog.items)


def _owned_jira_item(item: JiraChangeItem, owned: OwnedFields) -> bool:
    if item.field.casefold() == "labels" and not owned.owns_field("labels"):
        # Labels are space-separated lists in fromString/toString (docs/tracker-apis.md §1.7).
        before = set((item.from_string or "").split())
        after = set((item.to_string or "").split())
        return all(owned.owns_label(label) for label in before ^ after)
    return owned.owns_field(item.field, item.field_id)


def jira_sources_for(issue: JiraIssue, sources: Sequence[AnySource]) -> list[str]:
    """The Jira sources on the issue's site, or every Jira source when the site is unknown.

    The issue's ``self`` URL names its site; a source reached through the Cloud gateway or a
    proxy has a different URL, so no match means "ask them all": ``read_items`` keeps only the
    items each source's JQL holds.
    """
    jira = [s for s in sources if isinstance(s, JiraSource)]
    origin = _origin(issue.self_url)
    same_site = [s.name for s in jira if origin is not None and _origin(s.url) == origin]
    return same_site or [s.name for s in jira]


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else None


# ── GitHub ───────────────────────────────────────────────────────────────────────────────


class GitHubAccount(_Payload):
    login: str = Field(min_length=1)


class GitHubRepository(_Payload):
    full_name: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")


class GitHubLabel(_Payload):
    name: str


class GitHubIssue(_Payload):
    number: int = Field(gt=0)


class IssuesEvent(_Payload):
    action: str
    issue: GitHubIssue
    repository: GitHubRepository
    label: GitHubLabel | None = None
    sender: GitHubAccount | None = None


class ProjectItem(_Payload):
    node_id: str
    content_node_id: str | None = None
    content_type: str | None = None


class FieldValueChange(_Payload):
    field_node_id: str | None = None
    #: Newer payloads name the field; older ones only give its node id.
    field_name: str | None = None


class ProjectItemChanges(_Payload):
    field_value: FieldValueChange | None = None


class ProjectsV2ItemEvent(_Payload):
    action: str
    projects_v2_item: ProjectItem
    changes: ProjectItemChanges | None = None
    organization: GitHubAccount | None = None
    sender: GitHubAccount | None = None


def parse_github_event(
    event: str,
    body: bytes,
    *,
    sources: Sequence[AnySource],
    owned: OwnedFields,
    own_actors: Collection[str] = (),
) -> Verdict:
    """Decide what a GitHub delivery (``X-GitHub-Event`` = ``event``) asks for.

    ``ping`` is answered; ``issues`` names one item (``owner/repo#number``);
    ``projects_v2_item`` names a project item by node id only, so the project sources of the
    organization are re-read whole (coalesced per burst). Other events are ignored.
    """
    if event == "ping":
        _validate_json(body)
        return Verdict("ping", reason="pong")
    if event == "issues":
        return issues_verdict(_validate(IssuesEvent, body), sources, owned, own_actors)
    if event == "projects_v2_item":
        return project_item_verdict(
            _validate(ProjectsV2ItemEvent, body), sources, owned, own_actors
        )
    _validate_json(body)
    return ignore(f"event {event or '(none)'} is not one priosync handles")


def issues_verdict(
    payload: IssuesEvent,
    sources: Sequence[AnySource],
    owned: OwnedFields,
    own_actors: Collection[str],
) -> Verdict:
    if payload.sender is not None and payload.sender.login in own_actors:
        return ignore("caused by priosync's own account")
    if payload.action in GITHUB_QUIET_ISSUE_ACTIONS:
        return ignore(f"issues.{payload.action} does not change scores")
    if payload.action in ("labeled", "unlabeled") and (
        payload.label is not None and owned.owns_label(payload.label.name)
    ):
        return ignore("changed only labels priosync owns")
    repo = payload.repository.full_name
    key = f"{repo}#{payload.issue.number}"
    targets = [Target(name, key) for name in github_sources_for_repo(repo, sources)]
    if not targets:
        return ignore(f"no GitHub source reads {repo}")
    return Verdict("rescore", tuple(targets))


def github_sources_for_repo(repo: str, sources: Sequence[AnySource]) -> list[str]:
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
    sources: Sequence[AnySource],
    owned: OwnedFields,
    own_actors: Collection[str],
) -> Verdict:
    if payload.sender is not None and payload.sender.login in own_actors:
        return ignore("caused by priosync's own account")
    if payload.action not in GITHUB_PROJECT_ACTIONS:
        return ignore(f"projects_v2_item.{payload.action} does not change scores")
    change = payload.changes.field_value if payload.changes else None
    if change is not None and owned.owns_field(change.field_name):
        return ignore("changed only fields priosync owns")
    org = payload.organization.login.casefold() if payload.organization else None
    names = [
        s.name
        for s in _github(sources)
        if s.project is not None and (org is None or s.project.split("/", 1)[0].casefold() == org)
    ]
    if not names:
        return ignore("no GitHub project source for this organization")
    return Verdict("rescore", tuple(Target(name) for name in names))


def _github(sources: Iterable[AnySource]) -> list[GitHubSource]:
    return [s for s in sources if isinstance(s, GitHubSource)]


# ── shared ───────────────────────────────────────────────────────────────────────────────


def _validate(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise WebhookRejected(f"malformed body: {_first_error(exc)}", status=400) from None


def _validate_json(body: bytes) -> None:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed body: not JSON", status=400) from None


def _first_error(exc: ValidationError) -> str:
    # The location and kind only: the input value may carry anything the sender put there.
    first = exc.errors(include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
