"""priosync's managed labels in each repository: looked up once, created once when missing.

One cache for both kinds of source: repository → label name (casefolded) → (name, node id).
A repository's labels are listed the first time a change adds one there, by the lister the
source gives: GraphQL for a Project (it speaks GraphQL already), REST for a repository
source (which sends no GraphQL at all). A missing label is created over REST with a colour
and a description (§3.3); one created meanwhile (422) is listed again rather than failing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from config.models import OutputsConfig
from connectors.github import graphql as g
from connectors.github import protocol as p
from connectors.github.client import GitHubClient
from priosync.errors import ChangeRejected

logger = logging.getLogger("priosync.github")

LABEL_COLOR = "1d76db"
NEEDS_INPUT_COLOR = "fbca04"

#: How a source lists a repository's labels: name → node id.
ListLabels = Callable[[str], Awaitable[dict[str, str]]]


class ManagedLabels:
    """Node ids of managed labels by repository, creating the missing ones (each once)."""

    def __init__(
        self, client: GitHubClient, outputs: OutputsConfig, *, list_labels: ListLabels, source: str
    ) -> None:
        self._source = source
        self._client = client
        self._outputs = outputs
        self._list_labels = list_labels
        self._known: dict[str, dict[str, tuple[str, str]]] = {}
        #: Labels priosync created, "owner/name:label" (tests and reports).
        self.created: list[str] = []

    async def ids(self, repo: str, names: Iterable[str]) -> dict[str, str]:
        """Name → node id for ``names`` in ``repo``, creating the missing ones first."""
        wanted = sorted(names)
        for name in wanted:
            if name.casefold() not in await self._labels(repo):
                await self._create(repo, name)
        known = await self._labels(repo)
        return {name: known[name.casefold()][1] for name in wanted}

    async def names(self, repo: str) -> list[str]:
        """The names of ``repo``'s labels (listed once; ``ids`` then creates without listing)."""
        return [name for name, _ in (await self._labels(repo)).values()]

    async def _labels(self, repo: str) -> dict[str, tuple[str, str]]:
        if repo not in self._known:
            listed = await self._list_labels(repo)
            self._known[repo] = {n.casefold(): (n, node_id) for n, node_id in listed.items()}
        return self._known[repo]

    async def _create(self, repo: str, name: str) -> None:
        request = p.build_create_label_request(repo, name, **label_style(self._outputs, name))
        try:
            body = await self._client.rest(request)
        except ChangeRejected:
            self._known.pop(repo, None)  # 422 already_exists: learn its id from a new listing
            if name.casefold() not in await self._labels(repo):
                raise
            return
        node_id = str(body.get("node_id") or "") if isinstance(body, Mapping) else ""
        self._known[repo][name.casefold()] = (name, node_id)
        self.created.append(f"{repo}:{name}")
        logger.info("%s: created label %s in %s", self._source, name, repo)


def label_style(outputs: OutputsConfig, name: str) -> dict[str, str]:
    """Colour and description of a managed label priosync creates."""
    if name == outputs.needs_input_label:
        return {"color": NEEDS_INPUT_COLOR, "description": "priosync: inputs missing for a score"}
    bucket = name.removeprefix(outputs.label_prefix)
    return {"color": LABEL_COLOR, "description": f"priosync roadmap bucket: {bucket}"}


async def list_labels_graphql(client: GitHubClient, repo: str) -> dict[str, str]:
    """Every label of ``repo`` by name, with its node id, over GraphQL (100 a page)."""
    owner, name = p.split_slug(repo)
    labels: dict[str, str] = {}
    after: str | None = None
    while True:
        variables = {"owner": owner, "name": name, "after": after}
        data = (await client.graphql(g.REPO_LABELS_QUERY, variables)).data
        page = (data.get("repository") or {}).get("labels") or {}
        labels.update({str(n["name"]): str(n["id"]) for n in page.get("nodes") or ()})
        if not (page.get("pageInfo") or {}).get("hasNextPage"):
            return labels
        after = page["pageInfo"]["endCursor"]


async def list_labels_rest(client: GitHubClient, repo: str) -> dict[str, str]:
    """Every label of ``repo`` by name, with its node id, over REST (``Link`` pages)."""
    listed = await client.rest_pages(p.build_list_labels_request(repo))
    return {str(lb["name"]): str(lb.get("node_id") or "") for lb in listed}
