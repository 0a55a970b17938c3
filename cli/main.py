"""The ``priosync`` command line: parse arguments, call one function, return an exit code.

Exit codes (design §6): 0 done; 1 bad config or usage (nothing written); 2 a tracker was
unreachable or refused the credentials; 3 some writes failed (the rest landed);
4 ``plan --detailed-exitcode`` with changes pending.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

import typer
from rich.console import Console

from config import LoadedConfig, load_config
from priosync.domain import FieldInfo
from priosync.errors import (
    ConfigError,
    PriosyncError,
)
from priosync.logs import configure as configure_logging
from reports.literal import literal

if TYPE_CHECKING:
    from cli.signals import StopOnSignal
    from config.models import PriosyncConfig
    from reports.metrics import SourceSplit
    from reports.text import Format as TextFormat
    from sync.pipeline import SyncOutcome
    from sync.standings import StandingsFile
    from sync.state import StateLocation

from cli import exit_codes

EXIT_OK, EXIT_CONFIG, EXIT_TRACKER = exit_codes.OK, exit_codes.CONFIG, exit_codes.TRACKER
EXIT_WRITES, EXIT_PENDING = exit_codes.WRITES, exit_codes.PENDING

app = typer.Typer(
    name="priosync",
    help=(
        "Score a Jira or GitHub backlog with RICE, ICE or WSJF and write the score, the priority "
        "and roadmap labels (now / next / later) back where the team works.\n\n"
        "Start with `priosync demo` (no account needed), then `priosync init`."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Locals in a traceback could hold a token: never show them.
    pretty_exceptions_show_locals=False,
)
sandbox_app = typer.Typer(
    help="Run a local tracker on loopback that speaks the real API, to try priosync against.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    html = "html"


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file. Default: $PRIOSYNC_CONFIG, else ./priosync.toml.",
        show_default=False,
    ),
]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--source", "-s", help="Only this source (by name); repeat for several.", show_default=False
    ),
]


class DataFormat(enum.StrEnum):
    """The formats of commands that print data rather than a plan: a table, or JSON."""

    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DataFormatOpt = Annotated[
    DataFormat, typer.Option("--format", "-f", help="Output format (JSON: README, 'JSON output').")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log each request (never secrets).")
]
StateOpt = Annotated[
    str | None,
    typer.Option(
        "--state",
        envvar="PRIOSYNC_STATE",
        help="Audit log: a SQLite file, or a postgresql://user@host/db URL (password from "
        "PGPASSWORD). Default: ~/.local/state/priosync/audit.sqlite3.",
        show_default=False,
    ),
]


def webhook_option(variable: str) -> Any:
    return typer.Option(
        help=f"POST a signed webhook here on each change; secret from ${variable}.",
        show_default=False,
    )


T = TypeVar("T")


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=None if _is_tty() else 200)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, width=None if _is_tty() else 200)


def _is_tty() -> bool:
    return os.isatty(1)


def exits_cleanly(func: Callable[..., int]) -> Callable[..., None]:
    """Turn our errors into a one-line message and the documented exit code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = func(*args, **kwargs)
        except PriosyncError as exc:
            err_console().print(literal(f"error: {exc}", limit=None))
            code = exit_codes.for_error(exc)
        raise typer.Exit(code)

    return wrapper


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion; its result comes back outside the event loop's main task.

    On the way out ``asyncio.run`` restores the SIGINT handler, and ``signal.signal`` then
    builds a ValueError message from the repr of the handler it replaced: a partial holding
    the main task, whose repr holds the task's result. Were that the ranking, its repr would
    be the whole backlog as one string (230 MB at 50,000 items, for nothing).
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    asyncio.run(main())
    return box[0]


def setup_logging(verbose: bool) -> None:
    configure_logging(logging.DEBUG if verbose else logging.WARNING)
    # httpx logs full URLs at INFO; ours redact, theirs we keep quiet unless verbose.
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)


