"""What GitHub's two kinds of source share: the client, the field map, labels, fields, check.

``ProjectConnector`` (``connectors.github.project``) and ``RepositoryConnector``
(``connectors.github.repository``) each add how they read, re-read and write, where their
fields live, and which lister finds a repository's labels.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Self

import httpx

from config.models import GitHubSource, OutputsConfig
from config.secrets import BearerCredentials, GitHubAppCredentials
from connectors.fields import FieldMap, TrackerField, output_refs, resolve_field_map
from connectors.github import graphql as g
from connectors.github.checks import check_source
from connectors.github.client import GitHubClient, open_client
from connectors.github.fields import RULES
from connectors.github.labels import ManagedLabels
from connectors.http import RetryPolicy
from priosync.domain import Change, CheckResult, FieldInfo, WorkItem, WriteResult

logger = logging.getLogger("priosync.github")


def warn_cut_dependencies(source: str, keys: Sequence[str]) -> None:
    """Log the issues whose blockers did not fit in one page (read, not guessed)."""
    if keys:
        logger.warning(
            "%s: %d issues have more than %d blockers; only the first %d of each are used: %s",
            source,
            len(keys),
            g.DEPENDENCIES_PER_ITEM,
            g.DEPENDENCIES_PER_ITEM,
            ", ".join(keys[:5]),
        )


class GitHubSourceConnector(ABC):
    """One GitHub source as the sync engine's ``Connector``; a subclass per kind of source."""

    writable = True
    #: The classic-token scopes a sync of this kind of source needs (``check``).
    token_scopes: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        source: GitHubSource,
        client: GitHubClient,
        inputs: Mapping[str, str],
        outputs: OutputsConfig,
        scales: Mapping[str, Mapping[str, float]] | None = None,
        priority_names: Sequence[str] = (),
        dependencies: bool = False,
        history: bool = False,
    ) -> None:
        self.name = source.name
        #: ``[scoring.freshness]``: read when input values last changed, where the API tells.
        self.history = history
        self.source = source
        self.client = client
        self.inputs = dict(inputs)
        self.outputs = outputs
        self.scales = {k: dict(v) for k, v in (scales or {}).items()}
        self.priority_names = tuple(priority_names)
        #: Read issue dependencies (``[scoring] dependencies = "lift"``).
        self.dependencies = dependencies
        self.labels = ManagedLabels(
            client, outputs, list_labels=self.list_labels, source=source.name
        )
        self._field_map: FieldMap | None = None

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
        dependencies: bool = False,
        history: bool = False,
    ) -> Self:
        """Build a connector for one configured source; no request is sent until used."""
        return cls(
            source=source,
            client=open_client(source, credentials, transport=transport, retry=retry),
            inputs=inputs,
            outputs=outputs,
            scales=scales,
            priority_names=priority_names,
            dependencies=dependencies,
            history=history,
        )

    # ── Connector protocol ────────────────────────────────────────────────────────────

    @abstractmethod
    async def read(self) -> list[WorkItem]:
        """The whole backlog of the source, or a ``TrackerError``."""

    @abstractmethod
    async def read_items(self, keys: Sequence[str]) -> list[WorkItem]:
        """Re-read named items; keys the source does not hold are left out."""

    @abstractmethod
    def apply(self, changes: Sequence[Change]) -> AsyncIterator[WriteResult]:
        """Write the changes (serialized and paced); results as they settle."""

    async def fields(self) -> list[FieldInfo]:
        """The fields mapping can name, with their options."""
        return [f.info() for f in await self.all_fields()]

    async def check(self) -> list[CheckResult]:
        """Token, scopes, field mapping and options, priority names, label prefix, budget."""
        return await check_source(self)

    async def owned_field_ids(self) -> frozenset[str]:
        fields = await self.field_map()
        return frozenset(f.id for f in fields.outputs().values())

    async def aclose(self) -> None:
        await self.client.http.aclose()

    # ── what each kind of source says ─────────────────────────────────────────────────

    @abstractmethod
    def where(self) -> str:
        """The place fields are looked up, for messages."""

    @abstractmethod
    async def all_fields(self) -> tuple[TrackerField, ...]:
        """Every field the source's mapping may name (asked once)."""

    @abstractmethod
    async def list_labels(self, repo: str) -> dict[str, str]:
        """A repository's labels by name, with node ids (``ManagedLabels`` asks once)."""

    async def backlog_size(self) -> int | None:
        """How many items a full sync reads, when one request can tell (``check``'s budget)."""
        return None

    # ── shared ────────────────────────────────────────────────────────────────────────

    @property
    def created_labels(self) -> list[str]:
        """Labels priosync created, ``owner/name:label`` (tests and reports)."""
        return self.labels.created

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
