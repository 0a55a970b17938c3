"""The CLI's event-loop runner: the result comes back and is never turned into text."""

from __future__ import annotations

from cli.main import run


class ReprCounting:
    """A result that counts how often it is shown as text."""

    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "ReprCounting()"


class TestRun:
    def test_returns_the_result_without_ever_building_its_repr(self) -> None:
        """A backlog-sized result is handed back as is; asyncio's shutdown never reprs it."""
        result = ReprCounting()

        async def produce() -> ReprCounting:
            return result

        assert run(produce()) is result
        assert result.reprs == 0