def load(config: Path | None) -> LoadedConfig:
    return load_config(config)


# ── rank / plan / sync ───────────────────────────────────────────────────────────────────


@app.command()
@exits_cleanly
def rank(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: FormatOpt = Format.table,
    verbose: VerboseOpt = False,
    state: StateOpt = None,
) -> int:
    """Show the ranked backlog: score and its terms, priority tier, roadmap bucket, missing inputs."""
    from reports.text import render_rank

    setup_logging(verbose)
    loaded = load(config)
    outcome = run(plan_only(loaded, source, state, fmt))
    if fmt == Format.html:
        write_html(outcome, loaded, view="rank")
    else:
        render_rank(
            outcome.plan.ranking,
            text_format(fmt),
            out_console(),
            splits=metric_splits_of(loaded.config, outcome.plan.ranking),
            with_freshness=loaded.config.scoring.freshness is not None,
        )
    return report_read_failures(outcome.reads)


async def plan_only(
    loaded: LoadedConfig, source: list[str] | None, state: str | Path | None, fmt: Format
) -> SyncOutcome:
    """Read and plan, writing nothing: the input state (first sightings, cached history) is
    read, never written, so `plan` and `rank` agree with what `sync` would do. The last
    sync's standings are read only for the HTML report, the one output that compares."""
    from sync.input_state import open_input_state
    from sync.pipeline import run_sync
    from sync.state import resolve_state

    location = resolve_state(state, loaded.config.state)
    inputs = None
    if loaded.config.scoring.freshness is not None and location.path is not None:
        inputs = open_input_state(location.path, readonly=True)
    try:
        return await run_sync(
            loaded,
            only=source or (),
            standings=standings_at(location),
            state=inputs,
            with_baseline=fmt == Format.html,
        )
    finally:
        if inputs is not None:
            inputs.close()


def metric_splits_of(config: PriosyncConfig, ranking: Any) -> list[SourceSplit] | None:
    """How each bucket's capacity splits across the key metrics; None without metrics."""
    from reports.metrics import metric_splits

    metrics = config.scoring.metrics
    if metrics is None:
        return None
    return metric_splits(
        ranking,
        effort_input=config.scoring.effort,
        targets=metrics.targets,
        per_source=config.scoring.ranking == "per-source",
    )


@app.command()
@exits_cleanly
def plan(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: FormatOpt = Format.table,
    verbose: VerboseOpt = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 4 when changes are pending.")
    ] = False,
    state: StateOpt = None,
) -> int:
    """Read and score, then print the changes a sync would make. Writes nothing."""
    setup_logging(verbose)
    loaded = load(config)
    outcome = run(plan_only(loaded, source, state, fmt))
    show_plan(outcome, loaded, fmt, out_console())
    code = report_read_failures(outcome.reads)
    if code == EXIT_OK and detailed_exitcode and (outcome.plan.changes or outcome.plan.moves):
        return EXIT_PENDING
    return code


