"""``priosync sandbox jira``: serve a sandbox Jira on loopback until Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import uvicorn

from service.server import GracefulServer

from .app import create_jira_app
from .site_fields import OUTPUT_FIELD_IDS
from .state import DEFAULT_EMAIL, DEFAULT_PAT, DEFAULT_TOKEN, JiraSandbox


def build_sandbox(
    *,
    issues: int,
    seed: int,
    project: str,
    email: str | None,
    token: str | None,
    state_path: Path | None,
    dc: bool,
    bare: bool = False,
) -> JiraSandbox:
    """Load the state file when it exists, else seed a new backlog; apply the credentials.

    ``bare`` seeds a site without priosync's output fields (``priosync setup`` creates them).
    """
    secret = token or (DEFAULT_PAT if dc else DEFAULT_TOKEN)
    if state_path is not None and state_path.exists():
        return JiraSandbox.load(state_path, email=email, token=secret, pat=secret, dc=dc)
    return JiraSandbox.seeded(
        issues=issues,
        seed=seed,
        project=project,
        dc=dc,
        email=email or DEFAULT_EMAIL,
        token=secret,
        pat=secret,
        bare=bare,
    )


def describe_sandbox(sandbox: JiraSandbox, *, url: str, token_given: bool) -> list[str]:
    """Return the lines printed at start: URL, mode, and the credentials to use.

    A token the user chose is never echoed back; only the sandbox's default is printed.
    """
    count = len(sandbox.stored_issues())
    mode = "Data Center mode (REST v2, bearer PAT)" if sandbox.dc else "Cloud mode (REST v3 and v2)"
    lines = [f"Sandbox Jira, {mode}: project {sandbox.project}, {count} issues, at {url}"]
    missing = [f for f in OUTPUT_FIELD_IDS if f not in sandbox.fields]
    if missing:
        lines.append("  without priosync's output fields: `priosync setup` creates them")
    shown = (
        "<the token you passed>" if token_given else (sandbox.pat if sandbox.dc else sandbox.token)
    )
    if sandbox.dc:
        lines.append(f"  JIRA_PAT={shown}")
    else:
        lines += [f"  JIRA_EMAIL={sandbox.email}", f"  JIRA_API_TOKEN={shown}"]
    lines.append(
        f"  edit as a person: priosync sandbox edit {sandbox.project}-1 Reach=500 --url {url}"
    )
    lines.append("Press Ctrl-C to stop.")
    return lines


def run_jira_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    issues: int = 200,
    seed: int = 7,
    project: str = "WEB",
    email: str | None,
    token: str | None,
    state_path: Path | None,
    dc: bool,
    echo: Callable[[str], None],
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    bare: bool = False,
) -> None:
    """Serve a sandbox Jira at ``http://host:port`` until interrupted; save state on exit.

    With ``webhook_url`` every change is POSTed there as a signed ``jira:issue_updated``.
    """
    sandbox = build_sandbox(
        issues=issues,
        seed=seed,
        project=project,
        email=email,
        token=token,
        state_path=state_path,
        dc=dc,
        bare=bare,
    )
    url = f"http://{host}:{port}"
    sandbox.site_url = url
    sandbox.webhook_url = webhook_url
    sandbox.webhook_secret = webhook_secret
    for line in describe_sandbox(sandbox, url=url, token_given=token is not None):
        echo(line)
    if webhook_url:
        echo(f"Webhooks: {webhook_url} ({'signed' if webhook_secret else 'unsigned'})")
    server = GracefulServer(
        uvicorn.Config(
            create_jira_app(sandbox), host=host, port=port, log_level="warning", lifespan="off"
        )
    )
    try:
        server.run()  # returns on Ctrl-C or SIGTERM (GracefulServer), so the state is saved
    finally:
        if state_path is not None:
            sandbox.save(state_path)
            echo(f"State saved to {state_path}")
