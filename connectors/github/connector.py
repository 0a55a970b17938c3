"""``GitHubConnector``: one GitHub source (design §5) as the sync engine's ``Connector``.

Two kinds of source:
- a Project (``project = "owner/number"``): fields and items over GraphQL, 100 items a
  page with only the mapped fields' values; owned fields written as aliased
  ``updateProjectV2ItemFieldValue`` / ``clearProjectV2ItemFieldValue`` mutations, many
  items per document, and labels with ``addLabelsToLabelable`` / ``removeLabelsFromLabelable``
  in the same documents. Draft issues are scored but cannot carry labels (logged).
- a repository (``repo = "owner/name"``) with the organization's issue fields: issues over
  REST (``Link`` paging, pull requests filtered), field values read, merged and written
  back as the whole set (GitHub replaces it), verified from the answer because GitHub drops
  values silently where the feature is off; labels added and removed one by one over REST.

Missing managed labels are created in a repository first, once, with a colour and a
description. Pacing: writes one at a time, ≥1 s apart by default and within half of
GitHub's secondary-limit points per minute (``client``); reads sequential (cursor and
``Link`` paging), a few at a time at most.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from config.models import GitHubSource, OutputsConfig
from config.secrets import BearerCredentials, GitHubAppCredentials
from connectors.fields import FieldMap, TrackerField, output_refs, resolve_field_map
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.auth import GitHubAppAuth
from connectors.github.checks import run_checks
from connectors.github.client import GitHubClient
from connectors.github.fields import (
    RULES,
    issue_field_from_json,
    project_field_from_json,
    read_names,
)
from connectors.github.mapping import (
    FieldWrite,
    ItemHandle,
    dropped_fields,
    field_writes,
    issue_field_values,
    issue_fields_body,
    keep_project_item,
    label_mutations,
    merge_issue_fields,
    project_field_mutations,
    work_item_from_issue,
    work_item_from_project_item,
)
from connectors.http import BearerAuth, Pacer, RetryPolicy, TrackerHttp, build_client
from priosync.domain import Change, CheckResult, FieldInfo, WorkItem, WriteResult
from priosync.errors import AuthFailed, ChangeRejected, NotFound, TrackerError

logger = logging.getLogger("priosync.github")

USER_AGENT = "priosync (+https://github.com/priosync/priosync)"
TIMEOUT_S = 30.0
#: At most a few requests in flight (octokit's throttling allows 10; §3.7 caps at 100).
DEFAULT_CONCURRENCY = 4
DEFAULT_READS_PER_S = 10.0
#: "Wait at least 1 second between POST, PATCH, PUT and DELETE requests" (GitHub's best
#: practices, §3.7); octokit applies the same to every GraphQL call that writes.
DEFAULT_WRITES_PER_S = 1.0
#: A spent hourly budget resets within the hour: wait for it rather than fail (logged).
PRIMARY_MAX_WAIT_S = 3660.0
LABEL_COLOR = "1d76db"
NEEDS_INPUT_COLOR = "fbca04"


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: str
    title: str
    fields: tuple[TrackerField, ...]


class GitHubConnector:
    """Reads a Project or a repository into ``WorkItem``s and applies ``Change``s."""

    writable = True

    def __init__(
        self,
        *,
        source: GitHubSource,
        client: GitHubClient,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        scales: Mapping[str, Mapping[str, float]] | None = None,
        priority_names: Sequence[str] = (),
    ) -> None:
        self.name = source.name
        self.source = source
        self.client = client
        self.inputs = dict(inputs)
        self.outputs = outputs
        self.scales = {k: dict(v) for k, v in (scales or {}).items()}
        self.priority_names = tuple(priority_names)
        self._project: ProjectInfo | None = None
        self._issue_fields: tuple[TrackerField, ...] | None = None
        self._field_map: FieldMap | None = None
        #: Repository ("owner/name") → label name (casefolded) → (name, node id).
        self._labels: dict[str, dict[str, tuple[str, str]]] = {}
        self._rest_labels_ready: set[str] = set()
        #: Labels priosync created, "owner/name:label" (tests and reports).
        self.created_labels: list[str] = []
        #: Keys of draft issues whose planned labels could not be applied in the last ``apply``.
        self.unlabelable: list[str] = []

    @classmethod
    def from_config(
        cls,
        source: GitHubSource,
        *,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        credentials: BearerCredentials | GitHubAppCredentials,
        transport: httpx.AsyncBaseTransport | None = None,
        scales: Mapping[str, Mapping[str, float]] | None = None,
        priority_names: Sequence[str] = (),
        retry: RetryPolicy | None = None,
    ) -> GitHubConnector:
        """Build a connector for one configured source; no request is sent until used.

        ``retry`` sets attempts, backoff and the ``sleep`` that retries and pacing use
        (tests inject a fast one); without it a spent hourly limit is waited out.
        """
        retry = retry or RetryPolicy(max_wait_s=PRIMARY_MAX_WAIT_S)
        concurrency = source.pacing.concurrency or DEFAULT_CONCURRENCY
        client = build_client(
            base_url=source.api_url,
            auth=build_auth(credentials, api_url=source.api_url),
            user_agent=USER_AGENT,
            timeout_s=TIMEOUT_S,
            max_connections=concurrency,
            transport=transport,
            headers={"Accept": p.ACCEPT, "X-GitHub-Api-Version": p.API_VERSION},
        )
        pacer = Pacer(
            concurrency=concurrency,
            rates_per_s={
                "read": source.pacing.reads_per_second or DEFAULT_READS_PER_S,
                "write": source.pacing.writes_per_second or DEFAULT_WRITES_PER_S,
            },
            sleep=retry.sleep,
        )
        secrets = (
            [credentials.token.get_secret_value()]
            if isinstance(credentials, BearerCredentials)
            else [credentials.private_key.get_secret_value()]
        )
        http = TrackerHttp(
            client,
            tracker=p.TRACKER,
            pacer=pacer,
            retry=retry,
            describe=p.describe_error,
            inspect=p.inspect_answer,
            secrets=secrets,
        )
        return cls(
            source=source,
            client=GitHubClient(http, api_url=source.api_url),
            inputs=inputs,
            outputs=outputs,
            scales=scales,
            priority_names=priority_names,
        )

    # ── Connector protocol ────────────────────────────────────────────────────────────

    async def read(self) -> list[WorkItem]:
        """The whole backlog of the Project or repository, or a ``TrackerError``."""
        fields = await self.field_map()
        if self.source.project:
            return await self._read_project(fields)
        return await self._read_repo(fields)

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """Re-read named items; keys the source does not hold are left out.

        A repository source fetches each issue; a Project is read whole (GraphQL offers
        no lookup of a Project item by its issue), then filtered.
        """
        wanted = set(keys)
        if self.source.project:
            return [item for item in await self.read() if item.key in wanted]
        fields = await self.field_map()
        repo = self.repo_slug()
        items = []
        for key in dict.fromkeys(keys):
            found = await self._get_issue(repo, key)
            if found is not None and self._keep_issue(found):
                items.append(
                    work_item_from_issue(found, repo=repo, fields=fields, source=self.name)
                )
        return items

    async def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """Write the changes (serialized and paced); results as they settle.

        A refused change yields an error and the rest go on; ``AuthFailed`` stops everything.
        """
        fields = await self.field_map()
        if self.source.project:
            async for result in self._apply_project(changes, fields):
                yield result
        else:
            for change in changes:
                yield await self._apply_issue(change, fields)

    async def fields(self) -> list[FieldInfo]:
        """The Project's fields, or the organization's issue fields, with their options."""
        return [f.info() for f in await self.all_fields()]

    async def check(self) -> list[CheckResult]:
        """Token, scopes, field mapping and options, priority names, label prefix, budget."""
        return await run_checks(self)

    async def aclose(self) -> None:
        await self.client.http.aclose()

    # ── discovery ─────────────────────────────────────────────────────────────────────

    def where(self) -> str:
        """The place fields are looked up, for messages."""
        if self.source.project:
            return f"Project {self.source.project}"
        return f"the issue fields of organization {p.split_slug(self.repo_slug())[0]}"

    def repo_slug(self) -> str:
        assert self.source.repo is not None  # the config model demands project or repo
        return self.source.repo

    async def field_map(self) -> FieldMap:
        """Every mapped field, resolved once (``FieldMappingError`` names the closest names)."""
        if self._field_map is None:
            self._field_map = resolve_field_map(
                inputs=self.inputs,
                outputs=output_refs(self.outputs),
                fields=await self.all_fields(),
                rules=RULES,
                where=self.where(),
            )
        return self._field_map

    async def all_fields(self) -> tuple[TrackerField, ...]:
        if self.source.project:
            return (await self.project()).fields
        if self._issue_fields is None:
            org = p.split_slug(self.repo_slug())[0]
            body = await self.client.rest(p.build_issue_fields_request(org))
            self._issue_fields = tuple(issue_field_from_json(f) for f in body or ())
        return self._issue_fields

    async def project(self) -> ProjectInfo:
        """The Project's id and fields, asked once (organization first, then user)."""
        if self._project is None:
            assert self.source.project is not None
            owner, number = p.split_slug(self.source.project)
            variables = {"owner": owner, "number": int(number)}
            result = await self.client.graphql(g.ORG_PROJECT_QUERY, variables)
            node = (result.data.get("organization") or {}).get("projectV2")
            if node is None and result.data.get("organization") is None:
                result = await self.client.graphql(g.USER_PROJECT_QUERY, variables)
                node = (result.data.get("user") or {}).get("projectV2")
            if node is None:
                raise NotFound(
                    f"{p.TRACKER}: Project {self.source.project} not found, or the token cannot "
                    "see it (classic tokens need the read:project scope)",
                    tracker=p.TRACKER,
                    status=200,
                )
            parsed = [project_field_from_json(f) for f in node["fields"]["nodes"] or ()]
            self._project = ProjectInfo(
                str(node["id"]),
                str(node.get("title") or ""),
                tuple(f for f in parsed if f is not None),
            )
        return self._project

    # ── reading ───────────────────────────────────────────────────────────────────────

    async def _read_project(self, fields: FieldMap) -> list[WorkItem]:
        project = await self.project()
        names = read_names(fields)
        document = g.build_items_query(len(names))
        items: list[WorkItem] = []
        skipped = 0
        after: str | None = None
        while True:
            variables = g.build_items_variables(project.id, names, after)
            result = await self.client.graphql(document, variables)
            page = (result.data.get("node") or {}).get("items")
            if page is None:
                raise NotFound(
                    f"{p.TRACKER}: Project {self.source.project} went away while reading",
                    tracker=p.TRACKER,
                    status=200,
                )
            for node in page["nodes"] or ():
                if node and keep_project_item(
                    node,
                    include_pull_requests=self.source.include_pull_requests,
                    state=self.source.state,
                ):
                    items.append(work_item_from_project_item(node, fields=fields, source=self.name))
                else:
                    skipped += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        logger.info(
            "%s: read %d Project items, left out %d (state, pull requests, no access)",
            self.name,
            len(items),
            skipped,
        )
        return items

    def _keep_issue(self, issue: Mapping[str, Any]) -> bool:
        if p.is_pull_request(issue) and not self.source.include_pull_requests:
            return False
        return self.source.state == "all" or issue.get("state") == self.source.state

    async def _read_repo(self, fields: FieldMap) -> list[WorkItem]:
        repo = self.repo_slug()
        issues = await self.client.rest_pages(
            p.build_list_issues_request(repo, state=self.source.state)
        )
        return [
            work_item_from_issue(i, repo=repo, fields=fields, source=self.name)
            for i in issues
            if self._keep_issue(i)
        ]

    async def _get_issue(self, repo: str, key: str) -> Mapping[str, Any] | None:
        prefix = f"{repo}#"
        if not key.startswith(prefix) or not key[len(prefix) :].isdigit():
            return None
        try:
            body = await self.client.rest(p.build_get_issue_request(repo, int(key[len(prefix) :])))
        except NotFound:
            return None
        return body if isinstance(body, Mapping) else None

    # ── writing a Project ─────────────────────────────────────────────────────────────

    async def _apply_project(
        self, changes: Sequence[Change], fields: FieldMap
    ) -> AsyncIterator[WriteResult]:
        project = await self.project()
        self.unlabelable = []
        planned: list[tuple[Change, list[g.Mutation]]] = []
        for change in changes:
            try:
                mutations = await self._project_mutations(project.id, change, fields)
            except ChangeRejected as exc:
                yield WriteResult(change, error=exc)
                continue
            if mutations:
                planned.append((change, mutations))
            else:
                yield WriteResult(change)
        if self.unlabelable:
            logger.warning(
                "%s: %d draft issues cannot carry labels; their roadmap labels are left "
                "out (convert them to issues to label them): %s",
                self.name,
                len(self.unlabelable),
                ", ".join(self.unlabelable[:5]),
            )
        batches = pack_batches(planned, g.MUTATIONS_PER_DOCUMENT)
        await self.client.wait_for_budget(len(batches))
        for batch in batches:
            for result in await self._send_batch(batch):
                yield result

    async def _project_mutations(
        self, project_id: str, change: Change, fields: FieldMap
    ) -> list[g.Mutation]:
        handle = handle_of(change)
        mutations = project_field_mutations(
            project_id, handle.item_id or "", field_writes(change, fields)
        )
        adds, removes = change.labels_to_add, change.labels_to_remove
        if handle.is_draft or handle.content_id is None:
            if adds or removes:
                self.unlabelable.append(change.key)
            return mutations
        assert handle.repo is not None
        add_ids = list((await self._label_ids(handle.repo, adds)).values()) if adds else []
        remove_ids = [handle.label_ids[n] for n in sorted(removes) if n in handle.label_ids]
        return mutations + label_mutations(
            handle.content_id, add_ids=add_ids, remove_ids=remove_ids
        )

    async def _send_batch(
        self, batch: Sequence[tuple[Change, list[g.Mutation]]]
    ) -> list[WriteResult]:
        mutations = [m for _, ms in batch for m in ms]
        document, variables = g.build_mutation_batch(mutations)
        aliases = [g.mutation_alias(i) for i in range(len(mutations))]
        try:
            result = await self.client.graphql(
                document, variables, tolerate=aliases, mutations=len(mutations)
            )
        except AuthFailed:
            raise
        except TrackerError as exc:
            return [WriteResult(change, error=exc) for change, _ in batch]
        results = []
        start = 0
        for change, ms in batch:
            errors = [
                e.message for a in aliases[start : start + len(ms)] for e in result.errors_at(a)
            ]
            start += len(ms)
            refused = (
                ChangeRejected(f"{p.TRACKER}: {'; '.join(errors)}", tracker=p.TRACKER, status=200)
                if errors
                else None
            )
            results.append(WriteResult(change, error=refused))
        return results

    # ── labels ────────────────────────────────────────────────────────────────────────

    async def _label_ids(self, repo: str, names: frozenset[str]) -> dict[str, str]:
        """Node ids of ``names`` in ``repo``, creating missing ones first (once)."""
        known = await self._repo_labels(repo)
        for name in sorted(names):
            if name.casefold() not in known:
                node_id = await self._create_label(repo, name)
                known[name.casefold()] = (name, node_id)
        return {name: known[name.casefold()][1] for name in names}

    async def _repo_labels(self, repo: str) -> dict[str, tuple[str, str]]:
        if repo not in self._labels:
            owner, name = p.split_slug(repo)
            labels: dict[str, tuple[str, str]] = {}
            after: str | None = None
            while True:
                variables = {"owner": owner, "name": name, "after": after}
                data = (await self.client.graphql(g.REPO_LABELS_QUERY, variables)).data
                page = (data.get("repository") or {}).get("labels") or {}
                labels.update(
                    {
                        str(n["name"]).casefold(): (str(n["name"]), str(n["id"]))
                        for n in page.get("nodes") or ()
                    }
                )
                if not (page.get("pageInfo") or {}).get("hasNextPage"):
                    break
                after = page["pageInfo"]["endCursor"]
            self._labels[repo] = labels
        return self._labels[repo]

    async def _create_label(self, repo: str, name: str) -> str:
        """Create one managed label; its node id. A label created meanwhile is looked up."""
        request = p.build_create_label_request(repo, name, **self.label_style(name))
        try:
            body = await self.client.rest(request)
        except ChangeRejected:
            self._labels.pop(repo, None)
            found = (await self._repo_labels(repo)).get(name.casefold())
            if found is None:
                raise
            return found[1]
        self.created_labels.append(f"{repo}:{name}")
        logger.info("%s: created label %s in %s", self.name, name, repo)
        return str(body.get("node_id") or "") if isinstance(body, Mapping) else ""

    def label_style(self, name: str) -> dict[str, str]:
        """Colour and description of a managed label priosync creates."""
        if name == self.outputs.needs_input_label:
            return {
                "color": NEEDS_INPUT_COLOR,
                "description": "priosync: inputs missing for a score",
            }
        bucket = name.removeprefix(self.outputs.label_prefix)
        return {"color": LABEL_COLOR, "description": f"priosync roadmap bucket: {bucket}"}

    async def _ensure_rest_labels(self, repo: str, names: frozenset[str]) -> None:
        """Create the managed labels ``repo`` lacks before adding them over REST (once each)."""
        missing = [
            n for n in sorted(names) if f"{repo}:{n.casefold()}" not in self._rest_labels_ready
        ]
        if not missing:
            return
        existing = {
            str(lb["name"]).casefold()
            for lb in await self.client.rest_pages(
                p.ApiRequest(
                    "GET", f"/repos/{repo}/labels", "read", params={"per_page": str(p.PER_PAGE)}
                )
            )
        }
        for name in missing:
            if name.casefold() not in existing:
                try:
                    await self.client.rest(
                        p.build_create_label_request(repo, name, **self.label_style(name))
                    )
                    self.created_labels.append(f"{repo}:{name}")
                except ChangeRejected:
                    pass  # created meanwhile (422 already_exists): the add below works either way
            self._rest_labels_ready.add(f"{repo}:{name.casefold()}")

    # ── writing a repository's issues ─────────────────────────────────────────────────

    async def _apply_issue(self, change: Change, fields: FieldMap) -> WriteResult:
        try:
            handle = handle_of(change)
            await self._write_issue_fields(handle, field_writes(change, fields))
            await self._write_rest_labels(handle, change.labels_to_add, change.labels_to_remove)
        except AuthFailed:
            raise
        except TrackerError as exc:
            return WriteResult(change, error=exc)
        return WriteResult(change)

    async def _write_issue_fields(self, handle: ItemHandle, writes: Sequence[FieldWrite]) -> None:
        if not writes:
            return
        assert handle.repo is not None
        assert handle.number is not None
        merged, cleared = merge_issue_fields(handle.field_values, writes)
        held: Mapping[str, Any] = handle.field_values
        if len(cleared) < len(writes):
            answer = await self.client.rest(
                p.build_set_issue_fields_request(
                    handle.repo, handle.number, issue_fields_body(merged)
                )
            )
            held = issue_field_values(answer) if isinstance(answer, Mapping) else {}
        for field_id in cleared:
            if field_id in held:
                with contextlib.suppress(NotFound):  # not set: already clear
                    await self.client.rest(
                        p.build_delete_issue_field_request(
                            handle.repo, handle.number, int(field_id)
                        )
                    )
        wanted = {w.field.id: merged[w.field.id] for w in writes if w.value is not None}
        dropped = dropped_fields(wanted, held, [])
        if dropped:
            raise ChangeRejected(
                f"{p.TRACKER} did not keep the issue field values written to {handle.repo}#{handle.number}; "
                "issue fields may be off for this repository or organization",
                tracker=p.TRACKER,
                status=200,
            )

    async def _write_rest_labels(
        self, handle: ItemHandle, adds: frozenset[str], removes: frozenset[str]
    ) -> None:
        assert handle.repo is not None
        assert handle.number is not None
        if adds:
            await self._ensure_rest_labels(handle.repo, adds)
            await self.client.rest(
                p.build_add_labels_request(handle.repo, handle.number, sorted(adds))
            )
        for name in sorted(removes):
            with contextlib.suppress(NotFound):  # not on the issue: already done (§3.3)
                await self.client.rest(
                    p.build_remove_label_request(handle.repo, handle.number, name)
                )


