"""Jira webhook deliveries → which items of which sources to rescore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import validate_config
from connectors.jira.webhooks import WEBHOOK, parse_event
from connectors.webhooks import OwnedFields, Target
from priosync.errors import WebhookRejected

CONFIG = validate_config(
    {
        "scoring": {"model": "rice", "inputs": {"reach": "Reach", "impact": "Impact",
                    "confidence": "Confidence", "effort": "Effort"}},
        "outputs": {"score_field": "RICE score", "priority_field": "priority",
                    "explain_field": "Score rationale", "label_prefix": "roadmap:",
                    "needs_input_label": "needs-scoring", "pin_label": "pinned",
                    "roadmap": [{"name": "now", "top": 3}, {"name": "later"}]},
        "sources": [
            {"name": "web", "kind": "jira", "url": "https://acme.atlassian.net", "jql": "project = WEB"},
            {"name": "ops", "kind": "jira", "url": "https://ops.example.com", "jql": "project = OPS"},
            {"name": "api", "kind": "github", "repo": "acme/api"},
        ],
    },
    file=Path("priosync.toml"),
    environ={},
).config  # fmt: skip
SOURCES = CONFIG.sources
OWNED = OwnedFields.from_config(CONFIG.outputs)


def jira_body(
    *items: dict[str, Any],
    event: str = "jira:issue_updated",
    actor: str = "human-1",
    site: str = "https://acme.atlassian.net",
) -> bytes:
    payload: dict[str, Any] = {
        "timestamp": 1790000000000,
        "webhookEvent": event,
        "user": {"accountId": actor, "displayName": "Pat"},
        "issue": {
            "id": "10001",
            "key": "WEB-12",
            "self": f"{site}/rest/api/2/issue/10001",
            "fields": {},
        },
    }
    if items:
        payload["changelog"] = {"id": "1", "items": list(items)}
    return json.dumps(payload).encode()


def change(
    field: str, before: str | None, after: str | None, field_id: str | None = None
) -> dict[str, Any]:
    return {
        "field": field,
        "fieldtype": "custom" if field_id else "jira",
        "fieldId": field_id or field,
        "from": None,
        "fromString": before,
        "to": None,
        "toString": after,
    }


def jira(body: bytes, own: tuple[str, ...] = ()) -> Any:
    return parse_event({}, body, sources=SOURCES, owned=OWNED, own_actors=own)


class TestJiraEvents:
    def test_an_input_change_rescores_the_issue_in_its_site_source(self) -> None:
        """A changed input names the issue, in the source whose site sent it."""
        verdict = jira(jira_body(change("Reach", "5", "8", "customfield_10050")))
        assert verdict.action == "rescore"
        assert verdict.targets == (Target("web", "WEB-12"),)

    def test_unknown_site_asks_every_jira_source(self) -> None:
        """When the issue's site matches no source URL, every Jira source is asked."""
        verdict = jira(jira_body(change("Reach", "5", "8"), site="https://proxy.internal"))
        assert {t.source for t in verdict.targets} == {"web", "ops"}

    def test_changes_only_to_owned_fields_are_our_own_writes(self) -> None:
        """Score, priority, explanation and managed labels changing together is ignored."""
        verdict = jira(jira_body(
            change("RICE score", "12", "266.7", "customfield_10100"),
            change("priority", "Low", "High"),
            change("Score rationale", None, "RICE …", "customfield_10101"),
            change("labels", "bug roadmap:later", "bug roadmap:now"),
        ))  # fmt: skip
        assert verdict.action == "ignore"
        assert "owns" in verdict.reason

    def test_owned_fields_match_by_id_too(self) -> None:
        """A config naming a field by id recognises the changelog's fieldId."""
        owned = OwnedFields(frozenset({"customfield_10100"}), None, None)
        body = jira_body(change("Some score", "1", "2", "customfield_10100"))
        assert parse_event({}, body, sources=SOURCES, owned=owned).action == "ignore"

    def test_a_human_label_change_is_not_ours(self) -> None:
        """Adding a person's label (the pin) alongside managed ones triggers a rescore."""
        verdict = jira(jira_body(change("labels", "roadmap:later", "pinned roadmap:now")))
        assert verdict.action == "rescore"

    def test_a_mixed_changelog_rescores(self) -> None:
        """One input among owned fields is enough to rescore."""
        verdict = jira(jira_body(change("RICE score", "1", "2"), change("Effort", "3", "1")))
        assert verdict.action == "rescore"

    def test_our_own_actor_is_ignored(self) -> None:
        """An event whose actor is priosync's account is ignored whatever it changed."""
        verdict = jira(jira_body(change("Reach", "1", "2"), actor="bot-7"), own=("bot-7",))
        assert verdict.action == "ignore"

    def test_created_and_deleted_issues_rescore(self) -> None:
        """issue_created and issue_deleted (no changelog) name the issue."""
        for event in ("jira:issue_created", "jira:issue_deleted"):
            assert jira(jira_body(event=event)).action == "rescore"

    def test_other_events_are_ignored(self) -> None:
        """Comments, sprints and the like are acknowledged and ignored."""
        assert jira(jira_body(event="comment_created")).action == "ignore"

    @pytest.mark.parametrize(
        "body",
        [b"{not json", b"[]", b'{"issue": {"key": "WEB-1"}}',
         b'{"webhookEvent": "jira:issue_updated"}',
         b'{"webhookEvent": "jira:issue_updated", "issue": {"key": ""}}'],
    )  # fmt: skip
    def test_malformed_bodies_are_400(self, body: bytes) -> None:
        """Not JSON, wrong shape, or an item event without an issue key: 400."""
        with pytest.raises(WebhookRejected) as caught:
            jira(body)
        assert caught.value.status == 400


class TestJiraWebhookSpec:
    def test_names_the_headers_jira_sends(self) -> None:
        """Signed admin webhooks use X-Hub-Signature (sha256=…), ids X-Atlassian-Webhook-Identifier."""
        assert WEBHOOK.signature.header == "X-Hub-Signature"
        assert (WEBHOOK.signature.digest, WEBHOOK.signature.prefix) == ("sha256", "sha256=")
        assert WEBHOOK.delivery_header == "X-Atlassian-Webhook-Identifier"
        assert WEBHOOK.event_header is None

    def test_the_spec_parses_with_this_module(self) -> None:
        """The spec's parser is the module's parse_event: the event is in the body."""
        body = jira_body(change("Reach", "5", "8"))
        verdict = WEBHOOK.parse_event({}, body, sources=SOURCES, owned=OWNED)
        assert verdict.targets == (Target("web", "WEB-12"),)