@app.command()
@exits_cleanly
def sync(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: FormatOpt = Format.table,
    verbose: VerboseOpt = False,
    state: StateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    max_writes: Annotated[
        int | None,
        typer.Option(
            "--max-writes",
            min=0,
            help="Write at most N items (a request of up to 50 moves counts as one); the next "
            "run does the rest.",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read every issue in full, not only those updated since the last sync "
            "([sync] incremental).",
        ),
    ] = False,
) -> int:
    """Plan, then write the changes: only what differs, recorded in the audit log."""
    from cli.progress import WriteProgress
    from cli.signals import StopOnSignal
    from sync.pipeline import run_sync
    from sync.state import open_audit, resolve_state

    setup_logging(verbose)
    loaded = load(config)
    console = out_console()
    if dry_run:
        outcome = run(plan_only(loaded, source, state, fmt))
        show_plan(outcome, loaded, fmt, console)
        return report_read_failures(outcome.reads)
    location = resolve_state(state, loaded.config.state)
    audit = open_audit(location)
    standings = standings_at(location)
    progress_console = err_console() if fmt != Format.table else console
    stop = StopOnSignal()

    async def write() -> SyncOutcome:
        with stop.installed():
            return await run_sync(
                loaded,
                only=source or (),
                write=True,
                max_writes=max_writes,
                audit=audit,
                on_plan=progress.start,
                on_result=progress.tick,
                stop=stop.event,
                standings=standings,
                with_baseline=fmt == Format.html,  # the one output that compares
                on_move=progress.tick_move,
                full=full,
            )

    try:
        with WriteProgress(progress_console) as progress:
            outcome = run(write())
    except asyncio.CancelledError:
        # A second signal: what was in flight stays pending; the next run resolves it.
        err_console().print(
            literal(
                f"priosync sync: stopped at once by a second {signal_name(stop)}; writes in "
                "flight are recorded as pending and the next sync resolves them",
                limit=None,
            )
        )
        return stop.exit_code
    finally:
        audit.close()
    assert outcome.report is not None
    show_plan(outcome, loaded, fmt, console, outcome.report)
    if stop.received is not None:
        err_console().print(literal(interrupted_line(outcome, stop), limit=None))
        return stop.exit_code
    code = report_read_failures(outcome.reads)
    if code != EXIT_OK:
        return code
    return exit_codes.for_writes(outcome.report)


def signal_name(stop: StopOnSignal) -> str:
    return stop.received.name if stop.received is not None else "signal"


def interrupted_line(outcome: SyncOutcome, stop: StopOnSignal) -> str:
    """One line: which signal, what was written, what is left, where the run is recorded."""
    report = outcome.report
    assert report is not None
    total = len(outcome.plan.changes)
    line = (
        f"priosync sync: interrupted by {signal_name(stop)}: {len(report.written)} of {total} "
        f"changes written, {len(report.failed)} failed, {len(report.left)} left for the next run"
    )
    if report.unsettled:
        line += f" ({len(report.unsettled)} in flight recorded as pending)"
    if outcome.plan.moves:
        line += (
            f"; {len(report.moved)} of {len(outcome.plan.moves)} moves landed, "
            f"{len(report.moves_left)} left"
        )
    if outcome.run_id is not None:
        line += f"; run {outcome.run_id} is recorded as interrupted"
    return line


def text_format(fmt: Format) -> TextFormat:
    """The report formats the text renderers take (html has its own renderer)."""
    if fmt == Format.html:
        raise ValueError("html is rendered by write_html")
    return cast("TextFormat", fmt.value)


def show_plan(
    outcome: SyncOutcome, loaded: LoadedConfig, fmt: Format, console: Console, report: Any = None
) -> None:
    from reports.text import render_plan

    if fmt == Format.html:
        write_html(outcome, loaded, view="plan")
    else:
        render_plan(outcome.plan, text_format(fmt), console, report)


def standings_at(location: StateLocation) -> StandingsFile | None:
    """The standings file beside a SQLite audit log; None for a PostgreSQL state, whose
    database does not keep standings yet (the report then shows no movement)."""
    from sync.standings import StandingsFile

    return StandingsFile.beside(location.path) if location.path is not None else None


def write_html(
    outcome: SyncOutcome, loaded: LoadedConfig, *, view: Literal["rank", "plan"]
) -> None:
    """The self-contained HTML report (movement, roadmap, ranking, changes) on stdout."""
    from datetime import UTC, datetime

    from reports.html import html_parts
    from reports.overview import ReportSettings
    from reports.stream import write_lines

    plan = outcome.plan
    names = ", ".join(sorted({r.item.source for r in plan.ranking})) or "backlog"
    generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    splits = metric_splits_of(loaded.config, plan.ranking) or []
    parts = html_parts(
        plan,
        title=f"priosync · {names}",
        generated_at=generated_at,
        settings=ReportSettings.from_config(loaded.config),
        baseline=outcome.baseline,
        view=view,
        splits=splits,
    )
    write_lines(sys.stdout, parts)


