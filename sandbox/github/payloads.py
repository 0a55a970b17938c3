"""JSON bodies in GitHub's REST shapes (issue, label, user, repository, issue fields).

Pure functions of the state and the base URL the client used, shared by the REST routes
and the webhook payloads. Shapes follow ``github-rest-subset.json`` (the tests validate
them against it).
"""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import quote

from .state import GitHubState, Issue, Label, OrgIssueField, Repository, make_node_id

JSON = dict[str, Any]


def user_id(login: str) -> int:
    """A stable numeric id for a sandbox person's login."""
    return 100_000 + zlib.crc32(login.encode()) % 900_000


def user_json(base: str, *, login: str, user_id: int, user_type: str = "User") -> JSON:
    """Return a ``simple-user`` object."""
    api = f"{base}/users/{login}"
    return {
        "login": login, "id": user_id, "node_id": make_node_id("U", user_id),
        "avatar_url": f"{base}/avatars/{login}", "gravatar_id": "", "url": api,
        "html_url": f"{base}/{login}", "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}", "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs", "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events", "type": user_type, "site_admin": False,
    }  # fmt: skip


def viewer_json(state: GitHubState, base: str) -> JSON:
    """Return the authenticated user (also the ``sender`` of webhooks)."""
    return user_json(base, login=state.viewer_login, user_id=state.viewer_id)


def org_json(state: GitHubState, base: str) -> JSON:
    """Return the organization as webhook payloads carry it."""
    api = f"{base}/orgs/{state.org}"
    return {
        "login": state.org, "id": state.org_id, "node_id": state.org_node_id, "url": api,
        "repos_url": f"{api}/repos", "issues_url": f"{api}/issues", "description": None,
    }  # fmt: skip


def label_json(state: GitHubState, base: str, label: Label) -> JSON:
    """Return a ``label`` object."""
    return {
        "id": label.id, "node_id": label.node_id,
        "url": f"{base}/repos/{state.org}/{label.repo}/labels/{quote(label.name, safe='')}",
        "name": label.name, "description": label.description, "color": label.color,
        "default": label.default,
    }  # fmt: skip


def repo_json(state: GitHubState, base: str, repo: Repository) -> JSON:
    """Return a repository object with the fields clients commonly read."""
    full = f"{state.org}/{repo.name}"
    api = f"{base}/repos/{full}"
    return {
        "id": repo.id, "node_id": repo.node_id, "name": repo.name, "full_name": full,
        "private": False, "owner": {**user_json(base, login=state.org, user_id=state.org_id),
                                    "type": "Organization"},
        "html_url": f"{base}/{full}", "url": api, "issues_url": f"{api}/issues{{/number}}",
        "labels_url": f"{api}/labels{{/name}}", "has_issues": True, "archived": False,
        "open_issues_count": sum(1 for i in repo.issues.values() if i.state == "open"),
        "default_branch": "main",
    }  # fmt: skip


def issue_field_value_json(state: GitHubState, field: OrgIssueField, value: float | str) -> JSON:
    """Return an ``issue-field-value`` object."""
    body: JSON = {
        "issue_field_id": field.id, "issue_field_name": field.name,
        "node_id": make_node_id("IFV", field.id), "data_type": field.data_type, "value": value,
    }  # fmt: skip
    if field.data_type == "single_select":
        option = field.find_option(str(value))
        body["single_select_option"] = (
            {"id": option.id, "name": option.name, "color": option.color} if option else None
        )
    return body


def issue_field_values_json(state: GitHubState, issue: Issue) -> list[JSON]:
    """Return the issue's organization issue field values."""
    values = []
    for field_id, value in sorted(issue.issue_field_values.items()):
        field = state.find_issue_field(field_id)
        if field is not None:
            values.append(issue_field_value_json(state, field, value))
    return values


def issue_json(state: GitHubState, base: str, issue: Issue) -> JSON:
    """Return an ``issue`` object (pull requests carry ``pull_request``)."""
    repo = state.repos[issue.repo]
    full = f"{state.org}/{issue.repo}"
    api = f"{base}/repos/{full}/issues/{issue.number}"
    kind = "pull" if issue.is_pull_request else "issues"
    labels = [lb for name in issue.labels if (lb := repo.find_label(name)) is not None]
    assignees = [user_json(base, login=login, user_id=user_id(login)) for login in issue.assignees]
    body: JSON = {
        "id": issue.id, "node_id": issue.node_id, "url": api,
        "repository_url": f"{base}/repos/{full}", "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments", "events_url": f"{api}/events",
        "html_url": f"{base}/{full}/{kind}/{issue.number}", "number": issue.number,
        "state": issue.state,
        "title": issue.title, "body": issue.body,
        "user": user_json(base, login="octo-pm", user_id=7),
        "labels": [label_json(state, base, lb) for lb in labels],
        "assignee": assignees[0] if assignees else None, "assignees": assignees,
        "milestone": None, "locked": False,
        "active_lock_reason": None, "comments": 0, "closed_at": issue.closed_at,
        "created_at": issue.created_at, "updated_at": issue.updated_at,
        "author_association": "MEMBER",
        "issue_field_values": issue_field_values_json(state, issue),
        "issue_dependencies_summary": dependencies_summary_json(state, issue),
    }  # fmt: skip
    if issue.state == "closed":
        # Open issues omit it: the description's nullable enum does not list null.
        body["state_reason"] = "completed"
    if issue.is_pull_request:
        pr_api = f"{base}/repos/{full}/pulls/{issue.number}"
        body["draft"] = issue.draft
        body["pull_request"] = {
            "url": pr_api, "html_url": f"{base}/{full}/pull/{issue.number}",
            "diff_url": f"{base}/{full}/pull/{issue.number}.diff",
            "patch_url": f"{base}/{full}/pull/{issue.number}.patch", "merged_at": None,
        }  # fmt: skip
    return body


def dependencies_summary_json(state: GitHubState, issue: Issue) -> JSON:
    """Return an ``issue-dependencies-summary``: open blockers and blocked issues, and all."""
    blockers, blocking = state.blockers(issue), state.blocking(issue)
    return {
        "blocked_by": sum(1 for i in blockers if i.state == "open"),
        "blocking": sum(1 for i in blocking if i.state == "open"),
        "total_blocked_by": len(blockers),
        "total_blocking": len(blocking),
    }


def issue_field_json(field: OrgIssueField) -> JSON:
    """Return an ``issue-field`` definition."""
    body: JSON = {
        "id": field.id, "node_id": field.node_id, "name": field.name,
        "description": field.description, "data_type": field.data_type, "visibility": "all",
        "created_at": field.created_at, "updated_at": field.updated_at,
    }  # fmt: skip
    if field.data_type == "single_select":
        body["options"] = [{"id": o.id, "name": o.name, "color": o.color} for o in field.options]
    return body
