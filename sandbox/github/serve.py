"""``priosync sandbox github``: serve the sandbox on loopback until Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from service.server import GracefulServer

from .app import GitHubSandbox, create_github_app
from .limits import RateLimitPolicy

#: Printed at start and documented: a local sandbox's token, not a secret.
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105


def build_sandbox(
    *,
    issues: int,
    seed: int,
    org: str,
    repos: Sequence[str],
    token: str,
    state_path: Path | None,
    bare: bool = False,
    points_per_hour: int | None = None,
) -> GitHubSandbox:
    """Return the sandbox from ``state_path`` when that file exists, else a seeded one.

    ``bare`` seeds it without priosync's output fields and labels (``priosync setup``);
    ``points_per_hour`` replaces github.com's hourly budgets (GraphQL points and REST
    requests, 5,000 each for a personal token) — benchmarks of large Projects read more.
    """
    limits = (
        RateLimitPolicy(graphql_points_per_hour=points_per_hour, rest_per_hour=points_per_hour)
        if points_per_hour is not None
        else None
    )
    if state_path is not None and state_path.exists():
        return GitHubSandbox.load(state_path, token=token, limits=limits)
    return GitHubSandbox.seeded(
        issues=issues, seed=seed, org=org, repos=repos, token=token, bare=bare, limits=limits
    )


def run_github_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    issues: int = 200,
    seed: int = 7,
    org: str = "acme",
    repos: Sequence[str] = ("app", "web"),
    token: str | None = None,
    state_path: Path | None = None,
    echo: Callable[[str], None] = print,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    bare: bool = False,
    points_per_hour: int | None = None,
) -> None:
    """Seed (or load ``state_path``), print the URLs and token, serve until interrupted,
    then save the state to ``state_path`` when one was given.

    The REST base is the server root and GraphQL is at ``<root>/graphql``, so a client
    configured with ``api_url = <root>`` derives both as it would for api.github.com.
    """
    sandbox = build_sandbox(
        issues=issues,
        seed=seed,
        org=org,
        repos=repos,
        token=token or DEFAULT_TOKEN,
        state_path=state_path,
        bare=bare,
        points_per_hour=points_per_hour,
    )
    sandbox.webhook_url = webhook_url
    sandbox.webhook_secret = webhook_secret
    root = f"http://{host}:{port}"
    project = sandbox.state.projects[1]
    echo(
        f"Sandbox GitHub: organization {sandbox.state.org}, project {sandbox.state.org}/1 "
        f"({len(project.items)} items), repositories "
        + ", ".join(f"{sandbox.state.org}/{r}" for r in sandbox.state.repos)
    )
    echo(f"REST API:    {root}")
    echo(f"GraphQL API: {root}/graphql")
    # A token the user chose is never echoed back; only the sandbox's default is printed.
    echo(
        f"Token:       {'<the token you passed>' if token else DEFAULT_TOKEN + '  (the default; set one with --token)'}"
    )
    if webhook_url:
        echo(f"Webhooks:    {webhook_url} ({'signed' if webhook_secret else 'unsigned'})")
    if not any(f.name == "RICE score" for f in project.fields):
        echo("Bare:        without priosync's fields and labels; `priosync setup` creates them")
    first = next((it.content_ref for it in project.items if it.kind == "ISSUE"), "app#1")
    echo(
        f"Edit as a person: priosync sandbox edit {sandbox.state.org}/{first} Reach=500 "
        f"--url {root}"
    )
    echo("Press Ctrl-C to stop.")
    config = uvicorn.Config(
        create_github_app(sandbox),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    try:
        GracefulServer(config).run()  # returns on Ctrl-C or SIGTERM, so the state is saved
    finally:
        if state_path is not None:
            sandbox.save(state_path)
            echo(f"State saved to {state_path}")
