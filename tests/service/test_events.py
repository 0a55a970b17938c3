"""Webhook payloads → which items of which sources to rescore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import validate_config
from priosync.errors import WebhookRejected
from service.events import (
    OwnedFields,
    Target,
    parse_github_event,
    parse_jira_event,
)

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
            {"name": "board", "kind": "github", "project": "acme/7"},
            {"name": "other", "kind": "github", "project": "globex/1"},
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
    return parse_jira_event(body, sources=SOURCES, owned=OWNED, own_actors=own)


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
        assert parse_jira_event(body, sources=SOURCES, owned=owned).action == "ignore"

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


def issues_body(
    action: str = "edited",
    *,
    number: int = 5,
    repo: str = "acme/api",
    label: str | None = None,
    sender: str = "pat",
) -> bytes:
    payload: dict[str, Any] = {
        "action": action,
        "issue": {"number": number, "title": "x"},
        "repository": {"full_name": repo},
        "sender": {"login": sender, "type": "User"},
    }
    if label is not None:
        payload["label"] = {"name": label}
    return json.dumps(payload).encode()


def project_body(
    action: str = "edited", *, org: str = "acme", field_name: str | None = None
) -> bytes:
    changes = {"field_value": {"field_node_id": "PVTF_1", "field_type": "number"}}
    if field_name is not None:
        changes["field_value"]["field_name"] = field_name
    payload = {
        "action": action,
        "changes": changes,
        "projects_v2_item": {
            "node_id": "PVTI_1",
            "project_node_id": "PVT_1",
            "content_node_id": "I_1",
            "content_type": "Issue",
        },
        "organization": {"login": org},
        "sender": {"login": "pat"},
    }
    return json.dumps(payload).encode()


def github(event: str, body: bytes, own: tuple[str, ...] = ()) -> Any:
    return parse_github_event(event, body, sources=SOURCES, owned=OWNED, own_actors=own)


class TestGitHubEvents:
    def test_ping_is_answered(self) -> None:
        """ping needs no source and asks for nothing."""
        assert github("ping", b'{"zen": "Design for failure."}').action == "ping"

    def test_an_issue_event_names_the_item_in_repo_and_project_sources(self) -> None:
        """owner/repo#number goes to the repo source and the same owner's project sources."""
        verdict = github("issues", issues_body())
        assert verdict.action == "rescore"
        assert set(verdict.targets) == {Target("api", "acme/api#5"), Target("board", "acme/api#5")}

    def test_an_issue_of_another_owner_goes_to_its_projects_only(self) -> None:
        """No repo source for globex/web: only globex's project source is asked."""
        verdict = github("issues", issues_body(repo="globex/web"))
        assert verdict.targets == (Target("other", "globex/web#5"),)

    def test_managed_label_events_are_our_own_writes(self) -> None:
        """labeled/unlabeled with a roadmap label is ignored; a person's label is not."""
        assert github("issues", issues_body("labeled", label="roadmap:now")).action == "ignore"
        assert github("issues", issues_body("unlabeled", label="needs-scoring")).action == "ignore"
        assert github("issues", issues_body("labeled", label="pinned")).action == "rescore"

    def test_quiet_actions_and_own_sender_are_ignored(self) -> None:
        """assigned does not change scores; our own sender is ignored."""
        assert github("issues", issues_body("assigned")).action == "ignore"
        assert (
            github("issues", issues_body(sender="priosync[bot]"), own=("priosync[bot]",)).action
            == "ignore"
        )

    def test_project_item_edits_reread_the_organizations_projects(self) -> None:
        """projects_v2_item names no issue key, so the org's project sources are re-read."""
        verdict = github("projects_v2_item", project_body())
        assert verdict.targets == (Target("board", None),)

    def test_project_edit_of_an_owned_field_is_ignored(self) -> None:
        """A field_value change naming an owned field is our own write."""
        assert github("projects_v2_item", project_body(field_name="RICE score")).action == "ignore"

    def test_project_reorder_is_ignored(self) -> None:
        """reordered changes no value priosync reads."""
        assert github("projects_v2_item", project_body("reordered")).action == "ignore"

    def test_unknown_events_are_ignored(self) -> None:
        """push, star and friends are acknowledged and ignored."""
        assert github("push", b'{"ref": "main"}').action == "ignore"

    @pytest.mark.parametrize(
        ("event", "body"),
        [("issues", b"nope"), ("issues", b'{"action": "edited"}'),
         ("issues", b'{"action":"edited","issue":{"number":0},"repository":{"full_name":"a/b"}}'),
         ("projects_v2_item", b'{"action": "edited"}'), ("ping", b"\xff"), ("push", b"{")],
    )  # fmt: skip
    def test_malformed_bodies_are_400(self, event: str, body: bytes) -> None:
        """Bodies that are not JSON or lack what the event needs are a 400."""
        with pytest.raises(WebhookRejected) as caught:
            github(event, body)
        assert caught.value.status == 400
