"""``ProjectConnector``: a GitHub Project (``project = "owner/number"``) as a ``Connector``.

Fields and items over GraphQL, 100 items a page with only the mapped fields' values. Owned
fields are written as aliased ``updateProjectV2ItemFieldValue`` /
``clearProjectV2ItemFieldValue`` mutations, many items per document, and labels with
``addLabelsToLabelable`` / ``removeLabelsFromLabelable`` in the same documents, after
missing managed labels are created in their repository (``labels``). Draft issues are scored
but cannot carry labels (logged). Documents go one at a time, paced by ``client``. Items are
read in the Project's position order, and ``reorder`` moves them with position mutations
(``positions``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from connectors.fields import FieldMap, TrackerField
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.common import GitHubSourceConnector, warn_cut_dependencies
from connectors.github.dependencies import blocked_by_links
from connectors.github.fields import project_field_from_json, read_names
from connectors.github.labels import list_labels_graphql
from connectors.github.mapping import (
    field_writes,
    handle_of,
    keep_project_item,
    label_mutations,
    project_field_mutations,
    work_item_from_project_item,
)
from connectors.github.positions import position_mutations, send_positions
from connectors.webhooks import REF_PREFIX
from priosync.domain import Change, Move, MoveResult, WorkItem, WriteResult
from priosync.errors import ChangeRejected, NotFound
from scoring.order import Order

logger = logging.getLogger("priosync.github")

#: Classic-token scopes a Project sync needs.
PROJECT_SCOPES = ("project", "repo")

Planned = tuple[Change, list[g.Mutation]]


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: str
    title: str
    fields: tuple[TrackerField, ...]


class ProjectConnector(GitHubSourceConnector):
    """Reads a Project's items into ``WorkItem``s and applies ``Change``s as mutation batches."""

    token_scopes = PROJECT_SCOPES
    #: Keys of draft issues whose planned labels could not be applied in the last ``apply``.
    unlabelable: Sequence[str] = ()
    #: The Project's whole item order (node ids, top first) from the last read, kept up to
    #: date as moves are planned: where "before K" points (``positions``).
    positions: Order | None = None
    _project: ProjectInfo | None = None

    # ── Connector protocol ────────────────────────────────────────────────────────────

    async def read(self) -> list[WorkItem]:
        """Every item of the Project the source's state and pull-request settings keep."""
        fields = await self.field_map()
        project = await self.project()
        names = read_names(fields)
        document = g.build_items_query(
            len(names), dependencies=self.dependencies, dates=self.history
        )
        items: list[WorkItem] = []
        positions: list[str] = []
        skipped = 0
        cut: list[str] = []
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
                if node and node.get("id"):
                    positions.append(str(node["id"]))
                if node and keep_project_item(
                    node,
                    include_pull_requests=self.source.include_pull_requests,
                    state=self.source.state,
                ):
                    item = work_item_from_project_item(
                        node, fields=fields, source=self.name, dependencies=self.dependencies
                    )
                    items.append(item)
                    if self.dependencies and blocked_by_links(node["content"])[1]:
                        cut.append(item.key)
                else:
                    skipped += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        self.positions = Order(dict.fromkeys(positions))
        logger.info(
            "%s: read %d Project items, left out %d (state, pull requests, no access)",
            self.name,
            len(items),
            skipped,
        )
        warn_cut_dependencies(self.name, cut)
        return items

    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """The named items. Items named by ``ref:<item node id>`` are looked up directly, 100
        a document; an issue key needs a whole read (GraphQL has no lookup of an item by its
        issue), so it is only done when some key is not a ref."""
        refs = [k.removeprefix(REF_PREFIX) for k in keys if k.startswith(REF_PREFIX)]
        if len(refs) < len(keys):
            wanted = set(keys)
            return [
                item
                for item in await self.read()
                if item.key in wanted or f"{REF_PREFIX}{item.ref}" in wanted
            ]
        return await self._read_nodes(refs)

    async def _read_nodes(self, item_ids: Sequence[str]) -> list[WorkItem]:
        fields = await self.field_map()
        project = await self.project()
        names = read_names(fields)
        document = g.build_nodes_query(
            len(names), dependencies=self.dependencies, dates=self.history
        )
        items: list[WorkItem] = []
        unique = list(dict.fromkeys(item_ids))
        for start in range(0, len(unique), g.PAGE_SIZE):
            variables = g.build_nodes_variables(unique[start : start + g.PAGE_SIZE], names)
            # A deleted item is null with a NOT_FOUND error: left out, like any item gone.
            result = await self.client.graphql(document, variables, tolerate=("nodes",))
            for node in result.data.get("nodes") or ():
                if (
                    node
                    and (node.get("project") or {}).get("id") == project.id
                    and not node.get("isArchived")
                    and keep_project_item(
                        node,
                        include_pull_requests=self.source.include_pull_requests,
                        state=self.source.state,
                    )
                ):
                    items.append(
                        work_item_from_project_item(
                            node, fields=fields, source=self.name, dependencies=self.dependencies
                        )
                    )
        return items

    async def read_order(self) -> list[WorkItem]:
        """Items are always read in the Project's position order."""
        return await self.read()

    async def apply_moves(self, moves: Sequence[Move]) -> AsyncIterator[MoveResult]:
        """Position mutations, up to ``MUTATIONS_PER_DOCUMENT`` a document (``positions``)."""
        project = await self.project()
        if self.positions is None:
            await self.read()
        assert self.positions is not None
        planned, refused = position_mutations(project.id, moves, self.positions)
        for result in refused:
            yield result
        size = g.MUTATIONS_PER_DOCUMENT
        batches = [planned[i : i + size] for i in range(0, len(planned), size)]
        await self.client.wait_for_budget(len(batches))
        for batch in batches:
            for moved in await send_positions(self.client, batch):
                yield moved

    async def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """Write the changes in documents of up to ``MUTATIONS_PER_DOCUMENT`` mutations.

        A refused change yields an error and the rest go on; ``AuthFailed`` stops everything.
        """
        fields = await self.field_map()
        project = await self.project()
        unlabelable: list[str] = []
        planned: list[Planned] = []
        for change in changes:
            try:
                mutations, labelable = await self._mutations(project.id, change, fields)
            except ChangeRejected as exc:
                yield WriteResult(change, error=exc)
                continue
            if not labelable:
                unlabelable.append(change.key)
            if mutations:
                planned.append((change, mutations))
            else:
                yield WriteResult(change)
        self.unlabelable = unlabelable
        if unlabelable:
            logger.warning(
                "%s: %d draft issues cannot carry labels; their roadmap labels are left "
                "out (convert them to issues to label them): %s",
                self.name,
                len(unlabelable),
                ", ".join(unlabelable[:5]),
            )
        batches = pack_batches(planned, g.MUTATIONS_PER_DOCUMENT)
        await self.client.wait_for_budget(len(batches))
        for batch in batches:
            for result in await self._send_batch(batch):
                yield result

    # ── what a Project says ───────────────────────────────────────────────────────────

    def where(self) -> str:
        return f"Project {self.source.project}"

    async def all_fields(self) -> tuple[TrackerField, ...]:
        return (await self.project()).fields

    async def list_labels(self, repo: str) -> dict[str, str]:
        return await list_labels_graphql(self.client, repo)

    async def backlog_size(self) -> int:
        """How many items the Project holds (one small query)."""
        project = await self.project()
        data = (await self.client.graphql(g.PROJECT_SIZE_QUERY, {"project": project.id})).data
        return int(((data.get("node") or {}).get("items") or {}).get("totalCount") or 0)

    def forget_project(self) -> None:
        """Ask for the Project's fields again next time (after `priosync setup` added some)."""
        self._project = None
        self._field_map = None

    async def project(self) -> ProjectInfo:
        """The Project's id and fields, asked once (organization first, then user)."""
        if self._project is None:
            assert self.source.project is not None  # open_connector chose this class for it
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

    # ── writing ───────────────────────────────────────────────────────────────────────

    async def _mutations(
        self, project_id: str, change: Change, fields: FieldMap
    ) -> tuple[list[g.Mutation], bool]:
        """One change's field and label mutations, and False when it has labels a draft
        issue cannot carry (they are left out)."""
        handle = handle_of(change)
        mutations = project_field_mutations(
            project_id, handle.item_id or "", field_writes(change, fields)
        )
        adds, removes = change.labels_to_add, change.labels_to_remove
        if handle.repo is None or handle.content_id is None:  # a draft issue
            return mutations, not (adds or removes)
        add_ids = list((await self.labels.ids(handle.repo, adds)).values()) if adds else []
        remove_ids = [handle.label_ids[n] for n in sorted(removes) if n in handle.label_ids]
        labels = label_mutations(handle.content_id, add_ids=add_ids, remove_ids=remove_ids)
        return mutations + labels, True

    async def _send_batch(self, batch: Sequence[Planned]) -> list[WriteResult]:
        errors = await self.client.mutate([ms for _, ms in batch])
        return [WriteResult(c, error=e) for (c, _), e in zip(batch, errors, strict=True)]


def pack_batches(planned: Sequence[Planned], limit: int) -> list[list[Planned]]:
    """Group changes into documents of at most ``limit`` mutations, never splitting a change."""
    batches: list[list[Planned]] = []
    size = 0
    for entry in planned:
        if not batches or size + len(entry[1]) > limit:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += len(entry[1])
    return batches
