"""Jira admin-webhook deliveries → which items of which sources to rescore (pure, no I/O).

A delivery signed with the webhook's secret carries ``X-Hub-Signature: sha256=<hex
HMAC-SHA256(secret, body)>`` and is identified by ``X-Atlassian-Webhook-Identifier``; the
event is named in the body (``webhookEvent``). Only the issue events are acted on.

Payload reference: docs/tracker-apis.md §1.7
(https://developer.atlassian.com/cloud/jira/platform/webhooks/).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlsplit

from pydantic import Field

from config.models import JiraSource, Source
from connectors.webhooks import (
    OwnedFields,
    Payload,
    SignatureScheme,
    Target,
    Verdict,
    WebhookSpec,
    ignore,
    validate_body,
)
from priosync.errors import WebhookRejected

__all__ = ["WEBHOOK", "parse_event"]

#: Jira events that can change an item's inputs or scope.
ITEM_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})


class User(Payload):
    account_id: str | None = Field(default=None, alias="accountId")
    #: Data Center identifies users by ``name`` (and ``key``) instead of accountId.
    name: str | None = None


class Issue(Payload):
    key: str = Field(min_length=1)
    self_url: str | None = Field(default=None, alias="self")


class ChangeItem(Payload):
    field: str = ""
    field_id: str | None = Field(default=None, alias="fieldId")
    from_string: str | None = Field(default=None, alias="fromString")
    to_string: str | None = Field(default=None, alias="toString")


class Changelog(Payload):
    items: list[ChangeItem] = Field(default_factory=list)


class Event(Payload):
    webhook_event: str = Field(alias="webhookEvent")
    user: User | None = None
    issue: Issue | None = None
    changelog: Changelog | None = None


def parse_event(
    headers: Mapping[str, str],
    body: bytes,
    *,
    sources: Sequence[Source],
    owned: OwnedFields,
    own_actors: Collection[str] = (),
) -> Verdict:
    """Decide what a Jira admin-webhook delivery asks for; ``WebhookRejected(400)`` if malformed.

    The event is named in the body, so ``headers`` are not read.
    """
    event = validate_body(Event, body)
    if event.webhook_event not in ITEM_EVENTS:
        return ignore(f"event {event.webhook_event} does not change items")
    if event.issue is None:
        raise WebhookRejected(f"{event.webhook_event} without an issue", status=400)
    actor = (event.user.account_id or event.user.name) if event.user else None
    if actor is not None and actor in own_actors:
        return ignore("caused by priosync's own account")
    if event.webhook_event == "jira:issue_updated" and only_owned_changes(event, owned):
        return ignore("changed only fields priosync owns")
    candidates = sources_for(event.issue, sources)
    if not candidates:
        return ignore("no Jira source is configured")
    return Verdict("rescore", tuple(Target(s, event.issue.key) for s in candidates))


def only_owned_changes(event: Event, owned: OwnedFields) -> bool:
    """True when the changelog exists and every item touches only what priosync owns."""
    if event.changelog is None or not event.changelog.items:
        return False
    return all(_owned_item(item, owned) for item in event.changelog.items)


def _owned_item(item: ChangeItem, owned: OwnedFields) -> bool:
    if item.field.casefold() == "labels" and not owned.owns_field("labels"):
        # Labels are space-separated lists in fromString/toString (docs/tracker-apis.md §1.7).
        before = set((item.from_string or "").split())
        after = set((item.to_string or "").split())
        return all(owned.owns_label(label) for label in before ^ after)
    return owned.owns_field(item.field, item.field_id)


def sources_for(issue: Issue, sources: Sequence[Source]) -> list[str]:
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


WEBHOOK = WebhookSpec(
    signature=SignatureScheme(header="X-Hub-Signature"),
    delivery_header="X-Atlassian-Webhook-Identifier",
    event_header=None,
    parse_event=parse_event,
)
