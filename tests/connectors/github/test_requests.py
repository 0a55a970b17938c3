"""Request shapes with respx: GraphQL documents and variables, batching, paging, REST label
calls, the App token exchange and refresh, and retries on secondary limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from config.secrets import GitHubAppCredentials
from connectors.github import graphql as g
from connectors.github.auth import GitHubAppAuth
from connectors.github.mapping import ItemHandle
from connectors.http import RetryPolicy
from priosync.domain import Change, Outputs, WorkItem
from priosync.errors import ChangeRejected

from .conftest import API, make_connector, make_outputs, make_source

GRAPHQL = f"{API}/graphql"
LABELS_ONLY = make_outputs(score_field=None, priority_field=None, explain_field=None, priority=[])
RATE = {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"}
FIELDS = [
    {"id": "F_reach", "name": "Reach", "dataType": "NUMBER"},
    {
        "id": "F_impact",
        "name": "Impact",
        "dataType": "SINGLE_SELECT",
        "options": [{"id": "o1", "name": "High"}],
    },
    {
        "id": "F_conf",
        "name": "Confidence",
        "dataType": "SINGLE_SELECT",
        "options": [{"id": "o2", "name": "High"}],
    },
    {"id": "F_effort", "name": "Effort", "dataType": "NUMBER"},
    {"id": "F_score", "name": "RICE score", "dataType": "NUMBER"},
    {
        "id": "F_prio",
        "name": "Priority",
        "dataType": "SINGLE_SELECT",
        "options": [{"id": "p1", "name": "Highest"}, {"id": "p2", "name": "High"}],
    },
    {"id": "F_why", "name": "Score rationale", "dataType": "TEXT"},
]


def project_answer() -> dict[str, Any]:
    return {
        "data": {
            "organization": {
                "projectV2": {
                    "id": "PVT_1",
                    "title": "Roadmap",
                    "url": "u",
                    "fields": {"nodes": FIELDS},
                }
            },
            "rateLimit": RATE,
        }
    }


def item_node(n: int) -> dict[str, Any]:
    return {
        "id": f"PVTI_{n}",
        "type": "ISSUE",
        "updatedAt": None,
        "content": {
            "__typename": "Issue",
            "id": f"I_{n}",
            "number": n,
            "title": f"t{n}",
            "url": f"https://github.com/acme/app/issues/{n}",
            "closed": False,
            "updatedAt": None,
            "repository": {"nameWithOwner": "acme/app"},
            "labels": {
                "nodes": [{"id": "LA_bug", "name": "bug"}, {"id": "LA_now", "name": "roadmap:now"}]
            },
        },
        "f0": {"__typename": "ProjectV2ItemFieldNumberValue", "number": 100},
    }


def items_answer(nodes: list[dict[str, Any]], *, next_cursor: str | None) -> dict[str, Any]:
    page = {
        "pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor},
        "nodes": nodes,
    }
    return {"data": {"node": {"items": page}, "rateLimit": RATE}}


def bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


class Recorder:
    """Records the sleeps retries and pacing ask for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class TestProjectRequests:
    @respx.mock
    async def test_read_sends_exact_documents_and_pages_by_cursor(self) -> None:
        """Fields once, then item pages with only the mapped field names as variables and the cursor."""
        route = respx.post(GRAPHQL).mock(
            side_effect=[
                httpx.Response(200, json=project_answer()),
                httpx.Response(200, json=items_answer([item_node(1)], next_cursor="c1")),
                httpx.Response(200, json=items_answer([item_node(2)], next_cursor=None)),
            ]
        )
        connector = make_connector(None)
        items = await connector.read()
        sent = bodies(route)
        assert sent[0] == {
            "query": g.ORG_PROJECT_QUERY,
            "variables": {"owner": "acme", "number": 1},
        }
        names = [
            "Reach",
            "Impact",
            "Confidence",
            "Effort",
            "RICE score",
            "Priority",
            "Score rationale",
        ]
        assert sent[1]["query"] == g.build_items_query(7)
        assert sent[1]["variables"] == {
            "project": "PVT_1",
            "after": None,
            **{f"f{i}": n for i, n in enumerate(names)},
        }
        assert sent[2]["variables"]["after"] == "c1"
        assert [i.key for i in items] == ["acme/app#1", "acme/app#2"]
        assert items[0].inputs == {"reach": 100.0}
        assert items[0].current.labels == frozenset({"bug", "roadmap:now"})
        headers = route.calls[0].request.headers
        assert headers["authorization"] == "Bearer sandbox-token"
        assert headers["x-github-api-version"] == "2022-11-28"
        await connector.aclose()

    @respx.mock
    async def test_changes_become_one_aliased_mutation_document(self) -> None:
        """Field sets, a clear and label add/remove for two items go out as one document."""
        route = respx.post(GRAPHQL).mock(
            side_effect=[
                httpx.Response(200, json=project_answer()),
                httpx.Response(
                    200,
                    json={
                        "data": {
                            "repository": {
                                "id": "R_1",
                                "labels": {
                                    "pageInfo": {"hasNextPage": False, "endCursor": None},
                                    "nodes": [{"id": "LA_next", "name": "roadmap:next"}],
                                },
                            },
                            "rateLimit": RATE,
                        }
                    },
                ),
                httpx.Response(
                    200, json={"data": {f"m{i}": {"clientMutationId": None} for i in range(5)}}
                ),
            ]
        )
        connector = make_connector(None)
        changes = [
            change_for(
                1,
                Outputs(score=5.0, priority="High", labels=frozenset({"roadmap:now"})),
                Outputs(score=7.5, priority="Highest", labels=frozenset({"roadmap:next"})),
            ),
            change_for(2, Outputs(explanation="old"), Outputs(explanation=None)),
        ]
        results = [r async for r in connector.apply(changes)]
        assert [r.ok for r in results] == [True, True]
        document, variables = g.build_mutation_batch(
            [
                g.update_field("PVT_1", "PVTI_1", "F_score", {"number": 7.5}),
                g.update_field("PVT_1", "PVTI_1", "F_prio", {"singleSelectOptionId": "p1"}),
                g.add_labels("I_1", ["LA_next"]),
                g.remove_labels("I_1", ["LA_now"]),
                g.clear_field("PVT_1", "PVTI_2", "F_why"),
            ]
        )
        assert bodies(route)[2] == {"query": document, "variables": variables}
        assert "m4: clearProjectV2ItemFieldValue(input: $i4)" in document
        await connector.aclose()

    @respx.mock
    async def test_one_failing_alias_fails_only_its_change(self) -> None:
        """A GraphQL error on one alias marks that change failed; the other lands."""
        respx.post(GRAPHQL).mock(
            side_effect=[
                httpx.Response(200, json=project_answer()),
                httpx.Response(
                    200,
                    json={
                        "data": {"m0": None, "m1": {"projectV2Item": {"id": "x"}}},
                        "errors": [{"type": "NOT_FOUND", "path": ["m0"], "message": "gone"}],
                    },
                ),
            ]
        )
        connector = make_connector(None)
        changes = [
            change_for(1, Outputs(score=1.0), Outputs(score=2.0)),
            change_for(2, Outputs(score=1.0), Outputs(score=3.0)),
        ]
        results = [r async for r in connector.apply(changes)]
        refused, landed = (r.error for r in results)
        assert isinstance(refused, ChangeRejected)
        assert str(refused) == "GitHub: gone"
        assert landed is None
        await connector.aclose()


