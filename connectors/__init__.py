"""Tracker connectors: the shared HTTP layer and field resolution, Jira, GitHub and files.

Each connector satisfies ``connectors.base.Connector``; the sync engine builds one
per configured source and never sees a tracker's vocabulary.
"""
