"""Secrets come from the environment only (design §5), as ``SecretStr``.

A source names the variables that hold its credentials (``token_env`` …), so one config
file can hold two Jira sites. Nothing here ever prints a secret's value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from config.models import GitHubSource, JiraSource
from priosync.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """Jira Cloud: account email and API token (also scoped tokens via the gateway)."""

    email: str
    token: SecretStr


@dataclass(frozen=True, slots=True)
class BearerCredentials:
    """Jira Data Center personal access token, or a GitHub token."""

    token: SecretStr


@dataclass(frozen=True, slots=True)
class GitHubAppCredentials:
    app_id: str
    private_key: SecretStr
    installation_id: str


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """The variable's value as a ``SecretStr``, or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return SecretStr(value) if value else None


def jira_credentials(
    source: JiraSource, environ: Mapping[str, str] | None = None
) -> BasicCredentials | BearerCredentials:
    """Basic (email + token) when both are set, else a PAT; a ConfigError naming the variables."""
    env = os.environ if environ is None else environ
    email = env.get(source.email_env, "").strip()
    token = read_secret(source.token_env, env)
    pat = read_secret(source.pat_env, env)
    if source.deployment != "dc" and email and token:
        return BasicCredentials(email=email, token=token)
    if source.deployment != "cloud" and pat:
        return BearerCredentials(token=pat)
    wanted = {
        "cloud": f"{source.email_env} and {source.token_env}",
        "dc": source.pat_env,
        "auto": f"{source.email_env} and {source.token_env} (Cloud) or {source.pat_env} (Data Center)",
    }[source.deployment]
    raise ConfigError(
        f"no Jira credentials for source '{source.name}': set {wanted} in the environment",
        key=f"sources.{source.name}",
    )


def github_credentials(
    source: GitHubSource, environ: Mapping[str, str] | None = None
) -> BearerCredentials | GitHubAppCredentials:
    """A token from ``token_env``, else a GitHub App from GITHUB_APP_* variables."""
    env = os.environ if environ is None else environ
    token = read_secret(source.token_env, env)
    if token is not None:
        return BearerCredentials(token=token)
    app_id = env.get("GITHUB_APP_ID", "").strip()
    key = read_secret("GITHUB_APP_PRIVATE_KEY", env)
    installation = env.get("GITHUB_APP_INSTALLATION_ID", "").strip()
    if app_id and key and installation:
        return GitHubAppCredentials(app_id=app_id, private_key=key, installation_id=installation)
    raise ConfigError(
        f"no GitHub credentials for source '{source.name}': set {source.token_env}, or "
        "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID",
        key=f"sources.{source.name}",
    )
