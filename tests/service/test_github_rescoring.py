"""Webhook-triggered rescoring of a GitHub Project: the sandbox GitHub sends real signed
`projects_v2_item` webhooks to the service on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from cli.demo import DEMO_CONFIG
from config import validate_config
from sandbox.github import GitHubSandbox, create_github_app
from service import create_service_app

from .conftest import eventually, serve

SECRET = "gh-webhook-s3cret"
TOKEN = "sandbox-token"
ENVIRON = {"GITHUB_TOKEN": TOKEN, "PRIOSYNC_GITHUB_WEBHOOK_SECRET": SECRET}
CONFIG: dict[str, Any] = {
    "scoring": DEMO_CONFIG["scoring"],
    "outputs": {
        "score_field": "RICE score",
        "priority_field": "Priority",
        "label_prefix": "roadmap:",
        "priority": [
            {"name": "Highest", "top": 2},
            {"name": "High", "top_percent": 30},
            {"name": "Low"},
        ],
        "roadmap": [
            {"name": "now", "capacity": 6},
            {"name": "next", "capacity": 12},
            {"name": "later"},
        ],
    },
    "sources": [
        {
            "name": "app",
            "kind": "github",
            "project": "acme/1",
            "api_url": "https://github.sandbox.invalid",
            "pacing": {"reads_per_second": 1000, "writes_per_second": 1000},
        }
    ],
}

FIELDS = """query { organization(login: "acme") { projectV2(number: 1) { id
  fields(first: 50) { nodes { ... on ProjectV2Field { id name } } } } } }"""
SET_NUMBER = """mutation($p: ID!, $i: ID!, $f: ID!, $n: Float!) {
  updateProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $f, value: {number: $n}})
  { projectV2Item { id } } }"""


class TestGitHubRescoring:
    async def test_a_person_raising_reach_moves_the_item_to_the_top(self) -> None:
        """A person's edit to a Project field comes in as a webhook and lands as score, tier, label."""
        sandbox = GitHubSandbox.seeded(issues=30, seed=11, webhook_secret=SECRET)
        github = create_github_app(sandbox)
        loaded = validate_config(CONFIG, file=Path("gh-service.toml"), environ={})
        app = create_service_app(
            loaded,
            environ=ENVIRON,
            transports={"app": httpx.ASGITransport(app=github)},
            quiet_s=0.15,
        )

        def point_webhooks(base: str) -> None:
            sandbox.webhook_url = f"{base}/webhooks/github"

        async with (
            serve(app, on_bound=point_webhooks),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=github),
                base_url="https://github.sandbox.invalid",
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as person,
        ):
            service = app.state.service
            await eventually(lambda: service.rescorer.snapshot is not None, what="the first sync")
            await eventually(
                lambda: service.queue.depth == 0 and not service.rescorer.busy, what="quiet"
            )
            ranked = [
                r
                for items in service.rescorer.snapshot.items.values()
                for r in items
                if not r.key.startswith("draft:") and r.current.score is not None
            ]
            last = min(ranked, key=lambda item: item.current.score or 0.0)
            assert last.current.priority != "Highest"

            project = (await person.post("/graphql", json={"query": FIELDS})).json()
            node = project["data"]["organization"]["projectV2"]
            field_ids = {f["name"]: f["id"] for f in node["fields"]["nodes"] if f}
            for name, value in (("Reach", 1_000_000.0), ("Effort", 1.0)):
                answer = await person.post(
                    "/graphql",
                    json={
                        "query": SET_NUMBER,
                        "variables": {
                            "p": node["id"],
                            "i": last.handle.item_id,
                            "f": field_ids[name],
                            "n": value,
                        },
                    },
                )
                assert "errors" not in answer.json()

            repo, number = last.key.split("/", 1)[1].split("#")

            def landed() -> bool:
                item = sandbox.item(f"{repo}#{number}")
                labels = sandbox.issue(repo, int(number)).labels
                return item.fields.get("Priority") == "Highest" and "roadmap:now" in labels

            await eventually(landed, timeout_s=15, what="the rescored item in the sandbox")
            score = sandbox.item(f"{repo}#{number}").fields["RICE score"]
            assert isinstance(score, float)
            assert score > 100_000
            await eventually(
                lambda: app.state.metrics.total("priosync_rescores_total") >= 1,
                what="the rescore to be counted",
            )

    async def test_own_writes_are_ignored_and_an_edit_rereads_one_item(self) -> None:
        """The echoes of priosync's own Project writes (field node ids only) cause no rescore,
        and a person's edit re-reads that one item (one small document), not the Project."""
        sandbox = GitHubSandbox.seeded(issues=150, seed=5, webhook_secret=SECRET)
        github = create_github_app(sandbox)
        loaded = validate_config(CONFIG, file=Path("gh-service.toml"), environ={})
        app = create_service_app(
            loaded,
            environ=ENVIRON,
            transports={"app": httpx.ASGITransport(app=github)},
            quiet_s=0.15,
        )

        def point_webhooks(base: str) -> None:
            sandbox.webhook_url = f"{base}/webhooks/github"

        async with (
            serve(app, on_bound=point_webhooks),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=github),
                base_url="https://github.sandbox.invalid",
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as person,
        ):
            service = app.state.service
            metrics = app.state.metrics
            await eventually(
                lambda: service.rescorer.snapshot is not None, timeout_s=60, what="the first sync"
            )
            await eventually(
                lambda: service.queue.depth == 0 and not service.rescorer.busy, what="quiet"
            )
            echoes = metrics.value(
                "priosync_webhook_events_total", tracker="github", outcome="ignored"
            )
            assert echoes > 50  # the first sync's own field writes came back...
            assert metrics.total("priosync_rescores_total") == 0  # ...and none was acted on

            item = next(
                i
                for items in service.rescorer.snapshot.items.values()
                for i in items
                if not i.key.startswith("draft:")
            )
            project = (await person.post("/graphql", json={"query": FIELDS})).json()
            node = project["data"]["organization"]["projectV2"]
            field_ids = {f["name"]: f["id"] for f in node["fields"]["nodes"] if f}
            before = sandbox.count_requests("graphql")
            variables = {
                "p": node["id"],
                "i": item.handle.item_id,
                "f": field_ids["Reach"],
                "n": 7.0,
            }
            answer = await person.post(
                "/graphql", json={"query": SET_NUMBER, "variables": variables}
            )
            assert "errors" not in answer.json()
            await eventually(
                lambda: metrics.total("priosync_rescores_total") == 1, what="the rescore"
            )
            await eventually(lambda: not service.rescorer.busy, what="the rescore to finish")
            reads = [
                e
                for e in sandbox.request_log[before + 1 :]
                if e.kind == "graphql" and e.mutations == 0
            ]
            # One `nodes` lookup of the item, and one listing of its repository's labels
            # before writing one; a Project read would be 2 pages of 100 on its own.
            assert len(reads) == 2
