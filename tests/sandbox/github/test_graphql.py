"""GraphQL behaviour of the sandbox GitHub; every document is checked against the official schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from graphql import FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode, parse

from sandbox.github import GitHubSandbox, RateLimitPolicy, create_github_app
from sandbox.github.graphql_cost import analyse_operation

ITEMS = """
query($org: String!, $num: Int!, $after: String) {
  organization(login: $org) { projectV2(number: $num) { id
    items(first: 25, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id type
        content {
          ... on Issue { number url repository { nameWithOwner } labels(first: 20) { nodes { name } } }
          ... on PullRequest { number }
          ... on DraftIssue { title }
        }
        fieldValues(first: 30) { nodes {
          ... on ProjectV2ItemFieldNumberValue { number field { ... on ProjectV2FieldCommon { name } } }
          ... on ProjectV2ItemFieldSingleSelectValue { name optionId field { ... on ProjectV2FieldCommon { name } } }
          ... on ProjectV2ItemFieldTextValue { text field { ... on ProjectV2FieldCommon { name } } }
        } } } } } }
  rateLimit { cost remaining resetAt }
}
"""

FIELDS = """
query { organization(login: "acme") { projectV2(number: 1) { id fields(first: 20) { nodes {
  ... on ProjectV2Field { id name dataType }
  ... on ProjectV2SingleSelectField { id name dataType options { id name } }
  ... on ProjectV2IterationField { id name dataType configuration { iterations { id title startDate } } }
} } } } }
"""

Post = Callable[..., Any]


async def _fields(graphql: Post) -> tuple[str, dict[str, dict[str, Any]]]:
    body = await graphql(FIELDS)
    project = body["data"]["organization"]["projectV2"]
    return project["id"], {f["name"]: f for f in project["fields"]["nodes"]}


class TestReads:
    async def test_items_page_through_the_project(
        self, graphql: Post, sandbox: GitHubSandbox, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """Paging items with endCursor returns every item once, drafts and PRs included."""
        assert_valid_graphql(ITEMS)
        seen: list[str] = []
        after = None
        while True:
            body = await graphql(ITEMS, org="acme", num=1, after=after)
            items = body["data"]["organization"]["projectV2"]["items"]
            seen += [n["id"] for n in items["nodes"]]
            if not items["pageInfo"]["hasNextPage"]:
                break
            after = items["pageInfo"]["endCursor"]
        assert seen == [it.node_id for it in sandbox.state.projects[1].items]
        assert body["data"]["rateLimit"]["cost"] == 1

    async def test_fields_include_the_documented_set(
        self, graphql: Post, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """Project 1 has the fields configs rely on, with their types and options."""
        assert_valid_graphql(FIELDS)
        _, fields = await _fields(graphql)
        expected = {"Reach": "NUMBER", "Impact": "SINGLE_SELECT", "Confidence": "SINGLE_SELECT",
                    "Effort": "NUMBER", "Ease": "NUMBER", "RICE score": "NUMBER",
                    "Priority": "SINGLE_SELECT", "Score rationale": "TEXT",
                    "Status": "SINGLE_SELECT", "Iteration": "ITERATION"}  # fmt: skip
        assert {n: fields[n]["dataType"] for n in expected} == expected
        assert [o["name"] for o in fields["Impact"]["options"]] == [
            "Massive",
            "High",
            "Medium",
            "Low",
            "Minimal",
        ]
        assert [o["name"] for o in fields["Priority"]["options"]] == [
            "Highest",
            "High",
            "Medium",
            "Low",
        ]

    async def test_node_and_nodes_reread_items(
        self, graphql: Post, sandbox: GitHubSandbox, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """`node(id)` and `nodes(ids)` re-read items by the IDs a webhook would name."""
        doc = """query($id: ID!, $ids: [ID!]!) {
          node(id: $id) { ... on ProjectV2Item { id fieldValueByName(name: "Status") {
            ... on ProjectV2ItemFieldSingleSelectValue { name } } } }
          nodes(ids: $ids) { id } }"""
        assert_valid_graphql(doc)
        ids = [it.node_id for it in sandbox.state.projects[1].items[:3]]
        body = await graphql(doc, id=ids[0], ids=[*ids, "PVTI_missing"])
        assert body["data"]["node"]["id"] == ids[0]
        assert body["data"]["node"]["fieldValueByName"]["name"] in {"Todo", "In Progress"}
        assert [n and n["id"] for n in body["data"]["nodes"]] == [*ids, None]

    async def test_not_found_has_githubs_error_shape(self, graphql: Post) -> None:
        """An unknown organization gives data null plus an error with type, path and message."""
        body = await graphql('query { organization(login: "nobody") { id } }')
        error = body["errors"][0]
        assert body["data"] == {"organization": None}
        assert error["type"] == "NOT_FOUND"
        assert error["path"] == ["organization"]
        assert "nobody" in error["message"]

    async def test_pagination_limits(self, graphql: Post) -> None:
        """`first` over 100 and a connection without first/last are both rejected."""
        over = await graphql(
            '{ organization(login: "acme") { projectV2(number: 1) { items(first: 101) { totalCount } } } }'
        )
        missing = await graphql(
            '{ organization(login: "acme") { projectV2(number: 1) { items { totalCount } } } }'
        )
        assert over["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
        assert missing["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
        assert "data" not in over

    async def test_unknown_field_fails_validation(self, graphql: Post) -> None:
        """A field the schema lacks fails validation, with the location of the problem."""
        body = await graphql("{ viewer { login nonsense } }")
        assert "nonsense" in body["errors"][0]["message"]
        assert body["errors"][0]["locations"]


class TestCost:
    def test_documented_example(self, official_schema: GraphQLSchema) -> None:
        """GitHub's documented example costs 51 points and touches 305,100 nodes."""
        document = parse("""query { viewer { login repositories(first: 100) { edges { node { id
            issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }""")
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        report = analyse_operation(official_schema, operation, {}, {})
        assert (report.requests, report.cost, report.nodes) == (5101, 51, 305_100)

    def test_fragments_and_variables_count(self, official_schema: GraphQLSchema) -> None:
        """Connections inside fragments count, with page sizes taken from variables."""
        document = parse("""query($n: Int!) { organization(login: "a") { projectV2(number: 1) {
            items(first: $n) { nodes { ...Values } } } } }
            fragment Values on ProjectV2Item { fieldValues(first: 30) { totalCount } }""")
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        report = analyse_operation(official_schema, operation, fragments, {"n": 100})
        assert (report.requests, report.nodes) == (101, 100 + 3000)