def change_for(n: int, before: Outputs, after: Outputs) -> Change:
    handle = ItemHandle(
        repo="acme/app",
        number=n,
        content_id=f"I_{n}",
        item_id=f"PVTI_{n}",
        label_ids={"roadmap:now": "LA_now"},
    )
    item = WorkItem(f"acme/app#{n}", "t", "u", "app", {}, before, handle=handle)
    return Change(item.key, "app", "u", before, after, "r", item)


def issue_change(n: int, before: frozenset[str], after: frozenset[str]) -> Change:
    handle = ItemHandle(repo="acme/web", number=n)
    item = WorkItem(f"acme/web#{n}", "t", "u", "app", {}, Outputs(labels=before), handle=handle)
    return Change(item.key, "app", "u", Outputs(labels=before), Outputs(labels=after), "r", item)


class TestRepositoryRequests:
    @respx.mock
    async def test_labels_are_added_and_removed_with_encoded_names(self) -> None:
        """Missing labels are created once, added with POST, removed one by one by encoded name."""
        respx.get(f"{API}/orgs/acme/issue-fields").mock(return_value=httpx.Response(200, json=[]))
        listing = respx.get(f"{API}/repos/acme/web/labels").mock(
            return_value=httpx.Response(200, json=[{"name": "bug"}])
        )
        create = respx.post(f"{API}/repos/acme/web/labels").mock(
            return_value=httpx.Response(201, json={"node_id": "LA"})
        )
        add = respx.post(f"{API}/repos/acme/web/issues/3/labels").mock(
            return_value=httpx.Response(200, json=[])
        )
        remove = respx.delete(f"{API}/repos/acme/web/issues/3/labels/roadmap%3Alater%2Fold").mock(
            return_value=httpx.Response(404, json={"message": "Label does not exist"})
        )
        connector = make_connector(
            None, source=make_source(project=None, repo="acme/web"), inputs={}, outputs=LABELS_ONLY
        )
        handle = ItemHandle(repo="acme/web", number=3)
        before = Outputs(labels=frozenset({"roadmap:later/old"}))
        after = Outputs(labels=frozenset({"roadmap:now"}))
        item = WorkItem("acme/web#3", "t", "u", "app", {}, before, handle=handle)
        results = [
            r
            async for r in connector.apply([Change(item.key, "app", "u", before, after, "r", item)])
        ]
        assert results[0].ok  # a 404 on remove means the label is already gone
        assert json.loads(create.calls[0].request.content) == {
            "name": "roadmap:now",
            "color": "1d76db",
            "description": "priosync roadmap bucket: now",
        }
        assert json.loads(add.calls[0].request.content) == {"labels": ["roadmap:now"]}
        assert remove.called
        assert listing.call_count == 1
        await connector.aclose()

    @respx.mock
    async def test_labels_are_listed_once_per_repository_and_created_once(self) -> None:
        """Changes adding different managed labels list the repository's labels once."""
        respx.get(f"{API}/orgs/acme/issue-fields").mock(return_value=httpx.Response(200, json=[]))
        listing = respx.get(f"{API}/repos/acme/web/labels").mock(
            return_value=httpx.Response(200, json=[{"name": "bug", "node_id": "LA_bug"}])
        )
        create = respx.post(f"{API}/repos/acme/web/labels").mock(
            return_value=httpx.Response(201, json={"node_id": "LA"})
        )
        respx.post(url__regex=rf"{API}/repos/acme/web/issues/\d+/labels").mock(
            return_value=httpx.Response(200, json=[])
        )
        connector = make_connector(
            None, source=make_source(project=None, repo="acme/web"), inputs={}, outputs=LABELS_ONLY
        )
        changes = [
            issue_change(n, frozenset(), frozenset({label}))
            for n, label in [(1, "roadmap:now"), (2, "roadmap:next"), (3, "roadmap:now")]
        ]
        results = [r async for r in connector.apply(changes)]
        assert all(r.ok for r in results)
        assert listing.call_count == 1
        assert [json.loads(c.request.content)["name"] for c in create.calls] == [
            "roadmap:now",
            "roadmap:next",
        ]
        await connector.aclose()

    @respx.mock
    async def test_label_created_meanwhile_is_listed_again_and_used(self) -> None:
        """A 422 already_exists on create lists the labels again and the add goes on."""
        respx.get(f"{API}/orgs/acme/issue-fields").mock(return_value=httpx.Response(200, json=[]))
        listing = respx.get(f"{API}/repos/acme/web/labels").mock(
            side_effect=[
                httpx.Response(200, json=[]),
                httpx.Response(200, json=[{"name": "roadmap:now", "node_id": "LA_now"}]),
            ]
        )
        respx.post(f"{API}/repos/acme/web/labels").mock(
            return_value=httpx.Response(
                422,
                json={
                    "message": "Validation Failed",
                    "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
                },
            )
        )
        add = respx.post(f"{API}/repos/acme/web/issues/1/labels").mock(
            return_value=httpx.Response(200, json=[])
        )
        connector = make_connector(
            None, source=make_source(project=None, repo="acme/web"), inputs={}, outputs=LABELS_ONLY
        )
        change = issue_change(1, frozenset(), frozenset({"roadmap:now"}))
        results = [r async for r in connector.apply([change])]
        assert results[0].ok
        assert listing.call_count == 2
        assert add.called
        assert connector.created_labels == []
        await connector.aclose()

    @respx.mock
    async def test_issue_list_follows_link_headers_and_drops_pull_requests(self) -> None:
        """Pages come from Link rel=next; pull requests are filtered out."""
        respx.get(f"{API}/orgs/acme/issue-fields").mock(return_value=httpx.Response(200, json=[]))
        nxt = f"{API}/repositories/9/issues?page=2&per_page=100&state=open"
        first = respx.get(f"{API}/repos/acme/web/issues").mock(
            return_value=httpx.Response(
                200,
                json=[
                    {"number": 1, "title": "a", "state": "open"},
                    {"number": 2, "state": "open", "pull_request": {"url": "x"}},
                ],
                headers={"Link": f'<{nxt}>; rel="next", <{nxt}>; rel="last"'},
            )
        )
        second = respx.get(nxt).mock(
            return_value=httpx.Response(200, json=[{"number": 3, "title": "c", "state": "open"}])
        )
        connector = make_connector(
            None, source=make_source(project=None, repo="acme/web"), inputs={}, outputs=LABELS_ONLY
        )
        items = await connector.read()
        assert [i.key for i in items] == ["acme/web#1", "acme/web#3"]
        assert dict(first.calls[0].request.url.params) == {
            "state": "open",
            "per_page": "100",
            "sort": "created",
            "direction": "asc",
        }
        assert second.called
        await connector.aclose()


