"""The exit codes of design §6, and the one place they are decided from error types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from priosync.errors import (
    ChangeRejected,
    ConfigError,
    FieldMappingError,
    NotTheTracker,
    QueryRejected,
    TrackerError,
)

if TYPE_CHECKING:
    from sync.writer import WriteReport

#: Done.
OK = 0
#: Bad config or usage; nothing was written.
CONFIG = 1
#: A tracker was unreachable or refused the credentials.
TRACKER = 2
#: Some writes failed; the rest landed.
WRITES = 3
#: `plan --detailed-exitcode`: changes are pending.
PENDING = 4


def for_error(error: BaseException) -> int:
    """The exit code an error means: the config's fault, the tracker's, or one write's."""
    if isinstance(error, ConfigError | FieldMappingError | NotTheTracker | QueryRejected):
        return CONFIG
    if isinstance(error, ChangeRejected):
        return WRITES
    if isinstance(error, TrackerError):
        return TRACKER
    return CONFIG


def for_writes(report: WriteReport) -> int:
    """A write phase's exit code: a source that stopped says why (refused credentials → 2),
    single refused items or moves → 3; the most serious wins (1 before 2 before 3)."""
    failed = report.failed or report.move_failed
    codes = {for_error(e) for e in report.stopped.values()} | ({WRITES} if failed else set())
    return min(codes, default=OK)
