"""The Jira connector (Cloud REST v3, Data Center REST v2)."""

from priosync.connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