class TestSecondaryLimits:
    @pytest.mark.parametrize(
        ("headers", "expected_s"),
        [({}, 60.0), ({"retry-after": "7"}, 7.0)],
        ids=["no-retry-after", "retry-after"],
    )
    @respx.mock
    async def test_rest_secondary_limit_waits_then_retries(
        self, headers: dict[str, str], expected_s: float
    ) -> None:
        """A 403 secondary limit waits retry-after, or 60 s without it, then succeeds."""
        sleeps = Recorder()
        body = {"message": "You have exceeded a secondary rate limit. Please wait."}
        route = respx.get(f"{API}/orgs/acme/issue-fields").mock(
            side_effect=[
                httpx.Response(
                    403, json=body, headers={"x-ratelimit-remaining": "4000", **headers}
                ),
                httpx.Response(200, json=[]),
            ]
        )
        respx.get(f"{API}/repos/acme/web/issues").mock(return_value=httpx.Response(200, json=[]))
        connector = make_connector(
            None,
            source=make_source(project=None, repo="acme/web"),
            inputs={},
            outputs=LABELS_ONLY,
            retry=RetryPolicy(sleep=sleeps, jitter=(1.0, 1.0)),
        )
        assert await connector.read() == []
        assert route.call_count == 2
        assert expected_s in sleeps.waits
        await connector.aclose()

    @respx.mock
    async def test_graphql_rate_limited_error_waits_for_reset(self) -> None:
        """A 200 answer with a RATE_LIMITED error waits until x-ratelimit-reset, then retries."""
        sleeps = Recorder()
        limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
        route = respx.post(GRAPHQL).mock(
            side_effect=[
                httpx.Response(200, json=limited, headers={"x-ratelimit-reset": "4102444800"}),
                httpx.Response(200, json=project_answer()),
                httpx.Response(200, json=items_answer([], next_cursor=None)),
            ]
        )
        connector = make_connector(
            None, retry=RetryPolicy(sleep=sleeps, max_wait_s=10**10, jitter=(1.0, 1.0))
        )
        assert await connector.read() == []
        assert route.call_count == 3
        assert max(sleeps.waits) > 1000  # waited for the (far) reset, not a short backoff
        await connector.aclose()

    @respx.mock
    async def test_rate_limited_mutation_document_is_sent_again_and_lands(self) -> None:
        """A RATE_LIMITED answer to a mutation document is retried; the write counts once."""
        limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
        route = respx.post(GRAPHQL).mock(
            side_effect=[
                httpx.Response(200, json=project_answer()),
                httpx.Response(200, json=limited, headers={"x-ratelimit-reset": "0"}),
                httpx.Response(200, json={"data": {"m0": {"projectV2Item": {"id": "PVTI_1"}}}}),
            ]
        )
        connector = make_connector(None)
        change = change_for(1, Outputs(score=1.0), Outputs(score=2.0))
        results = [r async for r in connector.apply([change])]
        assert [r.ok for r in results] == [True]
        assert bodies(route)[1] == bodies(route)[2]
        assert (connector.client.documents, connector.client.http.sent["write"]) == (1, 2)
        await connector.aclose()


