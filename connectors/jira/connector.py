"""``JiraConnector``: one Jira source (design §5) as the sync engine's ``Connector``.

Reading (design §7): on Cloud the default (``read_strategy="bulkfetch"``) asks the enhanced
search for ids only (its largest pages, up to 5000 a request) and then bulk-fetches the
needed fields 100 issues a request, all in parallel. Even a small backlog is read this way,
because bulk fetch reads the issues themselves, not the eventually consistent search index,
so a re-sync right after a sync never sees the values it just replaced (docs/tracker-apis.md
§1.2). Against the sandbox that costs one request more than ``read_strategy="search"`` up to
99 issues (2 against 1) and one fewer from 1,000 (11 against 12), with the bulk fetches in
parallel where search pages follow each other. ``"search"`` pages the enhanced search with
fields sequentially (kept for comparison: ``bench/jira_read.py``). Data Center pages
``/rest/api/2/search`` by ``startAt``, the pages after the first in parallel. With
``[outputs] reorder`` the JQL is read ``ORDER BY Rank ASC`` and moves are rank calls
(``rank``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, TypeAlias, get_args

import httpx

from config.models import JiraSource, OutputsConfig
from config.secrets import BasicCredentials, BearerCredentials
from connectors.fields import FieldMap, TrackerField, output_refs, resolve_field_map
from connectors.http import (
    BearerAuth,
    PacingDefaults,
    RetryPolicy,
    TrackerHttp,
    gather_all,
    open_http,
)
from connectors.incremental import SinceRead
from connectors.jira import protocol as p
from connectors.jira.checks import check_source
from connectors.jira.client import JiraClient
from connectors.jira.fields import RULES, WHERE, read_field_ids, with_options
from connectors.jira.history import InputFields
from connectors.jira.links import LINK_FIELDS
from connectors.jira.mapping import edit_payload, work_item_from_issue
from connectors.jira.rank import RankWriter, order_by_rank, without_rank
from priosync.domain import (
    Change,
    CheckResult,
    FieldInfo,
    Link,
    Move,
    MoveResult,
    WorkItem,
    WriteResult,
)
from priosync.errors import AuthFailed, TrackerError
from scoring import METRIC_INPUT

#: How a Cloud read gets the issues' fields (module docstring). There is no "auto": it was
#: another name for "bulkfetch", the only choice that never reads stale values.
ReadStrategy: TypeAlias = Literal["bulkfetch", "search"]

GATEWAY = "https://api.atlassian.com/ex/jira"
#: Default pacing: half of Jira Cloud's documented burst refill (GET/POST 100/s, PUT 50/s,
#: docs/tracker-apis.md §1.8), leaving room for the site's other clients; Jira's burst
#: buffer is larger than its refill rate, so a concurrency's worth goes out unpaced.
PACING = PacingDefaults(
    concurrency=8, reads_per_s=50.0, writes_per_s=25.0, burst_of_concurrency=True
)
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Site:
    """What discovery learned: the API flavour, the browse URL, the resolved fields."""

    deployment: p.Deployment
    site_url: str
    fields: FieldMap


class JiraConnector:
    """Reads a JQL backlog into ``WorkItem``s and applies ``Change``s with one PUT each."""

    writable = True

    def __init__(
        self,
        *,
        source: JiraSource,
        http: TrackerHttp,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        scales: Mapping[str, Mapping[str, float]] | None = None,
        priority_names: Sequence[str] = (),
        read_strategy: ReadStrategy = "bulkfetch",
        dependencies: bool = False,
        history: bool = False,
    ) -> None:
        self.name = source.name
        #: ``[scoring.freshness]``: read ``created`` and offer ``inputs_changed``.
        self.history = history
        self.source = source
        self.http = http
        self.client = JiraClient(http, deployment="dc" if source.deployment == "dc" else "cloud")
        self.inputs = dict(inputs)
        self.outputs = outputs
        self.scales = {k: dict(v) for k, v in (scales or {}).items()}
        self.priority_names = tuple(priority_names)
        if read_strategy not in get_args(ReadStrategy):
            raise ValueError(
                f"read_strategy {read_strategy!r}: use 'bulkfetch' (the default; 'auto' was "
                "another name for it) or 'search'"
            )
        self.read_strategy: ReadStrategy = read_strategy
        #: Read blocking links (``[scoring] dependencies = "lift"``) in the same requests.
        self.dependencies = dependencies
        self._site: Site | None = None
        self._where: tuple[p.Deployment, str] | None = None
        self._all_fields: list[TrackerField] | None = None
        self._discovering = asyncio.Lock()
        self.ranks = RankWriter(self.client)
        #: An edit has landed: the site takes this client's edits, so the first edit of a
        #: later chunk need not go alone (``apply``).
        self._edits_land = False

    @classmethod
    def from_config(
        cls,
        source: JiraSource,
        *,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        credentials: BasicCredentials | BearerCredentials,
        transport: httpx.AsyncBaseTransport | None = None,
        scales: Mapping[str, Mapping[str, float]] | None = None,
        priority_names: Sequence[str] = (),
        retry: RetryPolicy | None = None,
        read_strategy: ReadStrategy = "bulkfetch",
        dependencies: bool = False,
        history: bool = False,
    ) -> JiraConnector:
        """Build a connector for one configured source; no request is sent until used.

        ``scales`` and ``priority_names`` only feed ``check()``; ``retry`` sets attempts,
        backoff and the ``sleep`` that retries and pacing use (tests inject a fast one).
        """
        token = credentials.token.get_secret_value()
        auth: httpx.Auth = (
            httpx.BasicAuth(credentials.email, token)
            if isinstance(credentials, BasicCredentials)
            else BearerAuth(token)
        )
        http = open_http(
            tracker=p.TRACKER,
            base_url=api_base_url(source),
            auth=auth,
            pacing=source.pacing,
            defaults=PACING,
            timeout_s=TIMEOUT_S,
            retry=retry or RetryPolicy(),
            describe=p.describe_error,
            secrets=[token],
            transport=transport,
        )
        return cls(
            source=source,
            http=http,
            inputs=inputs,
            outputs=outputs,
            scales=scales,
            priority_names=priority_names,
            read_strategy=read_strategy,
            dependencies=dependencies,
            history=history,
        )

    # ── Connector protocol ────────────────────────────────────────────────────────────

    async def read(self) -> list[WorkItem]:
        """The whole backlog of the JQL, or a ``TrackerError``: never a partial list.

        With ``[outputs] reorder`` in Jira's own order, top first (``ORDER BY Rank ASC``)."""
        if self.outputs.reorder:
            return await self.read_order()
        site = await self.discover()
        return await self._read_work_items(self.source.jql, site)

    async def read_order(self) -> list[WorkItem]:
        """The whole backlog in Jira's Rank order, the source's own ``ORDER BY`` replaced."""
        site = await self.discover()
        try:
            return await self._read_work_items(order_by_rank(self.source.jql), site)
        except TrackerError as exc:
            raise without_rank(exc) from None

    async def apply_moves(self, moves: Sequence[Move]) -> AsyncIterator[MoveResult]:
        """Rank calls of up to 50 chained moves each, one at a time (``rank``)."""
        await self.deployment_info()
        async for result in self.ranks.apply(moves):
            yield result

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """Re-read named issues that the source's JQL still holds; others are left out.

        Issues are fetched by key first (Cloud: bulk fetch, which skips unknown keys and
        reads past the search index; DC: one GET each), because Jira answers 400 to a JQL
        ``key in (…)`` naming a key that does not exist. Then one ids-only search narrowed
        to the found keys says which of them the source's JQL still holds.
        """
        site = await self.discover()
        wanted = self._read_fields(site)
        unique = list(dict.fromkeys(keys))
        if site.deployment == "dc":
            fetched = await self.client.get_issues(unique, fields=wanted)
        else:
            fetched = await self.client.bulkfetch(unique, fields=wanted)
        members: set[str] = set()
        for part in p.chunk([str(i["key"]) for i in fetched], p.KEYS_PER_JQL):
            members.update(await self._ids_in_order(p.restrict_jql(self.source.jql, part), site))
        return self._to_items([i for i in fetched if str(i.get("id")) in members], site)

    async def read_signature(self) -> str:
        """Deployment, site and the resolved field ids: an incremental read trusts a
        snapshot only when these are what it was read with."""
        site = await self.discover()
        roles = {
            role: (f.id, f.kind, f.type_name)
            for role, f in [*site.fields.inputs.items(), *site.fields.outputs().items()]
        }
        return json.dumps(
            [site.deployment, site.site_url, roles, self._read_fields(site)], sort_keys=True
        )

    async def read_since(self, known: dict[str, WorkItem], minutes: int) -> SinceRead:
        """The backlog from an ids-only search of the JQL, the issues updated in the last
        ``minutes`` (or not in ``known``) read in full, every other issue as ``known`` has it.

        Cloud bulk-fetches the issues to read, as ``read`` does; Data Center reads the
        updated ones with a search carrying fields and any other new id with one GET each.
        """
        site = await self.discover()
        wanted = self._read_fields(site)
        since_jql = p.updated_since_jql(self.source.jql, minutes)
        # The ids come in the order a full read returns items: Jira's Rank with ``reorder``.
        order_jql = order_by_rank(self.source.jql) if self.outputs.reorder else self.source.jql
        try:
            ids = list(dict.fromkeys(await self._ids_in_order(order_jql, site)))
        except TrackerError as exc:
            raise without_rank(exc) if self.outputs.reorder else exc from None
        # Issues read in full become items as their page arrives (by Jira id): after a sync
        # that wrote most of the backlog, most of it is read again here.
        if site.deployment == "dc":
            mapped = self._by_id(await self.client.search_dc(since_jql, fields=wanted), site)
            for i in mapped:
                known.pop(i, None)
            joined = [i for i in ids if i not in mapped and i not in known]
            if joined:
                mapped.update(await self._fetch_by_id(joined, wanted, site))
        else:
            recent_ids = set(await self._ids_in_order(since_jql, site))
            need = [i for i in ids if i in recent_ids or i not in known]
            # After a sync that wrote most of the backlog most of it is read again: let the
            # stored copies go first (one deleted in between is then left out, as a full
            # read leaves it out).
            for i in need:
                known.pop(i, None)
            mapped = await self._fetch_by_id(need, wanted, site)
        if self.dependencies:
            mapped.update(await self._linked_elsewhere(ids, mapped, known, site, wanted))
        # An id read in full that is no longer in the list (it left between the searches) is
        # left out, as a full read would; one the fetch missed (deleted in between) too.
        mapped = {i: mapped[i] for i in ids if i in mapped}
        items = [mapped.get(i) or known[i] for i in ids if i in mapped or i in known]
        if self.dependencies:
            items = relinked(items, fresh=mapped)
        unique = list({item.key: item for item in items}.values())
        return SinceRead(items=unique, fetched=frozenset(mapped))

    def _by_id(self, issues: Sequence[p.JsonObject], site: Site) -> dict[str, WorkItem]:
        return {str(item.handle): item for item in self._to_items(issues, site)}

    async def _fetch_by_id(
        self, ids: Sequence[str], wanted: Sequence[str], site: Site
    ) -> dict[str, WorkItem]:
        """Issues by Jira id: Cloud's bulk fetch, each page mapped as it arrives (its raw
        JSON goes with it: at 50,000 issues that JSON was the read's peak, 200 MB); Data
        Center, which has no bulk fetch, one GET each."""
        if site.deployment == "dc":
            return self._by_id(await self.client.get_issues(ids, fields=wanted), site)
        pages = await gather_all(
            self._fetch_items(chunk, wanted, site) for chunk in p.chunk(ids, p.BULKFETCH_MAX)
        )
        return {str(item.handle): item for page in pages for item in page}

    async def _linked_elsewhere(
        self,
        ids: Sequence[str],
        fresh: Mapping[str, WorkItem],
        known: Mapping[str, WorkItem],
        site: Site,
        wanted: Sequence[str],
    ) -> dict[str, WorkItem]:
        """Kept issues linked to an issue outside the backlog, read in full: that issue's
        status (closed, say) changes its ``updated``, not theirs (and a moved or deleted
        issue's old key is outside too)."""
        keys = {i.key for i in fresh.values()}
        keys |= {known[i].key for i in ids if i not in fresh and i in known}
        stale = [
            i
            for i in ids
            if i not in fresh
            and i in known
            and any(link.key not in keys for link in (*known[i].blocks, *known[i].blocked_by))
        ]
        return await self._fetch_by_id(stale, wanted, site) if stale else {}

    async def _ids_in_order(self, jql: str, site: Site) -> list[str]:
        if site.deployment == "dc":
            found = await self.client.search_dc(jql, fields=["id"])
        else:
            found = await self.client.search_cloud(jql, fields=["id"], page_size=p.IDS_PAGE_MAX)
        return [str(i["id"]) for i in found]

    async def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """One PUT per change, paced and concurrent after the first; results as they settle.

        A refused change (400, 404, retries exhausted) yields an error and the rest go on;
        ``AuthFailed`` (bad credentials, the notifyUsers refusal) stops everything. Until one
        edit has landed the first goes alone, so a refusal every edit would meet costs one
        request, not a burst; after that every chunk is sent concurrently from the start.
        """
        site = await self.discover()
        edits: list[tuple[Change, p.JsonObject]] = []
        for change in changes:
            payload = edit_payload(change, fields=site.fields, deployment=site.deployment)
            if "fields" in payload or "update" in payload:
                edits.append((change, payload))
            else:
                yield WriteResult(change)
        if not edits:
            return
        if not self._edits_land:
            yield await self._write(*edits[0])
            edits = edits[1:]
        tasks = [asyncio.create_task(self._write(c, payload)) for c, payload in edits]
        try:
            for settled in asyncio.as_completed(tasks):
                yield await settled
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def inputs_changed(self, items: Sequence[WorkItem]) -> dict[str, datetime]:
        """When each issue's input fields last changed, from the changelog (``history``):
        the bulk fetch on Cloud, searches with the changelog expanded on Data Center.

        An issue without such a change last changed its inputs at creation; one Jira no
        longer returns (deleted meanwhile) is left out.
        """
        site = await self.discover()
        inputs = [f for name, f in site.fields.inputs.items() if name != METRIC_INPUT]
        if not items or not inputs:
            return {}
        wanted = InputFields.of([(f.id, f.name) for f in inputs])
        latest: dict[str, datetime | None]
        if site.deployment == "dc":
            latest = dict(await self.client.changelogs_dc([i.key for i in items], wanted=wanted))
        else:
            by_id = await self.client.changelogs_cloud(
                [str(i.handle or i.key) for i in items],
                wanted=wanted,
                field_ids=[f.id for f in inputs],
            )
            latest = {i.key: by_id.get(str(i.handle or i.key)) for i in items}
        dated: dict[str, datetime] = {}
        for item in items:
            if item.key not in latest:
                continue
            at = latest[item.key] or item.created_at
            if at is not None:
                dated[item.key] = at
        return dated

    async def fields(self) -> list[FieldInfo]:
        """Every Jira field with its type, and the options Jira offers for select fields."""
        listed = with_options(await self._load_fields(), await self._sample_edit_options())
        return [f.info() for f in listed]

    async def check(self) -> list[CheckResult]:
        """Credentials, field mapping and options, priority names, edit and admin permission."""
        return await check_source(self)

    async def owned_field_ids(self) -> frozenset[str]:
        site = await self.discover()
        return frozenset(f.id for f in site.fields.outputs().values())

    async def aclose(self) -> None:
        await self.http.aclose()

    # ── discovery ─────────────────────────────────────────────────────────────────────

    async def discover(self) -> Site:
        """Deployment, site URL and field map, learned once (serverInfo only when needed)."""
        async with self._discovering:
            if self._site is None:
                deployment, site_url = await self.deployment_info()
                field_map = resolve_field_map(
                    inputs=self.inputs,
                    outputs=output_refs(self.outputs),
                    fields=await self._load_fields(),
                    rules=RULES,
                    where=WHERE,
                )
                self._site = Site(deployment=deployment, site_url=site_url, fields=field_map)
            return self._site

    async def deployment_info(self) -> tuple[p.Deployment, str]:
        """Cloud or Data Center, and the site URL, learned once without resolving fields."""
        if self._where is None:
            self._where = await self._deployment_and_site()
            self.client.deployment = self._where[0]
        return self._where

    async def _deployment_and_site(self) -> tuple[p.Deployment, str]:
        if self.source.deployment != "auto" and self.source.url:
            return self.source.deployment, self.source.url
        info = await self.client.server_info()
        deployment = "cloud" if self.source.cloud_id else info.deployment
        if self.source.deployment != "auto":
            deployment = self.source.deployment
        return deployment, self.source.url or info.base_url

    async def _load_fields(self) -> list[TrackerField]:
        if self._all_fields is None:
            await self.deployment_info()
            self._all_fields = await self.client.fields()
        return self._all_fields

    async def sample_keys(self, limit: int = 50, *, jql: str | None = None) -> list[str]:
        """Keys of the first issues the JQL finds (for editmeta and permission checks)."""
        deployment, _ = await self.deployment_info()
        jql = self.source.jql if jql is None else jql
        if deployment == "dc":
            request = p.build_dc_search_request(jql, fields=["key"], start_at=0, max_results=limit)
            issues = p.parse_dc_search_page(await self.client.search_call(request)).issues
        else:
            request = p.build_cloud_search_request(jql, fields=["key"], max_results=limit)
            issues = p.parse_cloud_search_page(await self.client.search_call(request)).issues
        return [str(i["key"]) for i in issues if i.get("key")]

    async def _sample_edit_options(self) -> dict[str, tuple[str, ...]]:
        keys = await self.sample_keys(limit=1)
        return await self.client.edit_options(keys[0]) if keys else {}

    # ── reading and writing ───────────────────────────────────────────────────────────

    async def _read_work_items(self, jql: str, site: Site) -> list[WorkItem]:
        wanted = self._read_fields(site)
        if site.deployment == "dc":
            items = self._to_items(await self.client.search_dc(jql, fields=wanted), site)
        elif self.read_strategy == "search":
            issues = await self.client.search_cloud(jql, fields=wanted, page_size=p.FIELDS_PAGE_MAX)
            items = self._to_items(issues, site)
        else:
            ids = list(dict.fromkeys(await self._ids_in_order(jql, site)))
            fetched = await self._fetch_by_id(ids, wanted, site)
            # Bulk fetch answers in id order; keep the search's order. An issue deleted in
            # between is simply absent, as it would be from a later search.
            items = [fetched[i] for i in ids if i in fetched]
        return list({item.key: item for item in items}.values())

    async def _fetch_items(
        self, ids: Sequence[str], wanted: Sequence[str], site: Site
    ) -> list[WorkItem]:
        return self._to_items(await self.client.bulkfetch(ids, fields=wanted), site)

    def _read_fields(self, site: Site) -> list[str]:
        """The mapped fields, and the links and status when dependencies are on."""
        wanted = read_field_ids(site.fields, history=self.history)
        return list(dict.fromkeys([*wanted, *LINK_FIELDS])) if self.dependencies else wanted

    def _to_items(self, issues: Sequence[p.JsonObject], site: Site) -> list[WorkItem]:
        link_types = self.source.blocking_link_types if self.dependencies else None
        return [
            work_item_from_issue(
                i,
                fields=site.fields,
                site_url=site.site_url,
                source=self.name,
                link_types=link_types,
            )
            for i in issues
        ]

    async def _write(self, change: Change, payload: p.JsonObject) -> WriteResult:
        issue = str(change.item.handle) if change.item and change.item.handle else change.key
        try:
            await self.client.edit(issue, payload, notify=self.source.notify)
        except AuthFailed:
            raise
        except TrackerError as exc:
            return WriteResult(change, error=exc)
        self._edits_land = True
        return WriteResult(change)


