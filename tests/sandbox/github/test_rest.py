"""REST behaviour of the sandbox GitHub, each response checked against the official description."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from sandbox.github import GitHubSandbox, RateLimitPolicy, create_github_app
from sandbox.github.serve import build_sandbox

Check = Callable[[httpx.Response], None]


def _next_link(response: httpx.Response) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
    return match.group(1) if match else None


class TestIssues:
    async def test_pages_follow_link_headers(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox, assert_rest_contract: Check
    ) -> None:
        """Following rel="next" visits every issue of the repository exactly once."""
        url: str | None = "/repos/acme/app/issues?state=all&per_page=7"
        numbers: list[int] = []
        while url:
            response = await client.get(url)
            assert_rest_contract(response)
            numbers += [i["number"] for i in response.json()]
            url = _next_link(response)
        assert sorted(numbers) == sorted(sandbox.state.repos["app"].issues)

    async def test_pull_requests_carry_pull_request(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox
    ) -> None:
        """Pull requests are listed as issues with a `pull_request` key, issues without."""
        body = (await client.get("/repos/acme/app/issues?state=all&per_page=100")).json()
        issues = sandbox.state.repos["app"].issues
        for entry in body:
            assert ("pull_request" in entry) == issues[entry["number"]].is_pull_request

    async def test_state_defaults_to_open_and_per_page_is_capped(
        self, client: httpx.AsyncClient
    ) -> None:
        """Without `state` only open issues come back, and per_page above 100 means 100."""
        body = (await client.get("/repos/acme/app/issues?per_page=500")).json()
        assert {i["state"] for i in body} == {"open"}
        assert len(body) <= 100

    async def test_get_issue_and_missing_issue(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """An existing issue is returned in the `issue` shape; an unknown one is a 404."""
        found = await client.get("/repos/acme/app/issues/1")
        assert_rest_contract(found)
        missing = await client.get("/repos/acme/app/issues/9999")
        assert_rest_contract(missing)
        assert (found.status_code, missing.status_code) == (200, 404)
        assert missing.json()["message"] == "Not Found"

    async def test_requires_token(self, sandbox: GitHubSandbox) -> None:
        """Requests without the token are answered 401."""
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as anonymous:
            response = await anonymous.get("/repos/acme/app/issues")
        assert response.status_code == 401
        assert response.json()["message"] == "Requires authentication"


class TestLabels:
    async def test_add_returns_full_list(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox, assert_rest_contract: Check
    ) -> None:
        """Adding labels keeps the existing ones and returns the issue's whole list."""
        before = set(sandbox.issue("app", 1).labels)
        response = await client.post(
            "/repos/acme/app/issues/1/labels", json={"labels": ["roadmap:next"]}
        )
        assert_rest_contract(response)
        assert {lb["name"] for lb in response.json()} == before | {"roadmap:next"}

    async def test_remove_url_encoded_name(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox, assert_rest_contract: Check
    ) -> None:
        """A label with `:`, `/` and a space is removed by its URL-encoded name; again is a 404."""
        await client.post("/repos/acme/web/labels", json={"name": "team a/b:c", "color": "112233"})
        await client.post("/repos/acme/web/issues/2/labels", json=["team a/b:c"])
        removed = await client.delete("/repos/acme/web/issues/2/labels/team%20a%2Fb%3Ac")
        assert_rest_contract(removed)
        again = await client.delete("/repos/acme/web/issues/2/labels/team%20a%2Fb%3Ac")
        assert_rest_contract(again)
        assert (removed.status_code, again.status_code) == (200, 404)
        assert "team a/b:c" not in sandbox.issue("web", 2).labels

    async def test_create_label_then_conflict(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """Creating a label answers 201; creating it again answers 422 `already_exists`."""
        first = await client.post(
            "/repos/acme/web/labels", json={"name": "roadmap:now", "color": "1d76db"}
        )
        second = await client.post(
            "/repos/acme/web/labels", json={"name": "Roadmap:Now", "color": "1d76db"}
        )
        assert_rest_contract(first)
        assert_rest_contract(second)
        assert (first.status_code, second.status_code) == (201, 422)
        assert second.json()["errors"][0]["code"] == "already_exists"
        assert second.json()["errors"][0]["field"] == "name"

    async def test_create_label_with_a_bad_color(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """A colour that is not six hex digits answers 422 `invalid` on the `color` field."""
        response = await client.post(
            "/repos/acme/web/labels", json={"name": "roadmap:later", "color": "blue"}
        )
        assert_rest_contract(response)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"resource": "Label", "code": "invalid", "field": "color"}
        ]

    async def test_list_repo_labels(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """Repository labels list in the `label` shape; roadmap labels exist only in `app`."""
        app = await client.get("/repos/acme/app/labels?per_page=100")
        web = await client.get("/repos/acme/web/labels?per_page=100")
        assert_rest_contract(app)
        assert "roadmap:now" in {lb["name"] for lb in app.json()}
        assert "roadmap:now" not in {lb["name"] for lb in web.json()}


class TestIssueFields:
    async def test_list_definitions(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """The organization's issue fields mirror the inputs and include Priority."""
        response = await client.get("/orgs/acme/issue-fields")
        assert_rest_contract(response)
        names = {f["name"] for f in response.json()}
        assert {"Reach", "Impact", "Confidence", "Effort", "Ease", "Priority"} <= names

    async def test_patch_replaces_the_set(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox, assert_rest_contract: Check
    ) -> None:
        """PATCH with `issue_field_values` replaces every value, as GitHub documents."""
        fields = {f.name: f.id for f in sandbox.state.issue_fields}
        response = await client.patch("/repos/acme/app/issues/3", json={"issue_field_values": [
            {"field_id": fields["RICE score"], "value": 42.5},
            {"field_id": fields["Priority"], "value": "High"}]})  # fmt: skip
        assert_rest_contract(response)
        assert sandbox.issue("app", 3).fields == {"RICE score": 42.5, "Priority": "High"}

    async def test_empty_patch_list_clears_nothing(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox
    ) -> None:
        """An empty `issue_field_values` list leaves the values as they were."""
        before = sandbox.issue("app", 3).fields
        await client.patch("/repos/acme/app/issues/3", json={"issue_field_values": []})
        assert sandbox.issue("app", 3).fields == before

    async def test_post_merges_and_delete_removes_one(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox
    ) -> None:
        """POST adds to the set, DELETE removes one field, and a second DELETE is a 404."""
        fields = {f.name: f.id for f in sandbox.state.issue_fields}
        before = sandbox.issue("app", 5).fields
        await client.post(
            "/repos/acme/app/issues/5/issue-field-values",
            json={"issue_field_values": [{"field_id": fields["RICE score"], "value": 7}]},
        )
        assert sandbox.issue("app", 5).fields == {**before, "RICE score": 7.0}
        first = await client.delete(
            f"/repos/acme/app/issues/5/issue-field-values/{fields['RICE score']}"
        )
        second = await client.delete(
            f"/repos/acme/app/issues/5/issue-field-values/{fields['RICE score']}"
        )
        assert (first.status_code, second.status_code) == (204, 404)

    async def test_invalid_option_is_422(
        self, client: httpx.AsyncClient, sandbox: GitHubSandbox
    ) -> None:
        """A single-select value that is not an option is refused with 422."""
        priority = next(f.id for f in sandbox.state.issue_fields if f.name == "Priority")
        response = await client.patch(
            "/repos/acme/app/issues/3",
            json={"issue_field_values": [{"field_id": priority, "value": "Urgent"}]},
        )
        assert response.status_code == 422


class TestRateLimits:
    async def test_headers_and_rate_limit_endpoint(
        self, client: httpx.AsyncClient, assert_rest_contract: Check
    ) -> None:
        """Responses carry x-ratelimit-* headers; GET /rate_limit itself costs nothing."""
        first = await client.get("/repos/acme/app/issues/1")
        limits = await client.get("/rate_limit")
        again = await client.get("/rate_limit")
        assert_rest_contract(limits)
        assert first.headers["x-ratelimit-resource"] == "core"
        assert int(first.headers["x-ratelimit-remaining"]) == 4999
        assert (
            limits.json()["resources"]["core"]["remaining"]
            == again.json()["resources"]["core"]["remaining"]
            == 4999
        )

    async def test_primary_limit(self) -> None:
        """Past the hourly budget REST answers 403 with x-ratelimit-remaining 0."""
        sandbox = GitHubSandbox.seeded(
            issues=10, token="t", limits=RateLimitPolicy(rest_per_hour=2)
        )
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "token t"}
        ) as c:
            statuses = [(await c.get("/repos/acme/app/issues/1")).status_code for _ in range(3)]
            last = await c.get("/repos/acme/app/issues/1")
        assert statuses == [200, 200, 403]
        assert last.headers["x-ratelimit-remaining"] == "0"
        assert sandbox.request_log[-1].outcome == "primary-limit"

    async def test_hourly_budget_from_the_command_line(self) -> None:
        """`priosync sandbox github --points-per-hour N` sets both hourly budgets (benchmarks
        read a 50,000-item Project several times an hour)."""
        sandbox = build_sandbox(
            issues=10, seed=7, org="acme", repos=("app",), token="t", state_path=None,
            points_per_hour=50_000,
        )  # fmt: skip
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "token t"}
        ) as c:
            rest = await c.get("/repos/acme/app/issues/1")
            graphql = await c.post("/graphql", json={"query": "{ viewer { login } }"})
        assert rest.headers["x-ratelimit-limit"] == "50000"
        assert graphql.headers["x-ratelimit-resource"] == "graphql"
        assert graphql.headers["x-ratelimit-limit"] == "50000"

    async def test_secondary_limit_counts_write_points(self) -> None:
        """Writes cost 5 points: with 12 points a minute the third write gets 429 + retry-after."""
        now = [1000.0]
        policy = RateLimitPolicy(rest_points_per_minute=12, secondary_status=429)
        sandbox = GitHubSandbox.seeded(issues=10, token="t", limits=policy, clock=lambda: now[0])
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            writes = [
                await c.post("/repos/acme/app/issues/1/labels", json=["bug"]) for _ in range(3)
            ]
            now[0] += 61
            later = await c.post("/repos/acme/app/issues/1/labels", json=["bug"])
        assert [w.status_code for w in writes] == [200, 200, 429]
        assert 0 < int(writes[2].headers["retry-after"]) <= 60
        assert "secondary rate limit" in writes[2].json()["message"]
        assert later.status_code == 200

    async def test_content_creation_limit(self) -> None:
        """Creating labels counts as content creation, limited per minute."""
        sandbox = GitHubSandbox.seeded(
            issues=10, token="t", limits=RateLimitPolicy(content_creation_per_minute=2)
        )
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            codes = [(await c.post("/repos/acme/web/labels", json={"name": f"x{i}"})).status_code
                     for i in range(3)]  # fmt: skip
        assert codes == [201, 201, 403]
