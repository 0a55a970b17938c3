"""The sandbox Jira as a Starlette app: routes, auth, paging, faults and the request log.

Cloud mode serves every endpoint under ``/rest/api/3`` and ``/rest/api/2`` (and
``latest``, an alias of 2); DC mode (``sandbox.dc``) serves ``/rest/api/2`` only, with the
old ``/search`` instead of ``/search/jql`` and ``/issue/bulkfetch``.

Paging (docs/tracker-apis.md §1.2 and §2):

- ``search/jql``: ``maxResults`` defaults to 50. Pages that ask for ids/keys only hold up to
  5000 issues ("returns max 5000 issues"; "the largest pages come from requesting only
  id/key"); pages with fields hold at most 100, and ``1000 // number of fields`` when more
  than 10 fields are asked for ("the server returns fewer per page when many fields are
  requested"). ``nextPageToken`` is opaque and absent on the last page, where ``isLast`` is
  true. There is no ``total``.
- DC ``search``: ``startAt``/``maxResults``/``total``; ``maxResults`` is capped silently at
  ``sandbox.dc_max_results`` (default 1000, Jira's ``jira.search.views.default.max``) and
  the response echoes the capped value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, Literal

import anyio
import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import catalog as c
from . import history as h
from .edits import EditRejected
from .faults import Refusal
from .jql import JqlError
from .rank import RankError
from .render import (
    field_schema,
    render_field,
    render_issue,
    render_issue_link,
    render_priority,
    select_fields,
)
from .site_admin import admin_routes
from .site_fields import SiteFields
from .state import Account, JiraSandbox, RequestLogEntry
from .webhooks import deliver_pending

NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
UNAUTHENTICATED = "Client must be authenticated to access this resource."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
MAX_IDS_PAGE = 5000
MAX_FIELDS_PAGE = 100
MAX_BULKFETCH = 100
_ANONYMOUS_ENDPOINTS = {"GET /serverInfo"}
_REST = re.compile(r"^/rest/api/([^/]+)(/.*)?$")
_ISSUE_PATH = re.compile(r"^/issue/(?!bulkfetch$)([^/]+)(/.*)?$")
_READ_POSTS = {
    "/search/jql",
    "/search",
    "/issue/bulkfetch",
    "/search/approximate-count",
    "/changelog/bulkfetch",
}


class ApiError(Exception):
    """An error answered as Jira answers: ``{"errorMessages": [...], "errors": {...}}``."""

    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}


def error_response(
    status: int,
    messages: list[str],
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"errorMessages": messages, "errors": errors or {}}, status_code=status, headers=headers
    )


def create_jira_app(sandbox: JiraSandbox) -> Starlette:
    """Return the ASGI app serving ``sandbox``; its state is already seeded (no lifespan needed)."""
    handlers = _Handlers(sandbox)
    routes = [
        Route("/rest/api/{version}/serverInfo", handlers.server_info, methods=["GET"]),
        Route("/rest/api/{version}/myself", handlers.myself, methods=["GET"]),
        Route("/rest/api/{version}/mypermissions", handlers.my_permissions, methods=["GET"]),
        Route("/rest/api/{version}/field", handlers.fields, methods=["GET"]),
        Route("/rest/api/{version}/priority", handlers.priorities, methods=["GET"]),
        Route("/rest/api/{version}/priority/search", handlers.search_priorities, methods=["GET"]),
        Route("/rest/api/{version}/search/jql", handlers.search_jql, methods=["GET", "POST"]),
        Route(
            "/rest/api/{version}/search/approximate-count",
            handlers.approximate_count,
            methods=["POST"],
        ),
        Route("/rest/api/{version}/search", handlers.search_dc, methods=["GET", "POST"]),
        Route("/rest/api/{version}/issue/bulkfetch", handlers.bulk_fetch, methods=["POST"]),
        Route(
            "/rest/api/{version}/changelog/bulkfetch",
            handlers.changelog_bulkfetch,
            methods=["POST"],
        ),
        Route("/rest/api/{version}/issue/{key}", handlers.get_issue, methods=["GET"]),
        Route("/rest/api/{version}/issue/{key}", handlers.edit_issue, methods=["PUT"]),
        Route("/rest/api/{version}/issue/{key}/editmeta", handlers.edit_meta, methods=["GET"]),
        Route("/rest/api/{version}/issueLink/{link_id}", handlers.issue_link, methods=["GET"]),
        *admin_routes(sandbox),
        # Jira Software's agile API, served by Cloud and Data Center alike (§4.1).
        Route("/rest/agile/1.0/issue/rank", handlers.rank_issues, methods=["PUT"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SandboxMiddleware, sandbox=sandbox)],
        exception_handlers={ApiError: _answer_api_error},
    )


async def _answer_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.messages, exc.errors)


# ── middleware: faults, auth, request log ────────────────────────────────────────────────


def classify(method: str, path: str) -> tuple[str, Literal["read", "write"], str | None]:
    """Return (endpoint template without version, read/write, issue key or None)."""
    match = _REST.match(path)
    rest = (match.group(2) or "/") if match else path
    issue_key = None
    issue = _ISSUE_PATH.match(rest)
    if issue:
        issue_key = issue.group(1).upper()
        rest = "/issue/{key}" + (issue.group(2) or "")
    write = method in ("PUT", "DELETE") or (method == "POST" and rest not in _READ_POSTS)
    return f"{method} {rest}", "write" if write else "read", issue_key


class SandboxMiddleware:
    """Applies injected faults and auth before routing, and logs every request."""

    def __init__(self, app: ASGIApp, sandbox: JiraSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        endpoint, kind, issue_key = classify(method, path)
        self.sandbox.site_url = _site_url(scope)
        status = [0]
        fault: list[str | None] = [None]
        logged = [False]

        def record() -> None:
            # Once, before the last byte leaves: a client holding the answer finds the
            # request in the log (tests and benchmarks count right after a response).
            if logged[0]:
                return
            logged[0] = True
            self.sandbox.request_log.append(
                RequestLogEntry(
                    method=method,
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status[0],
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    kind=kind,
                    endpoint=endpoint.split(" ", 1)[1],
                    fault=fault[0],
                )
            )

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        try:
            await self.dispatch(
                scope,
                receive,
                send_logged,
                endpoint=endpoint,
                kind=kind,
                issue_key=issue_key,
                fault=fault,
            )
        finally:
            record()

    async def dispatch(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        endpoint: str,
        kind: Literal["read", "write"],
        issue_key: str | None,
        fault: list[str | None],
    ) -> None:
        """Serve one request; put the injected fault's kind, if any, in ``fault[0]``."""
        injector = self.sandbox.injector
        delay_s = injector.delay_s()
        if delay_s > 0:
            await anyio.sleep(delay_s)
        method, rest = endpoint.split(" ", 1)
        refusal = injector.decide(
            method=method, endpoint=rest, issue_key=issue_key, write=kind == "write"
        )
        if refusal is not None:
            fault[0] = refusal.kind
            await self.refuse(refusal, scope, receive, send)
            return
        account = self.authenticated(scope)
        if account is None and not (endpoint in _ANONYMOUS_ENDPOINTS and not _auth_header(scope)):
            await error_response(401, [UNAUTHENTICATED])(scope, receive, send)
            return
        scope.setdefault("state", {})["account"] = account or self.sandbox.account
        await self.app(scope, receive, send)

    async def refuse(self, refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
        if refusal.kind != "drop":
            await error_response(refusal.status, [refusal.message], headers=refusal.headers)(
                scope, receive, send
            )
            return
        if "spec_version" not in scope.get("asgi", {}):
            # In-process (httpx.ASGITransport): surface what a client sees from a dropped socket.
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        # On a real server: headers, half a body, then the connection is closed.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"issues": [', "more_body": True})

    def authenticated(self, scope: Scope) -> Account | None:
        """The account the request's credentials sign in as: priosync's, the person's, or None."""
        header = _auth_header(scope)
        sandbox = self.sandbox
        for account, secret in sandbox.credentials():
            if sandbox.dc:
                if header == f"Bearer {secret}":
                    return account
            else:
                basic = base64.b64encode(f"{account.email}:{secret}".encode()).decode()
                if header == f"Basic {basic}":
                    return account
        return None


def _auth_header(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return str(value.decode("latin-1")).strip()
    return ""


def _site_url(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


# ── handlers ─────────────────────────────────────────────────────────────────────────────


Handler = Callable[[Request], Awaitable[Response]]


class _Handlers:
    def __init__(self, sandbox: JiraSandbox) -> None:
        self.sandbox = sandbox

    # helpers

    def api(self, request: Request, *, cloud_only: bool = False, dc_only: bool = False) -> str:
        """Return the REST version ("2" or "3") the request addresses; 404 when not served."""
        version = str(request.path_params["version"])
        version = "2" if version == "latest" else version
        served = {"2"} if self.sandbox.dc else {"2", "3"}
        if (
            version not in served
            or (cloud_only and self.sandbox.dc)
            or (dc_only and not self.sandbox.dc)
        ):
            raise ApiError(404, "null for uri: " + str(request.url))
        return version

    def base(self) -> str:
        return self.sandbox.site_url

    def actor(self, request: Request) -> Account:
        """Who the request signed in as (the middleware put it on the request)."""
        account = getattr(request.state, "account", None)
        return account if isinstance(account, Account) else self.sandbox.account

    async def json_body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise ApiError(400, "No content to map due to end-of-input")
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(
                400, "Unexpected character in the request body: it is not valid JSON."
            ) from None

    # site

    async def server_info(self, request: Request) -> Response:
        self.api(request)
        dc = self.sandbox.dc
        version = [9, 12, 15] if dc else [1001, 0, 0]
        return JSONResponse(
            {
                "baseUrl": self.base(),
                "displayUrl": self.base(),
                "version": "9.12.15" if dc else "1001.0.0-SNAPSHOT",
                "versionNumbers": version,
                "deploymentType": "Server" if dc else "Cloud",
                "buildNumber": 100283,
                # RFC 3339 offsets (+00:00) here: the contract types these as date-time,
                # though real sites send +0000 as in issue fields.
                "buildDate": "2025-12-01T00:00:00.000+00:00",
                "serverTime": self.sandbox.now().isoformat(timespec="milliseconds"),
                "scmInfo": "priosync-sandbox",
                "serverTitle": "Jira (sandbox)",
            }
        )

    async def myself(self, request: Request) -> Response:
        api = self.api(request)
        account = self.actor(request)
        if self.sandbox.dc:
            name = account.email.split("@")[0]
            return JSONResponse(
                {
                    "self": f"{self.base()}/rest/api/2/user?username={name}",
                    "key": "JIRAUSER10000",
                    "name": name,
                    "emailAddress": account.email,
                    "displayName": account.display_name,
                    "active": True,
                    "timeZone": "UTC",
                    "locale": "en_US",
                }
            )
        return JSONResponse(
            {
                "self": f"{self.base()}/rest/api/{api}/user?accountId={account.account_id}",
                "accountId": account.account_id,
                "accountType": "atlassian",
                "emailAddress": account.email,
                "avatarUrls": {
                    size: f"{self.base()}/avatar/{size}.png"
                    for size in ("16x16", "24x24", "32x32", "48x48")
                },
                "displayName": account.display_name,
                "active": True,
                "timeZone": "UTC",
                "locale": "en_US",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )

    async def my_permissions(self, request: Request) -> Response:
        self.api(request)
        requested = request.query_params.get("permissions")
        if not requested:
            raise ApiError(400, "The permissions query parameter was not provided.")
        actor = self.actor(request)
        admin = actor.project_admin
        known = {
            "BROWSE_PROJECTS": ("Browse Projects", "PROJECT", True),
            "EDIT_ISSUES": ("Edit Issues", "PROJECT", True),
            "ADMINISTER_PROJECTS": ("Administer Projects", "PROJECT", admin),
            "SCHEDULE_ISSUES": ("Schedule Issues", "PROJECT", self.sandbox.can_schedule),
            "ADMINISTER": ("Administer Jira", "GLOBAL", actor.jira_admin),
        }
        permissions: dict[str, dict[str, Any]] = {}
        for key in (k.strip() for k in requested.split(",") if k.strip()):
            if key not in known:
                raise ApiError(404, f"No project permissions found for key '{key}'.")
            name, kind, have = known[key]
            permissions[key] = {
                "id": str(len(permissions) + 10),
                "key": key,
                "name": name,
                "type": kind,
                "description": f"Ability to {name.lower()}.",
                "havePermission": have,
            }
        return JSONResponse({"permissions": permissions})

    async def fields(self, request: Request) -> Response:
        self.api(request)
        site = self.sandbox.fields
        return JSONResponse([render_field(f, site=site) for f in site.all()])

    async def priorities(self, request: Request) -> Response:
        api = self.api(request)
        return JSONResponse(
            [render_priority(p, base_url=self.base(), api=api, full=True) for p in c.PRIORITIES]
        )

    async def search_priorities(self, request: Request) -> Response:
        api = self.api(request, cloud_only=True)
        params = request.query_params
        start_at = _int_param(params.get("startAt"), "startAt", 0)
        max_results = _int_param(params.get("maxResults"), "maxResults", 50)
        ids = set(params.getlist("id"))
        name = params.get("priorityName", "").lower()
        only_default = params.get("onlyDefault", "false").lower() == "true"
        matching = [
            p
            for p in c.PRIORITIES
            if (not ids or p.id in ids)
            and name in p.name.lower()
            and (not only_default or p.id == c.DEFAULT_PRIORITY_ID)
        ]
        page = matching[start_at : start_at + max_results]
        body: dict[str, Any] = {
            "self": str(request.url),
            "maxResults": max_results,
            "startAt": start_at,
            "total": len(matching),
            "isLast": start_at + len(page) >= len(matching),
            "values": [render_priority(p, base_url=self.base(), api=api, full=True) for p in page],
        }
        if not body["isLast"]:
            body["nextPage"] = (
                f"{self.base()}/rest/api/{api}/priority/search"
                f"?startAt={start_at + len(page)}&maxResults={max_results}"
            )
        return JSONResponse(body)

    # search

    async def search_jql(self, request: Request) -> Response:
        api = self.api(request, cloud_only=True)
        args = await self.search_args(request)
        site = self.sandbox.fields
        fields = select_fields(args["fields"], default="id", site=site)
        try:
            matched = self.sandbox.search(args["jql"], require_bounded=True)
        except JqlError as error:
            raise ApiError(400, str(error)) from None
        offset = _decode_token(args["nextPageToken"], args["jql"])
        page_size = min(args["maxResults"], page_cap(fields))
        page = matched[offset : offset + page_size]
        expand = _split(args["expand"])
        want_key = fields is not None or "key" in ",".join(args["fields"] or [])
        body: dict[str, Any] = {
            "issues": [
                render_issue(
                    i,
                    base_url=self.base(),
                    api=api,
                    fields=fields,
                    want_key=want_key,
                    site=site,
                    find=self.sandbox.find,
                )
                for i in page
            ],
            "isLast": offset + len(page) >= len(matched),
        }
        if not body["isLast"]:
            body["nextPageToken"] = _encode_token(offset + len(page), args["jql"])
        _add_names_and_schema(body, fields, expand, site)
        return JSONResponse(body)

    async def search_args(self, request: Request) -> dict[str, Any]:
        """Read search parameters from the query string (GET) or the JSON body (POST)."""
        if request.method == "POST":
            raw = await self.json_body(request)
            if not isinstance(raw, dict):
                raise ApiError(400, "The request body must be a JSON object.")
            fields = raw.get("fields")
            expand = raw.get("expand")
            reconcile = raw.get("reconcileIssues") or []
            args: dict[str, Any] = {
                "jql": str(raw.get("jql") or ""),
                "nextPageToken": raw.get("nextPageToken"),
                "maxResults": _int_param(raw.get("maxResults"), "maxResults", 50),
                "startAt": _int_param(raw.get("startAt"), "startAt", 0),
                "fields": [fields] if isinstance(fields, str) else fields,
                "expand": ",".join(expand) if isinstance(expand, list) else expand,
            }
        else:
            params = request.query_params
            reconcile = params.getlist("reconcileIssues")
            args = {
                "jql": params.get("jql", ""),
                "nextPageToken": params.get("nextPageToken"),
                "maxResults": _int_param(params.get("maxResults"), "maxResults", 50),
                "startAt": _int_param(params.get("startAt"), "startAt", 0),
                "fields": params.getlist("fields") or None,
                "expand": params.get("expand"),
            }
        if len(reconcile) > 50:
            raise ApiError(400, "The reconcileIssues parameter accepts at most 50 issue ids.")
        if args["maxResults"] < 0 or args["startAt"] < 0:
            raise ApiError(400, "maxResults and startAt must not be negative.")
        return args

    async def search_dc(self, request: Request) -> Response:
        self.api(request)
        if not self.sandbox.dc:
            return error_response(410, [SEARCH_REMOVED])
        args = await self.search_args(request)
        site = self.sandbox.fields
        fields = select_fields(args["fields"], default="*navigable", site=site)
        try:
            matched = self.sandbox.search(args["jql"], require_bounded=False)
        except JqlError as error:
            raise ApiError(400, str(error)) from None
        max_results = min(args["maxResults"], self.sandbox.dc_max_results)
        start_at = args["startAt"]
        page = matched[start_at : start_at + max_results]
        body: dict[str, Any] = {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(matched),
            "issues": [
                render_issue(
                    i,
                    base_url=self.base(),
                    api="2",
                    fields=fields,
                    site=site,
                    find=self.sandbox.find,
                )
                for i in page
            ],
        }
        if "changelog" in _split(args["expand"]):
            for rendered in body["issues"]:
                rendered["changelog"] = self.changelog(str(rendered["key"]))
        _add_names_and_schema(body, fields, _split(args["expand"]), site)
        return JSONResponse(body)

    async def approximate_count(self, request: Request) -> Response:
        self.api(request, cloud_only=True)
        raw = await self.json_body(request)
        jql = str(raw.get("jql") or "") if isinstance(raw, dict) else ""
        try:
            return JSONResponse({"count": len(self.sandbox.search(jql, require_bounded=True))})
        except JqlError as error:
            raise ApiError(400, str(error)) from None

    async def bulk_fetch(self, request: Request) -> Response:
        api = self.api(request, cloud_only=True)
        raw = await self.json_body(request)
        wanted = raw.get("issueIdsOrKeys") if isinstance(raw, dict) else None
        if not isinstance(wanted, list) or not wanted:
            raise ApiError(400, "issueIdsOrKeys must be a non-empty list.", errors={})
        if len(wanted) > MAX_BULKFETCH:
            raise ApiError(
                400, f"The number of issues requested exceeds the maximum of {MAX_BULKFETCH}."
            )
        raw_fields = raw.get("fields")
        site = self.sandbox.fields
        fields = select_fields(
            raw_fields if isinstance(raw_fields, list) else None, default="*navigable", site=site
        )
        found, errors = {}, []
        for ref in (str(w) for w in wanted):
            issue = self.sandbox.find(ref)
            if issue is None:
                errors.append({"id": ref, "errorMessage": NOT_FOUND_ISSUE})
            else:
                found[issue.id] = issue
        expand = raw.get("expand") if isinstance(raw.get("expand"), list) else []
        issues = [
            render_issue(
                found[i],
                base_url=self.base(),
                api=api,
                fields=fields,
                expand=expand,
                site=site,
                find=self.sandbox.find,
            )
            for i in sorted(found)
        ]
        return JSONResponse({"issues": issues, "issueErrors": errors})

    # issues

    async def get_issue(self, request: Request) -> Response:
        api = self.api(request)
        issue = self.sandbox.find(request.path_params["key"])
        if issue is None:
            raise ApiError(404, NOT_FOUND_ISSUE)
        site = self.sandbox.fields
        fields = select_fields(
            request.query_params.getlist("fields") or None, default="*all", site=site
        )
        expand = _split(request.query_params.get("expand"))
        rendered = render_issue(
            issue,
            base_url=self.base(),
            api=api,
            fields=fields or (),
            expand=expand,
            site=site,
            find=self.sandbox.find,
        )
        if "changelog" in expand:
            rendered["changelog"] = self.changelog(issue.key)
        return JSONResponse(rendered)

    # history

    def changelog(self, key: str) -> dict[str, Any]:
        """An issue's ``changelog`` expansion (every history, oldest first)."""
        return h.render_issue_changelog([h for _, h in self.histories(key)])

    def histories(
        self, key: str, *, field_ids: Collection[str] | None = None
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """An issue's rendered histories with their times, oldest first."""
        stored = self.sandbox.find(key)
        if stored is None:
            return []
        rendered = []
        for record in self.sandbox.histories(stored.key):
            author = h.render_author(
                self.sandbox.account_for(record.actor_account_id),
                base_url=self.base(),
                dc=self.sandbox.dc,
            )
            history = h.History(record.history_id, stored.id, record)
            found = h.render_history(
                history, author=author, dc=self.sandbox.dc, field_ids=field_ids
            )
            if found is not None:
                rendered.append((record.at, found))
        return rendered

    async def changelog_bulkfetch(self, request: Request) -> Response:
        """``POST /rest/api/3/changelog/bulkfetch`` (``BulkChangelogRequestBean``)."""
        self.api(request, cloud_only=True)
        raw = await self.json_body(request)
        if not isinstance(raw, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        unknown = sorted(set(raw) - {"issueIdsOrKeys", "fieldIds", "maxResults", "nextPageToken"})
        if unknown:
            raise ApiError(400, f'Unrecognized field "{unknown[0]}".')
        wanted = raw.get("issueIdsOrKeys")
        if not isinstance(wanted, list) or not wanted or len(wanted) > h.MAX_ISSUES:
            raise ApiError(400, f"issueIdsOrKeys must list 1 to {h.MAX_ISSUES} issue ids or keys.")
        field_ids = raw.get("fieldIds")
        if field_ids is not None and (
            not isinstance(field_ids, list)
            or len(field_ids) > h.MAX_FIELD_IDS
            or len(set(map(str, field_ids))) != len(field_ids)
        ):
            raise ApiError(400, f"fieldIds must list at most {h.MAX_FIELD_IDS} unique ids.")
        limit = _int_param(raw.get("maxResults"), "maxResults", h.DEFAULT_RESULTS)
        if not 1 <= limit <= h.MAX_RESULTS:
            raise ApiError(400, f"maxResults must be between 1 and {h.MAX_RESULTS}.")
        token_key = json.dumps([wanted, field_ids], sort_keys=True)
        offset = _decode_token(raw.get("nextPageToken"), token_key)
        chosen = set(map(str, field_ids)) if field_ids else None
        issues = {i.id: i for i in (self.sandbox.find(str(w)) for w in wanted) if i is not None}
        entries = sorted(
            (
                (at, issue_id, h)
                for issue_id, issue in issues.items()
                for at, h in self.histories(issue.key, field_ids=chosen)
            ),
            key=lambda e: (e[0], e[1]),
        )
        logs, following = h.page_bulk_changelog(
            [(issue_id, h) for _, issue_id, h in entries], offset=offset, limit=limit
        )
        body: dict[str, Any] = {"issueChangeLogs": logs}
        if following is not None:
            body["nextPageToken"] = _encode_token(following, token_key)
        return JSONResponse(body)

    async def edit_issue(self, request: Request) -> Response:
        api = self.api(request)
        params = request.query_params
        key = request.path_params["key"]
        if self.sandbox.find(key) is None:
            raise ApiError(404, NOT_FOUND_ISSUE)
        if "true" in (
            params.get("overrideScreenSecurity", "").lower(),
            params.get("overrideEditableFlag", "").lower(),
        ):
            raise ApiError(
                403,
                "Connect and Forge app users with Administer Jira global permission can "
                "override screen security.",
            )
        body = await self.json_body(request)
        try:
            self.sandbox.edit(
                key,
                body,
                api=api,
                notify=params.get("notifyUsers", "true").lower() != "false",
                actor=self.actor(request),
            )
        except EditRejected as rejected:
            return JSONResponse(rejected.body, status_code=rejected.status)
        task = (
            BackgroundTask(deliver_pending, self.sandbox) if self.sandbox.pending_events else None
        )
        if params.get("returnIssue", "false").lower() == "true":
            issue = self.sandbox.find(key)
            assert issue is not None
            site = self.sandbox.fields
            rendered = render_issue(
                issue,
                base_url=self.base(),
                api=api,
                fields=select_fields(None, default="*all", site=site),
                site=site,
                find=self.sandbox.find,
            )
            return JSONResponse(rendered, background=task)
        return Response(status_code=204, background=task)

    async def issue_link(self, request: Request) -> Response:
        """``GET /issueLink/{id}``: both ends, the blocker as ``inwardIssue`` (the side whose
        own view shows the other issue as ``outwardIssue``, "blocks")."""
        api = self.api(request)
        link_id = str(request.path_params["link_id"])
        for issue in self.sandbox.stored_issues():
            for end in issue.links:
                if str(end.id) == link_id and end.outward:
                    other = self.sandbox.find(end.other)
                    assert other is not None
                    return JSONResponse(
                        render_issue_link(end, issue, other, base_url=self.base(), api=api)
                    )
        raise ApiError(404, "No issue link with id '" + link_id + "' exists.")

    async def rank_issues(self, request: Request) -> Response:
        body = await self.json_body(request)
        try:
            answer = self.sandbox.rank(body)
        except RankError as exc:
            raise ApiError(400, str(exc)) from None
        except EditRejected as rejected:
            return JSONResponse(rejected.body, status_code=rejected.status)
        task = (
            BackgroundTask(deliver_pending, self.sandbox) if self.sandbox.pending_events else None
        )
        if answer is None:
            return Response(status_code=204, background=task)
        return JSONResponse(answer, status_code=207, background=task)

    async def edit_meta(self, request: Request) -> Response:
        api = self.api(request)
        if self.sandbox.find(request.path_params["key"]) is None:
            raise ApiError(404, NOT_FOUND_ISSUE)
        meta = {}
        site = self.sandbox.fields
        for f in site.all():
            if not f.editable or not site.on_screen(f.id):
                continue  # editmeta lists the fields of the issue's edit screen only
            entry: dict[str, Any] = {
                "required": f.id == "summary",
                "schema": field_schema(f),
                "name": f.name,
                "key": f.id,
                "operations": ["add", "set", "remove"]
                if f.kind in ("labels", "multiselect")
                else ["set"],
            }
            if f.options:
                entry["allowedValues"] = [
                    {
                        "self": f"{self.base()}/rest/api/{api}/customFieldOption/{o.id}",
                        "value": o.value,
                        "id": o.id,
                    }
                    for o in f.options
                ]
            if f.kind == "priority":
                entry["allowedValues"] = [
                    render_priority(p, base_url=self.base(), api=api) for p in c.PRIORITIES
                ]
            meta[f.id] = entry
        return JSONResponse({"fields": meta})


def page_cap(fields: tuple[str, ...] | None) -> int:
    """Return the most issues one search/jql page holds for this field selection."""
    if fields is None:
        return MAX_IDS_PAGE
    return max(1, min(MAX_FIELDS_PAGE, 1000 // max(len(fields), 1)))


def _add_names_and_schema(
    body: dict[str, Any], fields: tuple[str, ...] | None, expand: list[str], site: SiteFields
) -> None:
    if "names" in expand:
        body["names"] = {f: site[f].name for f in fields or ()}
    if "schema" in expand:
        body["schema"] = {f: field_schema(site[f]) for f in fields or ()}


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int_param(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(
            400, f"The value '{value}' for parameter '{name}' is not a valid integer."
        ) from None


def _encode_token(offset: int, jql: str) -> str:
    raw = json.dumps({"o": offset, "q": zlib.crc32(jql.encode())}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str | None, jql: str) -> int:
    """Return the offset a nextPageToken stands for; 400 when it is not one of ours for this JQL."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != zlib.crc32(jql.encode()):
            raise ValueError("token is for another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "The provided next page token is invalid or expired.") from None