def handle_of(change: Change) -> ItemHandle:
    """The handle a change's item was read with; ``ChangeRejected`` when it has none."""
    handle = change.item.handle if change.item is not None else None
    if not isinstance(handle, ItemHandle):
        raise ChangeRejected(
            f"{change.key}: no GitHub handle (item not read by this connector)",
            tracker=p.TRACKER,
            status=None,
        )
    return handle


def pack_batches(
    planned: Sequence[tuple[Change, list[g.Mutation]]], limit: int
) -> list[list[tuple[Change, list[g.Mutation]]]]:
    """Group changes into documents of at most ``limit`` mutations, never splitting a change."""
    batches: list[list[tuple[Change, list[g.Mutation]]]] = []
    size = 0
    for entry in planned:
        if not batches or size + len(entry[1]) > limit:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += len(entry[1])
    return batches


def build_auth(
    credentials: BearerCredentials | GitHubAppCredentials, *, api_url: str
) -> httpx.Auth:
    """A token's bearer auth, or the GitHub App's installation-token auth."""
    if isinstance(credentials, BearerCredentials):
        return BearerAuth(credentials.token.get_secret_value())
    return GitHubAppAuth(
        app_id=credentials.app_id,
        private_key=credentials.private_key.get_secret_value(),
        installation_id=credentials.installation_id,
        api_url=api_url,
    )