def rsa_pem() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


class TestAppAuth:
    @respx.mock
    async def test_token_is_exchanged_once_and_refreshed_before_expiry(self) -> None:
        """The JWT is signed RS256 for the app; the token is reused, then refreshed near its hour's end."""
        pem, public = rsa_pem()
        now = [1_900_000_000.0]
        exchange = respx.post(f"{API}/app/installations/42/access_tokens").mock(
            side_effect=[
                httpx.Response(
                    201, json={"token": "ghs_one", "expires_at": "2030-03-17T18:33:20Z"}
                ),
                httpx.Response(
                    201, json={"token": "ghs_two", "expires_at": "2030-03-17T19:33:20Z"}
                ),
            ]
        )
        api = respx.get(f"{API}/rate_limit").mock(return_value=httpx.Response(200, json={}))
        auth = GitHubAppAuth(
            app_id="123", private_key=pem, installation_id="42", api_url=API, clock=lambda: now[0]
        )
        async with httpx.AsyncClient(auth=auth) as client:
            now[0] = 1_900_000_000.0  # 2030-03-17T17:46:40Z: the first token has 46 min left
            await client.get(f"{API}/rate_limit")
            await client.get(f"{API}/rate_limit")
            now[0] += 40 * 60  # 6 minutes left: inside the 10-minute margin
            await client.get(f"{API}/rate_limit")
        claims = jwt.decode(
            exchange.calls[0].request.headers["authorization"].removeprefix("Bearer "),
            public,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["iss"] == "123"
        assert claims["exp"] - claims["iat"] == 600
        assert exchange.call_count == 2
        assert [c.request.headers["authorization"] for c in api.calls] == [
            "Bearer ghs_one",
            "Bearer ghs_one",
            "Bearer ghs_two",
        ]
        assert auth.exchanges == 2

    @respx.mock
    async def test_connector_with_app_credentials_never_logs_the_key(self) -> None:
        """A refused exchange is AuthFailed naming the variables, without the key or JWT."""
        pem, _ = rsa_pem()
        respx.post(f"{API}/app/installations/42/access_tokens").mock(
            return_value=httpx.Response(
                401, json={"message": "A JSON web token could not be decoded"}
            )
        )
        creds = GitHubAppCredentials(app_id="123", private_key=SecretStr(pem), installation_id="42")
        connector = make_connector(None, credentials=creds)
        from priosync.errors import AuthFailed

        with pytest.raises(AuthFailed, match="GITHUB_APP_ID") as caught:
            await connector.read()
        assert "PRIVATE KEY" not in str(caught.value)
        await connector.aclose()
