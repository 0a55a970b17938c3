"""REST routes of the sandbox GitHub: issues, labels, organization issue fields, rate limit.

Shapes, status codes and paging follow https://docs.github.com/en/rest (docs/tracker-apis.md
§3.2, §3.3, §3.5): ``per_page`` at most 100 with a ``Link`` header, pull requests listed
as issues with ``pull_request``, 422 for an existing label, 404 when removing a label the
issue does not have, replace-the-set semantics for issue field values on PATCH and PUT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .graphql_api import WebhookEvent, touch
from .graphql_mutations import LabelRejected, create_label
from .payloads import (
    JSON,
    issue_field_json,
    issue_field_values_json,
    issue_json,
    label_json,
    repo_json,
    user_id,
    user_json,
    viewer_json,
)
from .state import (
    GitHubState,
    Issue,
    IssueComment,
    Label,
    OrgIssueField,
    Repository,
    make_node_id,
)

if TYPE_CHECKING:
    from .app import GitHubSandbox

DOCS = "https://docs.github.com/rest"
MAX_PER_PAGE = 100


class ApiError(Exception):
    """An error answered in GitHub's body shape."""

    def __init__(self, status: int, message: str, errors: list[JSON] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def error_response(
    status: int,
    message: str,
    errors: list[JSON] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Return GitHub's error body: ``message``, ``documentation_url``, ``status`` (and ``errors``)."""
    body: JSON = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def _sandbox(request: Request) -> GitHubSandbox:
    sandbox: GitHubSandbox = request.app.state.sandbox
    return sandbox


def base_url(request: Request) -> str:
    """Return the root URL the client used (REST base; GraphQL is ``<base>/graphql``)."""
    return str(request.base_url).rstrip("/")


def _queue(request: Request, event: WebhookEvent) -> None:
    request.state.events.append(event)


def _repo(request: Request) -> tuple[GitHubState, Repository]:
    state = _sandbox(request).state
    owner, name = request.path_params["owner"], request.path_params["repo"]
    repo = state.repos.get(name)
    if owner.casefold() != state.org.casefold() or repo is None:
        raise ApiError(404, "Not Found")
    return state, repo


def _issue(request: Request) -> tuple[GitHubState, Repository, Issue]:
    state, repo = _repo(request)
    issue = repo.issues.get(int(request.path_params["number"]))
    if issue is None:
        raise ApiError(404, "Not Found")
    return state, repo, issue


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(422, f"Invalid value for {name}") from exc


def paginate(request: Request, items: Sequence[Any]) -> tuple[Sequence[Any], dict[str, str]]:
    """Return one page of ``items`` and the ``Link`` header for ``per_page``/``page``."""
    per_page = min(MAX_PER_PAGE, max(1, _int_param(request, "per_page", 30)))
    page = max(1, _int_param(request, "page", 1))
    last = max(1, -(-len(items) // per_page))
    links = []

    def url_for(number: int) -> str:
        return str(request.url.include_query_params(page=number, per_page=per_page))

    if page > 1:
        links += [f'<{url_for(page - 1)}>; rel="prev"', f'<{url_for(1)}>; rel="first"']
    if page < last:
        links += [f'<{url_for(page + 1)}>; rel="next"', f'<{url_for(last)}>; rel="last"']
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(page - 1) * per_page : page * per_page], headers


def _filter_issues(request: Request, repo: Repository) -> list[Issue]:
    params = request.query_params
    state = params.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise ApiError(
            422, "Validation Failed", [{"resource": "Issue", "field": "state", "code": "invalid"}]
        )
    wanted = {n.strip().casefold() for n in params.get("labels", "").split(",") if n.strip()}
    since = params.get("since")
    found = [
        i for i in repo.issues.values()
        if (state == "all" or i.state == state)
        and wanted <= {n.casefold() for n in i.labels}
        and (since is None or i.updated_at >= since)
    ]  # fmt: skip
    key = "updated_at" if params.get("sort") == "updated" else "created_at"
    found.sort(
        key=lambda i: (getattr(i, key), i.number), reverse=params.get("direction", "desc") == "desc"
    )
    return found


async def list_issues(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/issues``."""
    state, repo = _repo(request)
    page, headers = paginate(request, _filter_issues(request, repo))
    base = base_url(request)
    return JSONResponse([issue_json(state, base, i) for i in page], headers=headers)


async def get_issue(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/issues/{issue_number}``."""
    state, _, issue = _issue(request)
    return JSONResponse(issue_json(state, base_url(request), issue))


def _coerce_issue_field(field: OrgIssueField, value: Any) -> float | str:
    if (
        field.data_type == "number"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return float(value)
    if field.data_type in ("text", "date") and isinstance(value, str):
        return value
    if field.data_type == "single_select" and isinstance(value, str) and field.find_option(value):
        return field.find_option(value).name  # type: ignore[union-attr]
    raise ApiError(422, "Validation Failed",
                   [{"resource": "IssueFieldValue", "field": "value", "code": "invalid",
                     "message": f"Invalid value for issue field {field.name}"}])  # fmt: skip


def _parse_field_values(state: GitHubState, entries: Any) -> dict[int, float | str]:
    if not isinstance(entries, list):
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Issue", "field": "issue_field_values", "code": "invalid"}],
        )
    values: dict[int, float | str] = {}
    for entry in entries:
        field_id = entry.get("field_id") if isinstance(entry, dict) else None
        field = state.find_issue_field(field_id) if isinstance(field_id, int) else None
        if field is None:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "IssueFieldValue", "field": "field_id", "code": "invalid"}],
            )
        values[field.id] = _coerce_issue_field(field, entry.get("value"))
    return values


def _label_names(raw: Any) -> list[str]:
    """Accept ``{"labels": [...]}`` or a bare array of names or ``{"name"}`` objects."""
    items = raw.get("labels") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ApiError(
            422, "Validation Failed", [{"resource": "Label", "field": "labels", "code": "invalid"}]
        )
    names = [
        i if isinstance(i, str) else i.get("name") if isinstance(i, dict) else None for i in items
    ]
    if any(not isinstance(n, str) or not n for n in names):
        raise ApiError(
            422, "Validation Failed", [{"resource": "Label", "field": "name", "code": "invalid"}]
        )
    return [str(n) for n in names]


def _ensure_label(state: GitHubState, repo: Repository, name: str) -> Label:
    # Like github.com, adding a label the repository lacks creates it with the default colour.
    found = repo.find_label(name)
    return found or create_label(state, repo, name=name, color="ededed", description=None)


def _add_labels(
    request: Request, state: GitHubState, repo: Repository, issue: Issue, names: list[str]
) -> None:
    for name in names:
        label = _ensure_label(state, repo, name)
        if label.name.casefold() not in {n.casefold() for n in issue.labels}:
            issue.labels.append(label.name)
            touch(issue)
            _queue(request, WebhookEvent("issues", "labeled", issue, {"label": label}))


def _remove_label(request: Request, repo: Repository, issue: Issue, name: str) -> bool:
    kept = [n for n in issue.labels if n.casefold() != name.casefold()]
    if len(kept) == len(issue.labels):
        return False
    issue.labels = kept
    touch(issue)
    label = repo.find_label(name)
    if label is not None:
        _queue(request, WebhookEvent("issues", "unlabeled", issue, {"label": label}))
    return True


def _replace_labels(
    request: Request, state: GitHubState, repo: Repository, issue: Issue, names: list[str]
) -> None:
    wanted = {n.casefold() for n in names}
    for name in [n for n in issue.labels if n.casefold() not in wanted]:
        _remove_label(request, repo, issue, name)
    _add_labels(request, state, repo, issue, names)


async def update_issue(request: Request) -> Response:
    """``PATCH /repos/{owner}/{repo}/issues/{issue_number}``: title, body, state, labels
    (replace) and ``issue_field_values`` (replace the set; an empty list clears nothing)."""
    state, repo, issue = _issue(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(422, "Validation Failed")
    if body.get("issue_field_values"):
        issue.issue_field_values = _parse_field_values(state, body["issue_field_values"])
    for key in ("title", "body"):
        if isinstance(body.get(key), str):
            setattr(issue, key, body[key])
    if body.get("state") in ("open", "closed"):
        issue.state = body["state"]
    if "labels" in body:
        _replace_labels(request, state, repo, issue, _label_names(body["labels"]))
    touch(issue)
    _queue(request, WebhookEvent("issues", "edited", issue))
    return JSONResponse(issue_json(state, base_url(request), issue))


def _issue_labels_json(
    request: Request, state: GitHubState, repo: Repository, issue: Issue
) -> list[JSON]:
    base = base_url(request)
    labels = [lb for n in issue.labels if (lb := repo.find_label(n)) is not None]
    return [label_json(state, base, lb) for lb in labels]


async def list_issue_labels(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/issues/{issue_number}/labels``."""
    state, repo, issue = _issue(request)
    page, headers = paginate(request, _issue_labels_json(request, state, repo, issue))
    return JSONResponse(list(page), headers=headers)


async def add_issue_labels(request: Request) -> Response:
    """``POST …/issues/{issue_number}/labels``: add labels, return the issue's full list."""
    state, repo, issue = _issue(request)
    _add_labels(request, state, repo, issue, _label_names(await _json_body(request)))
    return JSONResponse(_issue_labels_json(request, state, repo, issue))


async def set_issue_labels(request: Request) -> Response:
    """``PUT …/issues/{issue_number}/labels``: replace the label set."""
    state, repo, issue = _issue(request)
    _replace_labels(request, state, repo, issue, _label_names(await _json_body(request)))
    return JSONResponse(_issue_labels_json(request, state, repo, issue))


async def remove_issue_label(request: Request) -> Response:
    """``DELETE …/issues/{issue_number}/labels/{name}``: 404 when the issue lacks it."""
    state, repo, issue = _issue(request)
    if not _remove_label(request, repo, issue, request.path_params["name"]):
        raise ApiError(404, "Label does not exist")
    return JSONResponse(_issue_labels_json(request, state, repo, issue))


async def list_repo_labels(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/labels``."""
    state, repo = _repo(request)
    base = base_url(request)
    page, headers = paginate(request, repo.labels)
    return JSONResponse([label_json(state, base, lb) for lb in page], headers=headers)


async def get_repo_label(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/labels/{name}``."""
    state, repo = _repo(request)
    label = repo.find_label(request.path_params["name"])
    if label is None:
        raise ApiError(404, "Not Found")
    return JSONResponse(label_json(state, base_url(request), label))


async def create_repo_label(request: Request) -> Response:
    """``POST /repos/{owner}/{repo}/labels``: 201, or 422 ``already_exists``."""
    state, repo = _repo(request)
    body = await _json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Label", "code": "missing_field", "field": "name"}],
        )
    color = str(body.get("color") or "ededed").removeprefix("#")
    try:
        label = create_label(
            state, repo, name=name, color=color, description=body.get("description")
        )
    except LabelRejected as exc:
        raise ApiError(
            422, "Validation Failed", [{"resource": "Label", "code": exc.code, "field": exc.field}]
        ) from exc
    return JSONResponse(label_json(state, base_url(request), label), status_code=201)


async def get_repo(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}`` (what clients such as PyGithub read first)."""
    state, repo = _repo(request)
    return JSONResponse(repo_json(state, base_url(request), repo))


async def get_viewer(request: Request) -> Response:
    """``GET /user``: the token's user."""
    return JSONResponse(viewer_json(_sandbox(request).state, base_url(request)))


async def list_org_issue_fields(request: Request) -> Response:
    """``GET /orgs/{org}/issue-fields``."""
    state = _sandbox(request).state
    if request.path_params["org"].casefold() != state.org.casefold():
        raise ApiError(404, "Not Found")
    return JSONResponse([issue_field_json(f) for f in state.issue_fields])


async def list_issue_field_values(request: Request) -> Response:
    """``GET …/issues/{issue_number}/issue-field-values``."""
    state, _, issue = _issue(request)
    page, headers = paginate(request, issue_field_values_json(state, issue))
    return JSONResponse(list(page), headers=headers)


async def write_issue_field_values(request: Request) -> Response:
    """``POST`` adds or updates the given values; ``PUT`` replaces the whole set."""
    state, _, issue = _issue(request)
    body = await _json_body(request)
    values = _parse_field_values(
        state, body.get("issue_field_values") if isinstance(body, dict) else None
    )
    if request.method == "PUT":
        issue.issue_field_values = values
    else:
        issue.issue_field_values.update(values)
    touch(issue)
    _queue(request, WebhookEvent("issues", "edited", issue))
    return JSONResponse(issue_field_values_json(state, issue))


async def delete_issue_field_value(request: Request) -> Response:
    """``DELETE …/issue-field-values/{issue_field_id}``: 204, or 404 when not set."""
    _, _, issue = _issue(request)
    if issue.issue_field_values.pop(int(request.path_params["field_id"]), None) is None:
        raise ApiError(404, "Not Found")
    touch(issue)
    _queue(request, WebhookEvent("issues", "edited", issue))
    return Response(status_code=204)


async def get_rate_limit(request: Request) -> Response:
    """``GET /rate_limit``: does not count against the primary limit."""
    limiter = _sandbox(request).limiter
    core, graphql = limiter.budget("core"), limiter.budget("graphql")

    def entry(b: Any) -> JSON:
        return {"limit": b.limit, "remaining": b.remaining, "reset": b.reset, "used": b.used}

    search = {"limit": 30, "remaining": 30, "reset": core.reset, "used": 0}
    return JSONResponse(
        {
            "resources": {"core": entry(core), "graphql": entry(graphql), "search": search},
            "rate": entry(core),
        }
    )


def wrap(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn :class:`ApiError` into GitHub's error response."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.errors)
        return response

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


# ── issue comments ──────────────────────────────────────────────────────────────────────


def _comment_json(request: Request, comment: IssueComment) -> JSON:
    """An ``issue-comment`` (the fields a client reads)."""
    base = base_url(request)
    state = _sandbox(request).state
    full = f"{state.org}/{comment.repo}"
    return {
        "id": comment.id, "node_id": make_node_id("IC", comment.id),
        "url": f"{base}/repos/{full}/issues/comments/{comment.id}",
        "html_url": f"{base}/{full}/issues/{comment.number}#issuecomment-{comment.id}",
        "issue_url": f"{base}/repos/{full}/issues/{comment.number}",
        "body": comment.body, "user": user_json(base, login=comment.login, user_id=user_id(comment.login), user_type="Bot"),
        "created_at": comment.created_at, "updated_at": comment.updated_at,
        "author_association": "NONE",
    }  # fmt: skip


def _comment_body(body: Any) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
        )
    if len(body["body"]) > 65_536:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "IssueComment",
                    "field": "body",
                    "code": "custom",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    return str(body["body"])


async def list_issue_comments(request: Request) -> Response:
    """``GET …/issues/{issue_number}/comments``, oldest first."""
    state, repo, issue = _issue(request)
    found = [
        _comment_json(request, c)
        for c in sorted(state.comments.values(), key=lambda c: c.id)
        if c.repo == repo.name and c.number == issue.number
    ]
    page, headers = paginate(request, found)
    return JSONResponse(list(page), headers=headers)


async def create_issue_comment(request: Request) -> Response:
    """``POST …/issues/{issue_number}/comments``."""
    state, repo, issue = _issue(request)
    text = _comment_body(await _json_body(request))
    now = _utc_now()
    comment = IssueComment(
        state.allocate_id(), repo.name, issue.number, text, "github-actions[bot]", now, now
    )
    state.comments[comment.id] = comment
    return JSONResponse(_comment_json(request, comment), status_code=201)


async def update_issue_comment(request: Request) -> Response:
    """``PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}``."""
    state, repo = _repo(request)
    comment = state.comments.get(int(request.path_params["comment_id"]))
    if comment is None or comment.repo != repo.name:
        raise ApiError(404, "Not Found")
    comment.body = _comment_body(await _json_body(request))
    comment.updated_at = _utc_now()
    return JSONResponse(_comment_json(request, comment))


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_REPO = "/repos/{owner}/{repo}"
_ISSUE = _REPO + "/issues/{number:int}"


def rest_routes() -> list[Route]:
    """Return the REST routes."""
    table: list[tuple[str, Callable[[Request], Any], list[str]]] = [
        ("/rate_limit", get_rate_limit, ["GET"]),
        ("/user", get_viewer, ["GET"]),
        ("/orgs/{org}/issue-fields", list_org_issue_fields, ["GET"]),
        (_REPO, get_repo, ["GET"]),
        (_REPO + "/issues", list_issues, ["GET"]),
        (_ISSUE, get_issue, ["GET"]),
        (_ISSUE, update_issue, ["PATCH"]),
        (_ISSUE + "/comments", list_issue_comments, ["GET"]),
        (_ISSUE + "/comments", create_issue_comment, ["POST"]),
        (_REPO + "/issues/comments/{comment_id:int}", update_issue_comment, ["PATCH"]),
        (_ISSUE + "/labels", list_issue_labels, ["GET"]),
        (_ISSUE + "/labels", add_issue_labels, ["POST"]),
        (_ISSUE + "/labels", set_issue_labels, ["PUT"]),
        (_ISSUE + "/labels/{name:path}", remove_issue_label, ["DELETE"]),
        (_ISSUE + "/issue-field-values", list_issue_field_values, ["GET"]),
        (_ISSUE + "/issue-field-values", write_issue_field_values, ["POST", "PUT"]),
        (_ISSUE + "/issue-field-values/{field_id:int}", delete_issue_field_value, ["DELETE"]),
        (_REPO + "/labels", list_repo_labels, ["GET"]),
        (_REPO + "/labels", create_repo_label, ["POST"]),
        (_REPO + "/labels/{name:path}", get_repo_label, ["GET"]),
    ]
    return [Route(path, wrap(fn), methods=methods) for path, fn, methods in table]
