"""The standings file: what the report compares with, kept beside the audit log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from cli.demo import DEMO_CONFIG
from config import validate_config
from priosync.domain import RankedItem, Score, WorkItem
from sandbox.jira import JiraSandbox, create_jira_app
from sync.pipeline import run_sync
from sync.standings import KEEP, Standing, StandingsFile

SANDBOX_ENV = {"JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "sandbox-token"}


def ranked(key: str, rank: int | None, source: str = "web") -> RankedItem:
    item = WorkItem(key=key, title=key, url="", source=source, inputs={})
    value = None if rank is None else 100.0 / rank
    if rank is None:
        return RankedItem(item, Score(value=None))
    return RankedItem(item, Score(value=value), rank=rank, tier="High", bucket="now")


class TestStandingsFile:
    def test_round_trips_the_newest_first_and_keeps_a_few(self, tmp_path: Path) -> None:
        """Each record becomes the newest; only the last KEEP are kept, values intact."""
        store = StandingsFile(tmp_path / "audit.standings.json")
        for n in range(KEEP + 2):
            store.record(
                [ranked("WEB-1", n + 1), ranked("WEB-2", None), ranked("APP-1", 1, "app")],
                at=f"2025-06-0{n + 1}T09:00:00+00:00",
                sources=["web"],
                run_id=n,
            )
        loaded = store.load()
        assert [s.run_id for s in loaded] == [KEEP + 1, KEEP, KEEP - 1][:KEEP]
        assert loaded[0].items == {
            ("web", "WEB-1"): Standing(rank=KEEP + 2, tier="High", bucket="now", score=100.0 / (KEEP + 2)),
            ("web", "WEB-2"): Standing(rank=None, tier=None, bucket=None, score=None),
        }  # fmt: skip
        assert loaded[0].covers("web")
        assert not loaded[0].covers("app")
        assert store.latest(before="2025-06-02T00:00:00+00:00") is None
        assert store.latest(before="2025-06-04T00:00:00+00:00").run_id == 2  # type: ignore[union-attr]

    def test_what_stood_before_a_run(self, tmp_path: Path) -> None:
        """``before_run`` finds the run's own line by its head and answers the one after it,
        whatever the clock said (two syncs in one second have the same ``at``)."""
        store = StandingsFile(tmp_path / "audit.standings.json")
        for run in (1, 2, 3):
            store.record(
                [ranked("WEB-1", run)], at="2025-06-01T09:00:00+00:00", sources=["web"], run_id=run
            )
        assert store.before_run(3).run_id == 2  # type: ignore[union-attr]
        assert store.before_run(2).run_id == 1  # type: ignore[union-attr]
        assert store.before_run(1) is None
        assert store.before_run(99) is None
        assert store.before_run(None).run_id == 3  # type: ignore[union-attr]

    def test_a_missing_or_broken_file_means_no_earlier_sync(self, tmp_path: Path) -> None:
        """Nothing to compare with is not an error: no file, bad JSON, a wrong shape."""
        store = StandingsFile(tmp_path / "s.json")
        assert store.latest() is None
        for text in ("{not json", '{"syncs": 3}', '{"syncs": [{"at": 1}]}', "[" * 100_000):
            store.path.write_text(text)
            assert store.load() == []
        store.path.unlink()
        store.path.mkdir()
        assert store.load() == []

    def test_lives_beside_the_audit_log(self) -> None:
        """``/state/audit.sqlite3`` keeps its standings in ``/state/audit.standings.json``."""
        beside = StandingsFile.beside(Path("/state/audit.sqlite3"))
        assert beside.path == Path("/state/audit.standings.json")


class TestRunSync:
    def test_a_sync_records_and_the_next_run_compares_with_it(self, tmp_path: Path) -> None:
        """A plan sees no baseline before the first sync; after it, that sync's standings."""
        sandbox = JiraSandbox.seeded(issues=30, seed=5)
        transports = {"web": httpx.ASGITransport(app=create_jira_app(sandbox))}
        loaded = validate_config(DEMO_CONFIG, file=Path("demo"), environ={})
        store = StandingsFile(tmp_path / "audit.standings.json")

        def sync(write: bool) -> object:
            return asyncio.run(
                run_sync(
                    loaded,
                    environ=SANDBOX_ENV,
                    transports=transports,
                    write=write,
                    standings=store,
                )
            )

        first = sync(write=False)
        assert first.baseline is None  # type: ignore[attr-defined]
        assert not store.path.exists()  # a plan records nothing
        wrote = sync(write=True)
        assert wrote.baseline is None  # type: ignore[attr-defined]
        after = sync(write=False)
        baseline = after.baseline  # type: ignore[attr-defined]
        assert baseline is not None
        assert baseline.sources == {"web"}
        ranks = {r.item.key: r.rank for r in after.plan.ranking}  # type: ignore[attr-defined]
        assert {k[1]: s.rank for k, s in baseline.items.items()} == ranks
