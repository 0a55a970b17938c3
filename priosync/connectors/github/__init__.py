"""The GitHub connector: a Project (GraphQL) or a repository with issue fields (REST)."""

from priosync.connectors.github.connector import GitHubConnector

__all__ = ["GitHubConnector"]
