"""GitHub webhook deliveries → which items of which sources to rescore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import validate_config
from connectors.github.webhooks import WEBHOOK, parse_event
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
    headers = {"X-GitHub-Event": event}
    return parse_event(headers, body, sources=SOURCES, owned=OWNED, own_actors=own)


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

    def test_project_item_edits_name_the_item_by_its_node_id(self) -> None:
        """projects_v2_item names no issue key: the item is named by its node id (a ref), for
        each project source of the organization, so only that item is re-read."""
        verdict = github("projects_v2_item", project_body())
        assert verdict.targets == (Target("board", "ref:PVTI_1"),)

    def test_an_owned_field_named_only_by_node_id_is_our_own_write(self) -> None:
        """Older payloads give only field_node_id: once the ids are known, the echo is ignored."""
        owned = OwnedFields.from_config(CONFIG.outputs, field_ids={"PVTF_1"})
        body = project_body()
        verdict = parse_event(
            {"X-GitHub-Event": "projects_v2_item"}, body, sources=SOURCES, owned=owned
        )
        assert verdict.action == "ignore"
        assert github("projects_v2_item", body).action == "rescore"  # ids not known yet

    def test_project_edit_of_an_owned_field_is_ignored(self) -> None:
        """A field_value change naming an owned field is our own write."""
        assert github("projects_v2_item", project_body(field_name="RICE score")).action == "ignore"

    def test_project_reorder_is_ignored(self) -> None:
        """reordered changes no value priosync reads."""
        assert github("projects_v2_item", project_body("reordered")).action == "ignore"

    def test_unknown_events_are_ignored(self) -> None:
        """push, star and friends are acknowledged and ignored."""
        assert github("push", b'{"ref": "main"}').action == "ignore"

    def test_a_delivery_without_an_event_header_is_ignored(self) -> None:
        """No X-GitHub-Event: acknowledged and ignored, saying no event was named."""
        verdict = parse_event({}, b"{}", sources=SOURCES, owned=OWNED)
        assert verdict.action == "ignore"
        assert "(none)" in verdict.reason

    def test_the_event_header_is_found_in_any_case(self) -> None:
        """HTTP header names are case-insensitive, so a lower-cased header still dispatches."""
        headers = {"x-github-event": "issues"}
        verdict = parse_event(headers, issues_body(), sources=SOURCES, owned=OWNED)
        assert verdict.action == "rescore"

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


class TestGitHubWebhookSpec:
    def test_names_the_headers_github_sends(self) -> None:
        """X-Hub-Signature-256 (sha256=…) signs, X-GitHub-Delivery ids, X-GitHub-Event names."""
        assert WEBHOOK.signature.header == "X-Hub-Signature-256"
        assert (WEBHOOK.signature.digest, WEBHOOK.signature.prefix) == ("sha256", "sha256=")
        assert WEBHOOK.delivery_header == "X-GitHub-Delivery"
        assert WEBHOOK.event_header == "X-GitHub-Event"

    def test_the_spec_parses_with_this_module(self) -> None:
        """The spec's parser reads the event from the spec's event header."""
        assert WEBHOOK.event_header is not None
        headers = {WEBHOOK.event_header: "issues"}
        verdict = WEBHOOK.parse_event(headers, issues_body(), sources=SOURCES, owned=OWNED)
        assert verdict.action == "rescore"
