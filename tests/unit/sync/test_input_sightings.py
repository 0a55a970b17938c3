"""What was seen of items' inputs ([scoring.freshness]) is kept in either state store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync import audit
from sync.audit import SqliteAuditLog
from sync.input_state import AuditInputState, Sighting, SqliteInputState
from tests.unit.sync.conftest import OpenStore

SEEN = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
CHANGED = datetime(2026, 6, 2, 17, 5, tzinfo=UTC)


class TestInputSightings:
    def test_kept_per_source_and_replaced_per_item(self, open_store: OpenStore) -> None:
        """Sightings come back exactly as recorded, per source; recording an item again
        replaces its row; another process opening the store sees them."""
        state = AuditInputState(open_store())
        state.record(
            "web",
            [
                Sighting("WEB-1", "d1", SEEN, updated_at=SEEN, changed_at=CHANGED),
                Sighting("WEB-2", "d2", SEEN),
            ],
        )
        state.record("app", [Sighting("WEB-1", "other", SEEN)])
        state.record("web", [Sighting("WEB-2", "d2-new", CHANGED, changed_at=CHANGED)])
        later = AuditInputState(open_store())
        assert later.sightings("web") == {
            "WEB-1": Sighting("WEB-1", "d1", SEEN, updated_at=SEEN, changed_at=CHANGED),
            "WEB-2": Sighting("WEB-2", "d2-new", CHANGED, changed_at=CHANGED),
        }
        assert later.sightings("app") == {"WEB-1": Sighting("WEB-1", "other", SEEN)}
        assert later.sightings("gone") == {}

    def test_a_rescore_loads_only_the_items_it_dates(
        self, open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``sightings(source, items)`` answers those items only, however many queries the
        ``IN`` lists take (2 a query here)."""
        monkeypatch.setattr(audit, "SIGHTINGS_PER_QUERY", 2)
        state = AuditInputState(open_store())
        state.record("web", [Sighting(f"WEB-{n}", f"d{n}", SEEN) for n in range(1, 8)])
        wanted = ["WEB-2", "WEB-5", "WEB-7", "WEB-99", "WEB-3"]
        found = state.sightings("web", wanted)
        assert found == {
            k: Sighting(k, f"d{k[4:]}", SEEN) for k in ("WEB-2", "WEB-3", "WEB-5", "WEB-7")
        }
        assert len(state.sightings("web")) == 7

    def test_the_read_only_view_filters_the_same_way(self, tmp_path: Path) -> None:
        """plan and rank read sightings through a read-only SQLite view: same answers."""
        log = SqliteAuditLog(tmp_path / "audit.sqlite3")
        AuditInputState(log).record("web", [Sighting(f"WEB-{n}", "d", SEEN) for n in range(1, 4)])
        log.close()
        view = SqliteInputState(tmp_path / "audit.sqlite3", readonly=True)
        assert set(view.sightings("web", ["WEB-1", "WEB-3"])) == {"WEB-1", "WEB-3"}
        view.close()
