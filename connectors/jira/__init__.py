"""The Jira connector (Cloud REST v3, Data Center REST v2)."""

from connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
