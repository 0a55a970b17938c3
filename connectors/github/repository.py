"""``RepositoryConnector``: a repository (``repo = "owner/name"``) with issue fields, as a ``Connector``.

Issues over REST (``Link`` paging, pull requests filtered) with the organization's issue
field values; owned values are merged into the whole set and written back (GitHub replaces
it), then verified from the answer, because GitHub drops values silently where the feature
is off. Labels are added and removed one by one over REST, after missing managed labels are
created (``labels``). Writes go one change at a time, paced by ``client``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from connectors.fields import FieldMap, TrackerField
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.common import GitHubSourceConnector, warn_cut_dependencies
from connectors.github.dependencies import blocked_by_links, has_open_blockers
from connectors.github.fields import issue_field_from_json
from connectors.github.labels import list_labels_rest
from connectors.github.mapping import (
    FieldWrite,
    dropped_fields,
    field_writes,
    issue_field_values,
    issue_fields_body,
    issue_ref,
    keep_issue,
    merge_issue_fields,
    work_item_from_issue,
)
from priosync.domain import Change, Link, RawValue, WorkItem, WriteResult
from priosync.errors import AuthFailed, ChangeRejected, NotFound, TrackerError

#: Classic-token scopes a repository sync needs.
REPO_SCOPES = ("repo", "read:org")


class RepositoryConnector(GitHubSourceConnector):
    """Reads a repository's issues into ``WorkItem``s and applies ``Change``s over REST."""

    token_scopes = REPO_SCOPES
    _issue_fields: tuple[TrackerField, ...] | None = None

    # ── Connector protocol ────────────────────────────────────────────────────────────

    async def read(self) -> list[WorkItem]:
        """Every issue of the repository the source's state and pull-request settings keep."""
        fields = await self.field_map()
        repo = self.repo_slug()
        issues = await self.client.rest_pages(
            p.build_list_issues_request(repo, state=self.source.state)
        )
        return await self._to_items([i for i in issues if self._keep(i)], repo, fields)

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """The named issues, one GET each; keys of other repositories are left out."""
        fields = await self.field_map()
        repo = self.repo_slug()
        found = []
        for key in dict.fromkeys(keys):
            issue = await self._get_issue(repo, key)
            if issue is not None and self._keep(issue):
                found.append(issue)
        return await self._to_items(found, repo, fields)

    async def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """Write each change's fields, then its labels; results one by one.

        A refused change yields an error and the rest go on; ``AuthFailed`` stops everything.
        """
        fields = await self.field_map()
        for change in changes:
            yield await self._apply_issue(change, fields)

    # ── what a repository says ────────────────────────────────────────────────────────

    def where(self) -> str:
        return f"the issue fields of organization {self.org()}"

    async def all_fields(self) -> tuple[TrackerField, ...]:
        if self._issue_fields is None:
            body = await self.client.rest(p.build_issue_fields_request(self.org()))
            self._issue_fields = tuple(issue_field_from_json(f) for f in body or ())
        return self._issue_fields

    async def list_labels(self, repo: str) -> dict[str, str]:
        return await list_labels_rest(self.client, repo)

    def repo_slug(self) -> str:
        assert self.source.repo is not None  # open_connector chose this class for it
        return self.source.repo

    def org(self) -> str:
        """The repository's owner, whose issue fields the source maps."""
        return p.split_slug(self.repo_slug())[0]

    # ── reading ───────────────────────────────────────────────────────────────────────

    async def _to_items(
        self, issues: Sequence[Mapping[str, Any]], repo: str, fields: FieldMap
    ) -> list[WorkItem]:
        items = [
            work_item_from_issue(
                i, repo=repo, fields=fields, source=self.name, dependencies=self.dependencies
            )
            for i in issues
        ]
        if not self.dependencies:
            return items
        blockers = await self._blockers(
            {
                str(issue["node_id"]): item.key
                for item, issue in zip(items, issues, strict=True)
                if has_open_blockers(issue) and issue.get("node_id")
            }
        )
        return [
            replace(item, blocked_by=blockers[issue["node_id"]])
            if issue.get("node_id") in blockers
            else item
            for item, issue in zip(items, issues, strict=True)
        ]

    async def _blockers(self, wanted: Mapping[str, str]) -> dict[str, tuple[Link, ...]]:
        """The blockers of the issues (node id → key) whose REST summary counts open ones:
        one GraphQL ``nodes`` query per 100 issues, where REST would take a call per issue."""
        found: dict[str, tuple[Link, ...]] = {}
        cut: list[str] = []
        node_ids = list(wanted)
        for start in range(0, len(node_ids), g.IDS_PER_NODES_QUERY):
            ids = list(node_ids[start : start + g.IDS_PER_NODES_QUERY])
            result = await self.client.graphql(g.BLOCKERS_QUERY, {"ids": ids})
            for node in result.data.get("nodes") or ():
                if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                    links, was_cut = blocked_by_links(node)
                    found[node["id"]] = links
                    if was_cut:
                        cut.append(wanted.get(node["id"], node["id"]))
        warn_cut_dependencies(self.name, cut)
        return found

    def _keep(self, issue: Mapping[str, Any]) -> bool:
        return keep_issue(
            issue, include_pull_requests=self.source.include_pull_requests, state=self.source.state
        )

    async def _get_issue(self, repo: str, key: str) -> Mapping[str, Any] | None:
        prefix = f"{repo}#"
        if not key.startswith(prefix) or not key[len(prefix) :].isdigit():
            return None
        try:
            body = await self.client.rest(p.build_get_issue_request(repo, int(key[len(prefix) :])))
        except NotFound:
            return None
        return body if isinstance(body, Mapping) else None

    # ── writing ───────────────────────────────────────────────────────────────────────

    async def _apply_issue(self, change: Change, fields: FieldMap) -> WriteResult:
        try:
            handle, repo, number = issue_ref(change)
            await self._write_issue_fields(
                repo, number, handle.field_values, field_writes(change, fields)
            )
            await self._write_labels(repo, number, change.labels_to_add, change.labels_to_remove)
        except AuthFailed:
            raise
        except TrackerError as exc:
            return WriteResult(change, error=exc)
        return WriteResult(change)

    async def _write_issue_fields(
        self,
        repo: str,
        number: int,
        current: Mapping[str, RawValue],
        writes: Sequence[FieldWrite],
    ) -> None:
        """Merge the writes into the issue's field set, send it, clear, and verify it held."""
        if not writes:
            return
        merged, cleared = merge_issue_fields(current, writes)
        held: Mapping[str, Any] = current
        if len(cleared) < len(writes):
            request = p.build_set_issue_fields_request(repo, number, issue_fields_body(merged))
            answer = await self.client.rest(request)
            held = issue_field_values(answer) if isinstance(answer, Mapping) else {}
        for field_id in cleared:
            if field_id in held:
                with contextlib.suppress(NotFound):  # not set: already clear
                    await self.client.rest(
                        p.build_delete_issue_field_request(repo, number, int(field_id))
                    )
        wanted = {w.field.id: merged[w.field.id] for w in writes if w.value is not None}
        if dropped_fields(wanted, held, []):
            raise ChangeRejected(
                f"{p.TRACKER} did not keep the issue field values written to {repo}#{number}; "
                "issue fields may be off for this repository or organization",
                tracker=p.TRACKER,
                status=200,
            )

    async def _write_labels(
        self, repo: str, number: int, adds: frozenset[str], removes: frozenset[str]
    ) -> None:
        """Add labels (creating missing managed ones first) and remove others, one by one."""
        if adds:
            await self.labels.ids(repo, adds)
            await self.client.rest(p.build_add_labels_request(repo, number, sorted(adds)))
        for name in sorted(removes):
            with contextlib.suppress(NotFound):  # not on the issue: already done (§3.3)
                await self.client.rest(p.build_remove_label_request(repo, number, name))
