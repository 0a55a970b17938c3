"""Tracker connectors: the shared HTTP layer, Jira, GitHub, files, and the sandbox trackers.

Each connector satisfies ``connectors.base.Connector``; the sync engine builds one
per configured source and never sees a tracker's vocabulary.
"""