def report_read_failures(reads: Any) -> int:
    if not reads.failures:
        return EXIT_OK
    console = err_console()
    for failure in reads.failures:
        console.print(
            literal(
                f"error: source {failure.source} could not be read, so nothing was planned or "
                f"written for it: {failure.error}",
                limit=None,
            )
        )
    # A field the config names but the tracker lacks is the config's fault, not the tracker's.
    return max(exit_codes.for_error(f.error) for f in reads.failures)


# ── demo ─────────────────────────────────────────────────────────────────────────────────


@app.command()
@exits_cleanly
def demo(
    issues: Annotated[
        int, typer.Option(help="Issues to seed in the sandbox.", min=5, max=2000)
    ] = 40,
    seed: Annotated[int, typer.Option(help="Seed for the sandbox backlog.")] = 7,
) -> int:
    """Run read → score → plan → write against an embedded sandbox Jira. No account, no network."""
    from cli.demo import run_demo

    return run(run_demo(out_console(), issues=issues, seed=seed))


# ── serve ────────────────────────────────────────────────────────────────────────────────


@app.command()
@exits_cleanly
def serve(
    config: ConfigOpt = None,
    state: StateOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address. Default: server.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Port. Default: server.port.")] = None,
    accept_unsigned: Annotated[
        bool,
        typer.Option(
            "--accept-unsigned",
            help="Accept webhooks without a configured secret. Only for trying things out.",
        ),
    ] = False,
    verbose: VerboseOpt = False,
) -> int:
    """Rescore issues within seconds of a webhook, and run the full sync on the configured schedule."""
    from service import run_service

    setup_logging(verbose)
    logging.getLogger("priosync").setLevel(logging.DEBUG if verbose else logging.INFO)
    return run_service(
        load(config),
        host=host,
        port=port,
        accept_unsigned=accept_unsigned,
        state_path=state,
        echo=lambda line: err_console().print(line, markup=False),
    )


# ── fields / check / init ────────────────────────────────────────────────────────────────


@app.command()
@exits_cleanly
def fields(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: DataFormatOpt = DataFormat.table,
    verbose: VerboseOpt = False,
) -> int:
    """List the tracker's fields (name, id, type, options) to map inputs and outputs."""
    from reports.text import render_fields
    from sync.pipeline import open_connector, select_sources

    setup_logging(verbose)
    loaded = load(config)

    async def read_fields() -> dict[str, list[FieldInfo]]:
        found: dict[str, list[FieldInfo]] = {}
        for src in select_sources(loaded.config, source or ()):
            connector = open_connector(src, loaded.config)
            try:
                found[src.name] = await connector.fields()
            finally:
                await connector.aclose()
        return found

    render_fields(run(read_fields()), fmt.value, out_console())
    return EXIT_OK


@app.command()
def check(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: DataFormatOpt = DataFormat.table,
    verbose: VerboseOpt = False,
) -> None:
    """Check config, credentials, field mapping, option names and write permission; exit 1 on any problem."""
    from cli.check import check_everything
    from reports.text import render_checks

    setup_logging(verbose)
    results = run(check_everything(config, source or ()))
    render_checks(results, fmt.value, out_console())
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_CONFIG)


