"""The independent PyGithub client against the sandbox served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github, GithubException

from sandbox.github import GitHubSandbox, create_github_app
from sandbox.loopback import serve_in_thread


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GitHubSandbox, Github]]:
    """One sandbox on a free loopback port, and a PyGithub client pointed at it."""
    sandbox = GitHubSandbox.seeded(issues=80, seed=11, token="pygithub-token")
    with serve_in_thread(create_github_app(sandbox)) as url:
        client = Github(
            base_url=url,
            auth=Auth.Token("pygithub-token"),
            per_page=10,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        yield sandbox, client
        client.close()


class TestPyGithub:
    def test_lists_issues_across_pages(self, served: tuple[GitHubSandbox, Github]) -> None:
        """A paginated issue list walks every page through the Link header."""
        sandbox, gh = served
        before = sandbox.count_requests("rest-read")
        repo = gh.get_repo("acme/app")
        numbers = [i.number for i in repo.get_issues(state="all")]
        assert sorted(numbers) == sorted(sandbox.state.repos["app"].issues)
        assert sandbox.count_requests("rest-read") - before >= 1 + len(numbers) // 10
        assert any(i.pull_request is not None for i in repo.get_issues(state="all"))

    def test_add_and_remove_a_label(self, served: tuple[GitHubSandbox, Github]) -> None:
        """add_to_labels and remove_from_labels change the sandbox's issue."""
        sandbox, gh = served
        issue = gh.get_repo("acme/app").get_issue(2)
        issue.add_to_labels("roadmap:later")
        assert "roadmap:later" in sandbox.issue("app", 2).labels
        issue.remove_from_labels("roadmap:later")
        assert "roadmap:later" not in sandbox.issue("app", 2).labels

    def test_create_label_and_conflict(self, served: tuple[GitHubSandbox, Github]) -> None:
        """create_label makes a label; a second one with that name raises a 422."""
        sandbox, gh = served
        repo = gh.get_repo("acme/web")
        label = repo.create_label("needs-scoring", "fbca04", "Inputs missing")
        assert label.name == "needs-scoring"
        assert "needs-scoring" in sandbox.repo_labels("web")
        with pytest.raises(GithubException) as raised:
            repo.create_label("needs-scoring", "fbca04")
        assert raised.value.status == 422

    def test_reads_the_rate_limit(self, served: tuple[GitHubSandbox, Github]) -> None:
        """get_rate_limit parses the core budget the sandbox reports."""
        _, gh = served
        limits = gh.get_rate_limit()
        assert limits.resources.core.limit == 5000
        assert 0 < limits.resources.core.remaining < 5000

    def test_graphql_through_the_requester(self, served: tuple[GitHubSandbox, Github]) -> None:
        """A GraphQL query sent by PyGithub's requester reaches <root>/graphql and is answered."""
        sandbox, gh = served
        query = """query($org: String!) { organization(login: $org) { projectV2(number: 1) {
                     title items(first: 5) { totalCount nodes { id } } } } rateLimit { cost remaining } }"""
        _, body = gh.requester.graphql_query(query, {"org": "acme"})
        project = body["data"]["organization"]["projectV2"]
        assert project["items"]["totalCount"] == 80
        assert body["data"]["rateLimit"]["cost"] == 1
        assert sandbox.request_log[-1].kind == "graphql"
