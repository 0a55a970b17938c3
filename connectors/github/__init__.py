"""The GitHub connector: a Project (GraphQL) or a repository with issue fields (REST)."""

from connectors.github.connector import GitHubConnector

__all__ = ["GitHubConnector"]