@app.command()
@exits_cleanly
def init(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            "--path",
            help="Where to write the config. Default: $PRIOSYNC_CONFIG, else ./priosync.toml.",
            show_default=False,
        ),
    ] = None,
    kind: Annotated[str, typer.Option(help="Source kind: jira, github or file.")] = "jira",
    url: Annotated[str | None, typer.Option(help="Jira site URL (jira).")] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="GitHub API root (github): GitHub Enterprise Server https://HOST/api/v3, or "
            "the sandbox's http://127.0.0.1:8081. Default: api.github.com.",
            show_default=False,
        ),
    ] = None,
    jql: Annotated[str | None, typer.Option(help="JQL for the backlog (jira).")] = None,
    project: Annotated[
        str | None, typer.Option(help="GitHub Project as owner/number (github).")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="CSV/JSON backlog (file).")] = None,
    discover: Annotated[
        bool | None,
        typer.Option(
            "--discover/--no-discover",
            help="Ask the tracker for its fields and pre-fill the mapping. "
            "Default: when a source and its credentials are given.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> int:
    """Write a commented starter priosync.toml."""
    from cli.init import write_starter_config

    path = config or Path(os.environ.get("PRIOSYNC_CONFIG") or "priosync.toml")
    written, note = run(
        write_starter_config(
            path,
            kind=kind,
            url=url,
            jql=jql,
            project=project,
            file=file,
            discover=discover,
            force=force,
            api_url=api_url,
        )
    )
    console = out_console()
    if note:
        console.print(note, markup=False)
    follow = (
        f"`priosync rank --config {written}` (a file source is read-only)"
        if kind == "file"
        else f"`priosync setup --config {written}` creates the fields it marks, then "
        f"`priosync sync --config {written}`"
    )
    console.print(f"wrote {written}; next: {follow}", markup=False)
    return EXIT_OK


@app.command()
@exits_cleanly
def setup(
    config: ConfigOpt = None,
    source: SourceOpt = None,
    fmt: DataFormatOpt = DataFormat.table,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what setup would create; create nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Create without asking (scripts; needed off a terminal)."),
    ] = False,
    verbose: VerboseOpt = False,
) -> int:
    """Create the fields, options and labels the config's outputs need and the tracker lacks.

    Shows what it would create and asks first on a terminal; --yes for scripts, --dry-run to
    only look. A second setup finds nothing to do.
    """
    from cli.setup import run_setup
    from reports.setup import render_plans, render_reports, setup_document, summary
    from reports.text import write_json

    setup_logging(verbose)
    if not (dry_run or yes or _is_tty_in()):
        raise ConfigError(
            "setup creates fields and labels in the tracker; off a terminal it cannot ask, so "
            "pass --yes (or --dry-run to only look)",
            key="--yes",
        )
    loaded = load(config)
    console = out_console()

    def confirm(plans: list[Any]) -> bool:
        if fmt == DataFormat.table:
            render_plans(plans, "table", console)
        elif not (yes or dry_run):
            render_plans(plans, "table", err_console())  # stdout carries the JSON only
        if dry_run:
            return False
        return yes or typer.confirm("Create these?", default=False)

    outcome = run(run_setup(loaded, source or (), confirm=confirm))
    if fmt == DataFormat.json:
        write_json(
            console, setup_document(outcome.plans, outcome.reports, dry_run=not outcome.applied)
        )
        return outcome.exit_code
    if not outcome.applied:
        if not any(p.steps for p in outcome.plans):
            render_plans(outcome.plans, "table", console)
        else:
            console.print("nothing was created", markup=False)
        return outcome.exit_code
    render_reports(outcome.plans, outcome.reports, "table", console)
    console.print(summary(outcome.plans, outcome.reports), markup=False)
    if outcome.exit_code == EXIT_OK:
        console.print(f"next: `priosync sync --config {loaded.path}`", markup=False)
    return outcome.exit_code


# ── history / revert ─────────────────────────────────────────────────────────────────────


@app.command()
@exits_cleanly
def history(
    state: StateOpt = None,
    config: ConfigOpt = None,
    item: Annotated[str | None, typer.Option(help="Show every write to this item.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs to show.", min=1)] = 20,
    fmt: DataFormatOpt = DataFormat.table,
) -> int:
    """Show past runs, or every write to one item, from the audit log.

    Writes whose outcome is unknown (a run that crashed or was interrupted) are first
    checked against the tracker when the config and credentials are at hand.
    """
    from cli.history import render_history
    from sync.pipeline import resolve_pending_writes
    from sync.state import open_audit, resolve_state

    loaded = _try_load(config)
    audit = open_audit(resolve_state(state, loaded.config.state if loaded else None))
    try:
        if loaded is not None:
            try:
                run(resolve_pending_writes(loaded, audit))
            except PriosyncError as exc:
                err_console().print(
                    literal(
                        f"note: writes with an unknown outcome stay 'pending' (the tracker "
                        f"could not be read: {exc}); the next sync resolves them",
                        limit=None,
                    )
                )
        render_history(audit, out_console(), item=item, limit=limit, fmt=fmt.value)
    finally:
        audit.close()
    return EXIT_OK


@app.command()
@exits_cleanly
def revert(
    run_id: Annotated[
        int, typer.Argument(metavar="RUN", help="The run to undo (see `priosync history`).")
    ],
    config: ConfigOpt = None,
    state: StateOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written back; write nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Write back without asking (scripts; needed off a terminal)."
        ),
    ] = False,
    verbose: VerboseOpt = False,
) -> int:
    """Write back what a run replaced, only where the tracker still holds what that run wrote.

    Shows what it would restore and asks first on a terminal; --yes for scripts, --dry-run
    to only look.
    """
    from cli.history import ask_to_revert, show_revert
    from sync.revert import revert_run
    from sync.state import open_audit, resolve_state

    setup_logging(verbose)
    if not (dry_run or yes or _is_tty_in()):
        raise ConfigError(
            "revert writes to the tracker; off a terminal it cannot ask, so pass --yes "
            "(or --dry-run to only look)",
            key="--yes",
        )
    loaded = load(config)
    audit = open_audit(resolve_state(state, loaded.config.state))
    console = out_console()
    try:
        reverted = run(
            revert_run(
                loaded,
                audit,
                run_id,
                confirm=lambda plan: (not dry_run) and (yes or ask_to_revert(plan, console)),
            )
        )
    finally:
        audit.close()
    show_revert(reverted, console, dry_run=dry_run)
    if reverted.applied is None:
        return EXIT_OK
    return exit_codes.for_writes(reverted.applied.report)


