"""Progress for long writes: a bar on a terminal, plain lines elsewhere (CI, NO_COLOR, pipes)."""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from priosync.domain import MoveResult, Plan, WriteResult
from reports.literal import literal


def wants_bar(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("NO_COLOR") and not os.environ.get("CI")


class WriteProgress:
    """Started once the plan exists (the total is known then); ticked once per settled write."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.total = 0
        self.done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> WriteProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, plan: Plan) -> None:
        self.total = len(plan.changes) + len(plan.moves)
        if self.total and wants_bar(self.console):
            self._bar = Progress(
                TextColumn("writing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._task = self._bar.add_task("writing", total=self.total)
            self._bar.start()

    def tick(self, result: WriteResult) -> None:
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
            return
        if not result.ok:
            self.console.print(literal(f"failed {result.change.key}: {result.error}", limit=None))
        self._line()

    def tick_move(self, result: MoveResult) -> None:
        """A move settled: it counts like a write."""
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
            return
        if not result.ok:
            self.console.print(
                literal(f"failed to move {result.move.key}: {result.error}", limit=None)
            )
        self._line()

    def _line(self) -> None:
        step = max(1, self.total // 10)
        if self.done % step == 0 or self.done == self.total:
            self.console.print(f"written {self.done}/{self.total}", markup=False)
