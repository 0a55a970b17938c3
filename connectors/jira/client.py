"""Thin async glue: send ``protocol`` requests through ``TrackerHttp``, parse the answers.

Paging strategies live here because they interleave requests; everything they decide on
(next token, remaining offsets, chunking) is computed by ``protocol``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.fields import TrackerField
from connectors.http import TrackerHttp, gather_all
from connectors.jira import history as h
from connectors.jira import protocol as p
from connectors.jira.fields import field_from_json
from priosync.errors import NotFound, NotTheTracker, QueryRejected, TrackerError


class JiraClient:
    """One Jira site (or gateway) over an injected ``TrackerHttp``."""

    def __init__(self, http: TrackerHttp, *, deployment: p.Deployment = "cloud") -> None:
        self.http = http
        self.deployment = deployment

    async def call(self, request: p.ApiRequest, *, issue: str | None = None) -> Any:
        """Send one request; the decoded JSON body (None for 204)."""
        return await self.http.request_json(
            request.method,
            request.path,
            kind=request.kind,
            params=request.params or None,
            json=request.json,
            issue=issue,
        )

    async def server_info(self) -> p.ServerInfo:
        return p.parse_server_info(await self.site_call(p.build_server_info_request()))

    async def search_call(self, request: p.ApiRequest) -> Any:
        """A search: Jira's 400 here means it refused the JQL (a syntax error, an unknown
        project or field), which the config must fix (docs/tracker-apis.md §1.2)."""
        try:
            return await self.call(request)
        except TrackerError as exc:
            if exc.status == 400 and type(exc) is TrackerError:
                raise QueryRejected(
                    f"Jira refused the JQL: {exc}", tracker=p.TRACKER, status=400
                ) from None
            raise

    async def site_call(self, request: p.ApiRequest) -> Any:
        """A call every Jira answers (serverInfo, field, myself): a 404 means the URL is not
        a Jira site (or not its REST API), which is the config's fault, not an outage."""
        try:
            return await self.call(request)
        except NotFound as exc:
            raise NotTheTracker(
                f"{p.TRACKER}: {request.path} is not found there, so this is not a Jira site's "
                "REST API; check the source's url (the site, e.g. https://acme.atlassian.net)",
                tracker=p.TRACKER,
                status=exc.status,
            ) from None

    async def fields(self) -> list[TrackerField]:
        body = await self.site_call(p.build_fields_request(self.deployment))
        return [field_from_json(f) for f in p.parse_fields(body)]

    async def search_cloud(
        self, jql: str, *, fields: Sequence[str], page_size: int
    ) -> list[p.JsonObject]:
        """Every issue of an enhanced search, following ``nextPageToken`` (sequential)."""
        issues: list[p.JsonObject] = []
        token: str | None = None
        while True:
            request = p.build_cloud_search_request(
                jql, fields=fields, max_results=page_size, next_page_token=token
            )
            page = p.parse_cloud_search_page(await self.search_call(request))
            issues.extend(page.issues)
            token = page.next_page_token
            if token is None:
                return issues

    async def search_dc(self, jql: str, *, fields: Sequence[str]) -> list[p.JsonObject]:
        """Every issue of a Data Center search: the first page, then the rest in parallel."""
        first = await self._dc_page(jql, fields=fields, start_at=0)
        offsets = p.dc_remaining_offsets(first)
        pages = await gather_all(self._dc_page(jql, fields=fields, start_at=o) for o in offsets)
        return first.issues + [issue for page in pages for issue in page.issues]

    async def bulkfetch(self, ids: Sequence[str], *, fields: Sequence[str]) -> list[p.JsonObject]:
        """The issues with these ids or keys, 100 a request, all requests in parallel."""
        chunks = p.chunk(ids, p.BULKFETCH_MAX)
        pages = await gather_all(
            self.call(p.build_bulkfetch_request(c, fields=fields)) for c in chunks
        )
        return [issue for page in pages for issue in p.parse_bulkfetch(page)]

    async def changelogs_cloud(
        self, ids: Sequence[str], *, wanted: h.InputFields, field_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """Issue id → latest change to the fields, by changelog bulk fetch (Cloud): 1,000
        issues and 10 fields a request, chunks in parallel, each paged by token in turn."""
        field_chunks = p.chunk(list(dict.fromkeys(field_ids)), h.CHANGELOG_FIELDS_MAX)
        chunks = [
            (ids_part, fields_part)
            for ids_part in p.chunk(ids, h.CHANGELOG_ISSUES_MAX)
            for fields_part in field_chunks
        ]
        found = await gather_all(self._changelog_chunk(i, f, wanted) for i, f in chunks)
        latest: dict[str, datetime] = {}
        for part in found:
            for issue, at in part.items():
                h.keep_later(latest, issue, at)
        return latest

    async def _changelog_chunk(
        self, ids: Sequence[str], field_ids: Sequence[str], wanted: h.InputFields
    ) -> dict[str, datetime]:
        latest: dict[str, datetime] = {}
        token: str | None = None
        while True:
            request = h.build_changelog_bulkfetch_request(
                ids, field_ids=field_ids, next_page_token=token
            )
            try:
                page = h.parse_changelog_bulkfetch(await self.call(request), wanted)
            except ValueError:
                raise p.malformed("changelog bulk fetch") from None
            for issue, at in page.latest.items():
                h.keep_later(latest, issue, at)
            token = page.next_page_token
            if token is None:
                return latest

    async def changelogs_dc(
        self, keys: Sequence[str], *, wanted: h.InputFields
    ) -> dict[str, datetime | None]:
        """Key → latest change to the fields (None: none in its history), by searches with
        the changelog expanded (Data Center); a history cut short is read again alone."""
        pages = await gather_all(
            self._dc_history(c, wanted) for c in p.chunk(keys, h.DC_HISTORY_KEYS)
        )
        histories = [found for page in pages for found in page]
        partial = [found.key for found in histories if not found.complete]
        whole = await gather_all(self._dc_issue_history(k, wanted) for k in partial)
        latest = {found.key: found.latest for found in histories}
        latest.update({found.key: found.latest for found in whole if found is not None})
        return latest

    async def _dc_history(self, keys: Sequence[str], wanted: h.InputFields) -> list[h.IssueHistory]:
        found: list[h.IssueHistory] = []
        start = 0
        while True:
            page = p.parse_dc_search_page(
                await self.call(h.build_dc_history_request(keys, start_at=start))
            )
            found.extend(h.parse_issue_history(issue, wanted) for issue in page.issues)
            start = page.start_at + max(len(page.issues), 1)
            if not page.issues or start >= page.total:
                return found

    async def _dc_issue_history(self, key: str, wanted: h.InputFields) -> h.IssueHistory | None:
        try:
            body = await self.call(h.build_dc_issue_history_request(key))
        except NotFound:
            return None
        return h.parse_issue_history(body, wanted) if isinstance(body, dict) else None

    async def get_issues(self, keys: Sequence[str], *, fields: Sequence[str]) -> list[p.JsonObject]:
        """Issues by key, one GET each in parallel (Data Center); missing keys are left out."""
        found = await gather_all(self._get_issue(k, fields=fields) for k in keys)
        return [issue for issue in found if issue is not None]

    async def _get_issue(self, key: str, *, fields: Sequence[str]) -> p.JsonObject | None:
        try:
            body = await self.call(p.build_get_issue_request(self.deployment, key, fields=fields))
        except NotFound:
            return None
        return body if isinstance(body, dict) else None

    async def edit(self, issue: str, payload: p.JsonObject, *, notify: bool) -> None:
        """``PUT /issue/{issue}``; paced per issue so a per-issue limit slows only it."""
        request = p.build_edit_request(self.deployment, issue, payload, notify=notify)
        await self.call(request, issue=issue)

    async def myself(self) -> str:
        return p.parse_myself(await self.site_call(p.build_myself_request(self.deployment)))

    async def my_permissions(self, project_key: str, permissions: Sequence[str]) -> dict[str, bool]:
        request = p.build_mypermissions_request(
            self.deployment, project_key=project_key, permissions=permissions
        )
        return p.parse_mypermissions(await self.call(request))

    async def edit_options(self, issue: str) -> dict[str, tuple[str, ...]]:
        body = await self.call(p.build_editmeta_request(self.deployment, issue))
        return p.parse_editmeta_options(body)

    async def priorities(self) -> list[str]:
        return p.parse_priorities(await self.call(p.build_priorities_request(self.deployment)))

    async def _dc_page(self, jql: str, *, fields: Sequence[str], start_at: int) -> p.DcPage:
        request = p.build_dc_search_request(
            jql, fields=fields, start_at=start_at, max_results=p.DC_PAGE_MAX
        )
        return p.parse_dc_search_page(await self.search_call(request))