@app.command()
@exits_cleanly
def migrate(config: ConfigOpt = None, state: StateOpt = None) -> int:
    """Create or upgrade the state store's schema (SQLite or PostgreSQL), then exit.

    `serve`, `sync` and `history` migrate on start too; run this first to upgrade a store
    several replicas share before rolling them out. Safe to run from several places at once.
    """
    from sync.state import open_audit, resolve_state

    loaded = _try_load(config)
    location = resolve_state(state, loaded.config.state if loaded else None)
    open_audit(location).close()
    out_console().print(literal(f"state store {location.display} is up to date", limit=None))
    return EXIT_OK


def _is_tty_in() -> bool:
    return os.isatty(0) and os.isatty(1)


def _try_load(config: Path | None) -> LoadedConfig | None:
    """The config when there is a valid one; history works without it."""
    try:
        return load(config)
    except ConfigError:
        return None


# ── sandbox ──────────────────────────────────────────────────────────────────────────────


BARE_OPTION = typer.Option(
    "--bare",
    help="Start without priosync's output fields (score, explanation, rank; on GitHub also "
    "the Priority field and roadmap labels), as a tracker `priosync setup` has not set up.",
)


@sandbox_app.command("jira")
@exits_cleanly
def sandbox_jira(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    issues: Annotated[
        int, typer.Option(help="Issues to seed (10 to 50,000).", min=10, max=50_000)
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed for the backlog and faults.")] = 7,
    project: Annotated[str, typer.Option(help="Project key.")] = "WEB",
    email: Annotated[
        str | None, typer.Option(help="Account email to accept (default demo@example.com).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="API token / PAT to accept (default sandbox-token / sandbox-pat)."),
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Load from and save to this JSON file.")
    ] = None,
    dc: Annotated[
        bool, typer.Option("--dc", help="Behave as Jira Data Center (REST v2, PAT).")
    ] = False,
    webhook_url: Annotated[str | None, webhook_option("PRIOSYNC_JIRA_WEBHOOK_SECRET")] = None,
    bare: Annotated[bool, BARE_OPTION] = False,
) -> int:
    """A local Jira (Cloud REST v3, or Data Center with --dc) seeded with a realistic backlog."""
    from sandbox.jira import run_jira_sandbox

    run_jira_sandbox(
        port=port,
        issues=issues,
        seed=seed,
        project=project,
        email=email,
        token=token,
        state_path=state,
        dc=dc,
        echo=lambda line: out_console().print(line, markup=False),
        webhook_url=webhook_url,
        webhook_secret=os.environ.get("PRIOSYNC_JIRA_WEBHOOK_SECRET") or None,
        bare=bare,
    )
    return EXIT_OK


@sandbox_app.command("github")
@exits_cleanly
def sandbox_github(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    issues: Annotated[
        int, typer.Option(help="Issues to seed (10 to 50,000).", min=10, max=50_000)
    ] = 200,
    seed: Annotated[int, typer.Option(help="Seed for the backlog and faults.")] = 7,
    org: Annotated[str, typer.Option(help="Organization login.")] = "acme",
    repos: Annotated[str, typer.Option(help="Comma-separated repository names.")] = "app,web",
    token: Annotated[
        str | None, typer.Option(help="Token to accept (default sandbox-token).")
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Load from and save to this JSON file.")
    ] = None,
    webhook_url: Annotated[str | None, webhook_option("PRIOSYNC_GITHUB_WEBHOOK_SECRET")] = None,
    bare: Annotated[bool, BARE_OPTION] = False,
    points_per_hour: Annotated[
        int,
        typer.Option(
            help="Hourly budget of GraphQL points and of REST requests (github.com gives a "
            "personal token 5,000 each); raise it to read a large Project many times an hour.",
            min=1,
        ),
    ] = 5000,
) -> int:
    """A local GitHub (REST + GraphQL) with an organization, repositories and a Project."""
    from sandbox.github import run_github_sandbox

    run_github_sandbox(
        port=port,
        issues=issues,
        seed=seed,
        org=org,
        repos=tuple(r.strip() for r in repos.split(",") if r.strip()),
        token=token,
        state_path=state,
        echo=lambda line: out_console().print(line, markup=False),
        webhook_url=webhook_url,
        webhook_secret=os.environ.get("PRIOSYNC_GITHUB_WEBHOOK_SECRET") or None,
        bare=bare,
        points_per_hour=points_per_hour,
    )
    return EXIT_OK


@sandbox_app.command("edit")
@exits_cleanly
def sandbox_edit(
    item: Annotated[
        str,
        typer.Argument(metavar="ITEM", help="A Jira key (WEB-12) or a GitHub issue (acme/app#12)."),
    ],
    values: Annotated[
        list[str],
        typer.Argument(
            metavar="FIELD=VALUE...",
            help="Fields as the tracker names them, e.g. Reach=800 Impact=High; empty clears.",
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(
            help="The running sandbox. Default: http://127.0.0.1:8080 (Jira), :8081 (GitHub).",
            show_default=False,
        ),
    ] = None,
    project: Annotated[int, typer.Option(help="The GitHub Project's number.")] = 1,
) -> int:
    """Edit a running sandbox's issue as a person would, so it sends its signed webhook.

    With `priosync serve` listening and the sandbox started with --webhook-url, the service
    rescores the issue within seconds.
    """
    from sandbox.person import EditError, edit

    try:
        done = run(edit(item, values, url=url, project=project))
    except EditError as exc:
        raise ConfigError(str(exc), key="priosync sandbox edit") from None
    changed = ", ".join(f"{name}={value}" for name, value in done.values)
    out_console().print(
        literal(f"edited {done.item} as {done.actor}: {changed}", limit=None), highlight=False
    )
    out_console().print(
        "a sandbox started with --webhook-url sends the tracker's webhook for it now",
        markup=False,
    )
    return EXIT_OK


def main() -> None:
    app()
