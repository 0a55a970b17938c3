"""What was seen of items' inputs ([scoring.freshness]) is kept in either state store."""

from __future__ import annotations

from datetime import UTC, datetime

from sync.input_state import AuditInputState, Sighting
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
