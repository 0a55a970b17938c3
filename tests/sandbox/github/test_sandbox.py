"""Seeding, persistence, injected faults and outgoing webhooks of the sandbox GitHub."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest

from sandbox.github import (
    DroppedConnection,
    Faults,
    GitHubSandbox,
    create_github_app,
    sign_body,
)
from sandbox.github.faults import FaultInjector


class TestSeeding:
    def test_same_seed_same_backlog(self) -> None:
        """Two sandboxes from the same arguments hold the same state."""
        a = GitHubSandbox.seeded(issues=40, seed=3)
        b = GitHubSandbox.seeded(issues=40, seed=3)
        assert a.state.to_json() == b.state.to_json()

    def test_backlog_is_realistic(self) -> None:
        """The seed has drafts, PRs, human and stale managed labels, and missing or invalid inputs."""
        sandbox = GitHubSandbox.seeded(issues=300, seed=7)
        items = sandbox.items()
        kinds = {it.kind for it in items}
        labels = {
            lb
            for r in ("app", "web")
            for i in sandbox.state.repos[r].issues.values()
            for lb in i.labels
        }
        efforts = [it.fields.get("Effort") for it in items]
        assert len(items) == 300
        assert kinds == {"ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"}
        assert {"roadmap:now", "customer-request"} & labels == {"roadmap:now", "customer-request"}
        assert None in efforts
        assert any(isinstance(e, float) and e <= 0 for e in efforts)

    def test_issue_count_one_and_many_repos(self) -> None:
        """Items spread over the given repositories under the given organization."""
        sandbox = GitHubSandbox.seeded(issues=10, org="globex", repos=("api", "ui", "docs"))
        assert set(sandbox.state.repos) == {"api", "ui", "docs"}
        assert sandbox.state.org == "globex"
        assert len(sandbox.items()) == 10


class TestPersistence:
    async def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        """A changed state saved to JSON loads back with the change and working lookups."""
        sandbox = GitHubSandbox.seeded(issues=20, token="t")
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            await c.post("/repos/acme/app/issues/1/labels", json=["roadmap:later"])
        path = tmp_path / "sandbox.json"
        sandbox.save(path)
        loaded = GitHubSandbox.load(path)
        assert "roadmap:later" in loaded.issue("app", 1).labels
        assert loaded.items() == sandbox.items()
        assert json.loads(path.read_text())["org"] == "acme"


class TestFaults:
    def test_draws_repeat_for_a_seed(self) -> None:
        """The same fault seed gives the same sequence of decisions."""
        faults = Faults(seed=5, latency_ms=(1, 20), error_rate=0.2, drop_rate=0.1)
        first = [FaultInjector(faults).decide() for _ in range(1)]
        a, b = FaultInjector(faults), FaultInjector(faults)
        assert [a.decide() for _ in range(50)] == [b.decide() for _ in range(50)]
        assert first[0].latency_s > 0

    async def test_scripted_5xx(self) -> None:
        """fail_next answers the next request with the status, then service resumes."""
        sandbox = GitHubSandbox.seeded(issues=5, token="t")
        sandbox.fail_next(503)
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            codes = [(await c.get("/repos/acme/app/issues")).status_code for _ in range(2)]
        assert codes == [503, 200]
        assert sandbox.request_log[0].outcome == "5xx"

    async def test_drop_after_the_write_landed(self) -> None:
        """A dropped connection reaches the client as a protocol error, yet the write applied."""
        sandbox = GitHubSandbox.seeded(issues=5, token="t")
        sandbox.drop_next()
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                await c.post("/repos/acme/app/issues/1/labels", json=["roadmap:next"])
        assert "roadmap:next" in sandbox.issue("app", 1).labels
        assert (sandbox.request_log[-1].status, sandbox.request_log[-1].outcome) == (0, "dropped")
        assert issubclass(DroppedConnection, httpx.TransportError)


class TestWebhooks:
    def test_signature_matches_githubs_test_vector(self) -> None:
        """sign_body reproduces the official example from GitHub's docs."""
        expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        assert sign_body("It's a Secret to Everybody", b"Hello, World!") == expected

    async def test_label_and_field_changes_are_delivered_signed(self) -> None:
        """Label adds send `issues` events, field updates `projects_v2_item` events, each signed."""
        received: list[httpx.Request] = []

        def receiver(request: httpx.Request) -> httpx.Response:
            received.append(request)
            return httpx.Response(202)

        sandbox = GitHubSandbox.seeded(
            issues=5,
            token="t",
            webhook_url="http://hooks/github",
            webhook_secret="s3cret",
            webhook_transport=httpx.MockTransport(receiver),
        )
        item = next(it for it in sandbox.state.projects[1].items if it.kind == "ISSUE")
        project = sandbox.state.projects[1]
        effort = project.find_field(name="Effort")
        assert effort is not None
        doc = """mutation($p: ID!, $i: ID!, $f: ID!) { updateProjectV2ItemFieldValue(input:
                 {projectId: $p, itemId: $i, fieldId: $f, value: {number: 99}}) { clientMutationId } }"""
        repo, number = item.content_ref.split("#")
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            await c.post(f"/repos/acme/{repo}/issues/{number}/labels", json=["needs-scoring"])
            await c.post(
                "/graphql",
                json={
                    "query": doc,
                    "variables": {"p": project.node_id, "i": item.node_id, "f": effort.node_id},
                },
            )
        events = [(r.headers["X-GitHub-Event"], json.loads(r.content)) for r in received]
        assert [(e, body["action"]) for e, body in events] == [
            ("issues", "labeled"),
            ("projects_v2_item", "edited"),
        ]
        assert events[0][1]["label"]["name"] == "needs-scoring"
        assert events[1][1]["projects_v2_item"]["node_id"] == item.node_id
        assert events[1][1]["sender"]["login"] == sandbox.state.viewer_login
        for request in received:
            digest = hmac.new(b"s3cret", request.content, hashlib.sha256).hexdigest()
            assert request.headers["X-Hub-Signature-256"] == f"sha256={digest}"
            assert len(request.headers["X-GitHub-Delivery"]) == 36
        assert [d.status for d in sandbox.webhook_deliveries] == [202, 202]