class TestMutations:
    async def test_aliased_updates_in_one_document(
        self, graphql: Post, sandbox: GitHubSandbox, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """Several aliased mutations in one document all apply and the log counts them."""
        project_id, fields = await _fields(graphql)
        item = sandbox.state.projects[1].items[0]
        high = next(o["id"] for o in fields["Priority"]["options"] if o["name"] == "High")
        doc = """mutation($p: ID!, $i: ID!, $score: ID!, $prio: ID!, $why: ID!, $high: String!) {
          a: updateProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $score, value: {number: 266.7}}) { projectV2Item { id } }
          b: updateProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $prio, value: {singleSelectOptionId: $high}}) { projectV2Item { id } }
          c: updateProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $why, value: {text: "RICE 500×2×0.8/3"}}) { projectV2Item { id } }
        }"""
        assert_valid_graphql(doc)
        body = await graphql(
            doc,
            p=project_id,
            i=item.node_id,
            score=fields["RICE score"]["id"],
            prio=fields["Priority"]["id"],
            why=fields["Score rationale"]["id"],
            high=high,
        )
        assert "errors" not in body
        end = sandbox.item(item.node_id).fields
        assert (end["RICE score"], end["Priority"], end["Score rationale"]) == (
            266.7,
            "High",
            "RICE 500×2×0.8/3",
        )
        assert (sandbox.request_log[-1].mutations, sandbox.request_log[-1].kind) == (3, "graphql")

    async def test_clear_and_invalid_option(
        self, graphql: Post, sandbox: GitHubSandbox, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """Clearing removes a value; an option id from another field is refused."""
        project_id, fields = await _fields(graphql)
        item = sandbox.state.projects[1].items[1]
        doc = """mutation($p: ID!, $i: ID!, $f: ID!, $bad: String!) {
          clear: clearProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $f}) { projectV2Item { id } }
          bad: updateProjectV2ItemFieldValue(input: {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $bad}}) { projectV2Item { id } }
        }"""
        assert_valid_graphql(doc)
        other = fields["Impact"]["options"][0]["id"]
        body = await graphql(doc, p=project_id, i=item.node_id, f=fields["Status"]["id"], bad=other)
        assert "Status" not in sandbox.item(item.node_id).fields
        assert body["errors"][0]["type"] == "UNPROCESSABLE"
        assert body["errors"][0]["path"] == ["bad"]

    async def test_labels_by_node_id(
        self, graphql: Post, sandbox: GitHubSandbox, assert_valid_graphql: Callable[[str], None]
    ) -> None:
        """createLabel, addLabelsToLabelable and removeLabelsFromLabelable work on node IDs."""
        repo = sandbox.state.repos["web"]
        issue = next(i for i in repo.issues.values() if not i.is_pull_request)
        create = """mutation($r: ID!) { createLabel(input: {repositoryId: $r, name: "roadmap:now", color: "1d76db"}) { label { id name } } }"""
        assert_valid_graphql(create)
        label_id = (await graphql(create, r=repo.node_id))["data"]["createLabel"]["label"]["id"]
        again = await graphql(create, r=repo.node_id)
        add = """mutation($i: ID!, $l: [ID!]!) { addLabelsToLabelable(input: {labelableId: $i, labelIds: $l}) { labelable { labels(first: 50) { nodes { name } } } } }"""
        remove = """mutation($i: ID!, $l: [ID!]!) { removeLabelsFromLabelable(input: {labelableId: $i, labelIds: $l}) { clientMutationId } }"""
        assert_valid_graphql(add)
        assert_valid_graphql(remove)
        added = await graphql(add, i=issue.node_id, l=[label_id])
        assert "roadmap:now" in sandbox.issue("web", issue.number).labels
        await graphql(remove, i=issue.node_id, l=[label_id])
        assert again["errors"][0]["type"] == "UNPROCESSABLE"
        assert again["errors"][0]["message"] == "Name has already been taken"
        assert "roadmap:now" in {
            n["name"] for n in added["data"]["addLabelsToLabelable"]["labelable"]["labels"]["nodes"]
        }
        assert "roadmap:now" not in sandbox.issue("web", issue.number).labels


class TestLimits:
    async def test_primary_budget_gives_rate_limited(self) -> None:
        """When the hourly points run out, GraphQL answers 200 with a RATE_LIMITED error."""
        sandbox = GitHubSandbox.seeded(
            issues=10, token="t", limits=RateLimitPolicy(graphql_points_per_hour=2)
        )
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            bodies = [
                (await c.post("/graphql", json={"query": "{ rateLimit { remaining } }"}))
                for _ in range(3)
            ]
        assert [b.status_code for b in bodies] == [200, 200, 200]
        assert bodies[1].json()["data"]["rateLimit"]["remaining"] == 0
        assert bodies[2].json()["errors"][0]["type"] == "RATE_LIMITED"
        assert bodies[2].headers["x-ratelimit-remaining"] == "0"

    async def test_mutation_documents_cost_five_secondary_points(self) -> None:
        """With 10 points a minute, two mutation documents pass and the third gets 403 + retry-after."""
        sandbox = GitHubSandbox.seeded(
            issues=10, token="t", limits=RateLimitPolicy(graphql_points_per_minute=10)
        )
        repo = sandbox.state.repos["app"]
        doc = 'mutation($r: ID!, $n: String!) { createLabel(input: {repositoryId: $r, name: $n, color: "ffffff"}) { label { id } } }'
        transport = httpx.ASGITransport(app=create_github_app(sandbox))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://s", headers={"Authorization": "Bearer t"}
        ) as c:
            replies = [await c.post("/graphql", json={"query": doc, "variables": {"r": repo.node_id, "n": f"l{i}"}})
                       for i in range(3)]  # fmt: skip
        assert [r.status_code for r in replies] == [200, 200, 403]
        assert int(replies[2].headers["retry-after"]) > 0
        assert sandbox.request_log[-1].outcome == "secondary-limit"


DEPENDENCIES = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { issue(number: $number) {
    blockedBy(first: 10) { totalCount nodes { number closed repository { nameWithOwner } } }
    blocking(first: 10, orderBy: {field: DEPENDENCY_ADDED_AT, direction: ASC}) {
      nodes { number } }
    issueDependenciesSummary { blockedBy blocking totalBlockedBy totalBlocking }
  } }
}
"""


class TestDependencies:
    async def test_blocked_by_blocking_and_the_summary_agree_with_rest(
        self,
        graphql: Post,
        client: httpx.AsyncClient,
        sandbox: GitHubSandbox,
        assert_valid_graphql: Callable[[str], None],
        assert_rest_contract: Callable[[httpx.Response], None],
    ) -> None:
        """#1 blocked by #2 (open) and #3 (closed), blocking #4 and #5: both GraphQL sides
        and the REST summary (validated against the contract) tell the same story."""
        state = sandbox.state
        one, two, three, four, five = (sandbox.issue_object("app", n) for n in range(1, 6))
        for issue in (one, two, three, four, five):
            issue.state = "open"
        three.state = "closed"
        state.block(two, one)
        state.block(three, one)
        state.block(one, four)
        state.block(one, five)
        assert_valid_graphql(DEPENDENCIES)
        body = await graphql(DEPENDENCIES, owner="acme", name="app", number=1)
        issue = body["data"]["repository"]["issue"]
        blocked_by = issue["blockedBy"]
        assert blocked_by["totalCount"] == 2
        assert [(n["number"], n["closed"]) for n in blocked_by["nodes"]] == [(3, True), (2, False)]
        assert {n["repository"]["nameWithOwner"] for n in blocked_by["nodes"]} == {"acme/app"}
        assert [n["number"] for n in issue["blocking"]["nodes"]] == [4, 5]
        assert issue["issueDependenciesSummary"] == {
            "blockedBy": 1,
            "blocking": 2,
            "totalBlockedBy": 2,
            "totalBlocking": 2,
        }
        rest = await client.get("/repos/acme/app/issues/1")
        assert_rest_contract(rest)
        assert rest.json()["issue_dependencies_summary"] == {
            "blocked_by": 1,
            "blocking": 2,
            "total_blocked_by": 2,
            "total_blocking": 2,
        }
