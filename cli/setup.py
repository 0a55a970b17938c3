"""`priosync setup`: create what the config's outputs need and the tracker lacks.

For each selected source: plan (reads only), show the plan, then — after a yes at the
terminal, or with ``--yes`` — apply it. ``--dry-run`` stops after showing. Exit codes: 0 when
every source is set up (or was already); 1 when something is left to a person (a field of
the wrong type, options Data Center cannot add); 2 when a permission is missing or a tracker
could not be read; 3 when a step failed or was never reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cli import exit_codes
from config import LoadedConfig
from connectors.base import Connector
from connectors.setup import SetupPlan, SetupReport
from priosync.errors import PriosyncError
from sync.pipeline import open_connector, select_sources


@dataclass
class SetupRun:
    """What a setup run planned and, when it applied, what each source's steps did."""

    plans: list[SetupPlan] = field(default_factory=list)
    reports: list[SetupReport] = field(default_factory=list)
    applied: bool = False

    @property
    def exit_code(self) -> int:
        if any(r.not_done or any(not x.ok for x in r.results) for r in self.reports):
            return exit_codes.WRITES
        if any(p.blocked for p in self.plans):
            return exit_codes.TRACKER
        if any(p.problems for p in self.plans) or any(r.problems for r in self.reports):
            return exit_codes.CONFIG
        return exit_codes.OK


async def plan_setup_for(connector: Connector) -> SetupPlan:
    """The setup plan of one source, by its kind; a file source has nothing to set up."""
    from connectors.github.common import GitHubSourceConnector
    from connectors.jira.connector import JiraConnector

    if isinstance(connector, JiraConnector):
        from connectors.jira.setup import plan_setup

        return await plan_setup(connector)
    if isinstance(connector, GitHubSourceConnector):
        from connectors.github.setup import plan_setup as plan_github

        return await plan_github(connector)
    return SetupPlan(connector.name, "a read-only file: its ranking is shown, never written")


async def apply_setup_for(connector: Connector, plan: SetupPlan) -> SetupReport:
    from connectors.github.common import GitHubSourceConnector
    from connectors.jira.connector import JiraConnector

    if not plan.steps:
        return SetupReport(plan)
    if isinstance(connector, JiraConnector):
        from connectors.jira.setup import apply_setup

        return await apply_setup(connector, plan)
    assert isinstance(connector, GitHubSourceConnector)
    from connectors.github.setup import apply_setup as apply_github

    return await apply_github(connector, plan)


async def run_setup(
    loaded: LoadedConfig,
    only: Sequence[str],
    *,
    confirm: Callable[[list[SetupPlan]], bool],
) -> SetupRun:
    """Plan every selected source, ask ``confirm`` with the plans, then apply them all.

    ``confirm`` shows the plans and says whether to go on (``--dry-run`` says no).
    """
    run = SetupRun()
    connectors = [open_connector(s, loaded.config) for s in select_sources(loaded.config, only)]
    try:
        for connector in connectors:
            run.plans.append(await plan_setup_for(connector))
        if not any(p.steps for p in run.plans) or not confirm(run.plans):
            return run
        run.applied = True
        for connector, plan in zip(connectors, run.plans, strict=True):
            try:
                run.reports.append(await apply_setup_for(connector, plan))
            except PriosyncError as exc:
                report = SetupReport(plan, stopped=str(exc))
                run.reports.append(report)
        return run
    finally:
        for connector in connectors:
            await connector.aclose()
