"""The GitHub connectors: a Project (GraphQL) or a repository with issue fields (REST).

``sync.pipeline.open_connector`` picks ``ProjectConnector`` for ``project = "owner/number"``
and ``RepositoryConnector`` for ``repo = "owner/name"``.
"""

from typing import TypeAlias

from connectors.github.project import ProjectConnector
from connectors.github.repository import RepositoryConnector

#: Either kind of GitHub source's connector.
GitHubConnector: TypeAlias = ProjectConnector | RepositoryConnector

__all__ = ["GitHubConnector", "ProjectConnector", "RepositoryConnector"]
