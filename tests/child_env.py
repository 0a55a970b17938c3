"""The environment a test runs priosync (or a sandbox) in as a child process."""

from __future__ import annotations

import os

#: A developer's own credentials, state path or settings must never reach a test's child.
OWN_PREFIXES = ("PRIOSYNC_", "JIRA_", "GITHUB_")


def child_env(**variables: str) -> dict[str, str]:
    """This process's environment without any ``PRIOSYNC_*``, ``JIRA_*`` or ``GITHUB_*``
    variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(variables)
    return env