def relinked(items: Sequence[WorkItem], *, fresh: Mapping[str, WorkItem]) -> list[WorkItem]:
    """Kept items (not in ``fresh``) with each link's ``done`` from the linked item as read
    now: a blocker closing moves its own ``updated``, not that of the issues it blocks.
    Every link of a kept item points into ``items`` (``_linked_elsewhere``)."""
    done = {i.key: i.done for i in items}
    out = []
    for item in items:
        kept = not (isinstance(item.handle, str) and item.handle in fresh)
        links = (*item.blocks, *item.blocked_by)
        # A new item only where a link's state changed: 50,000 copies would double the read.
        if kept and any(done.get(k.key, k.done) != k.done for k in links):
            item = replace(
                item,
                blocks=tuple(Link(k.key, done=done.get(k.key, k.done)) for k in item.blocks),
                blocked_by=tuple(
                    Link(k.key, done=done.get(k.key, k.done)) for k in item.blocked_by
                ),
            )
        out.append(item)
    return out


def api_base_url(source: JiraSource) -> str:
    """The site URL, or the api.atlassian.com gateway for scoped tokens (``cloud_id``)."""
    if source.cloud_id:
        return f"{GATEWAY}/{source.cloud_id}"
    assert source.url is not None  # the config model demands url or cloud_id
    return source.url
