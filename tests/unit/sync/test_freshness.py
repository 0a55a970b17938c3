"""Dating inputs between read and score: the tracker's record first, cached in the state while
the input values stay as they were, else priosync's first sighting (kept across runs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from config.models import OutputsConfig
from config.secrets import BasicCredentials
from connectors.base import Connector
from connectors.http import RetryPolicy
from connectors.jira import JiraConnector
from priosync.domain import InputsChanged, WorkItem
from priosync.errors import TrackerUnavailable
from sandbox.jira import JiraSandbox, create_jira_app
from sync.audit import SqliteAuditLog
from sync.freshness import date_inputs, inputs_digest
from sync.input_state import Sighting, SqliteInputState, open_input_state
from tests.connectors.jira.conftest import EMAIL, INPUTS, TOKEN, fast_sleep, make_source

NOW = datetime(2025, 5, 20, tzinfo=UTC)
REACH = "customfield_10050"


def jira(sandbox: JiraSandbox) -> JiraConnector:
    return JiraConnector.from_config(
        make_source(deployment="cloud"),
        inputs=INPUTS,
        outputs=OutputsConfig(),
        credentials=BasicCredentials(email=EMAIL, token=SecretStr(TOKEN)),
        transport=httpx.ASGITransport(app=create_jira_app(sandbox)),
        retry=RetryPolicy(sleep=fast_sleep),
        history=True,
    )


def state_at(tmp_path: Path) -> SqliteInputState:
    SqliteAuditLog(tmp_path / "audit.sqlite3").close()  # creates the file and its tables
    return SqliteInputState(tmp_path / "audit.sqlite3")


def history_requests(sandbox: JiraSandbox) -> int:
    return sum(1 for e in sandbox.request_log if e.endpoint.endswith("/changelog/bulkfetch"))


class TestCaching:
    """History is read for items whose input values changed since it was cached."""

    async def test_second_run_reads_no_history_and_an_edit_reads_one(self, tmp_path: Path) -> None:
        """Run 1 asks for all 8, run 2 for none, and after a person edits one input, for that one."""
        sandbox = JiraSandbox.seeded(issues=8, seed=3)
        state = state_at(tmp_path)
        connector = jira(sandbox)
        first = await date_inputs(
            {"web": await connector.read()}, {"web": connector}, state=state, now=NOW
        )
        second = await date_inputs(
            {"web": await connector.read()}, {"web": connector}, state=state, now=NOW
        )
        edited = datetime(2025, 5, 1, 9, tzinfo=UTC)
        sandbox.now = lambda: edited
        sandbox.human_edit("WEB-3", fields={REACH: 31337})
        third = await date_inputs(
            {"web": await connector.read()}, {"web": connector}, state=state, now=NOW
        )
        await connector.aclose()
        assert [d.counts["web"].asked for d in (first, second, third)] == [8, 0, 1]
        assert (second.counts["web"].cached, third.counts["web"].cached) == (8, 7)
        assert history_requests(sandbox) == 2
        dated = {i.key: i.inputs_changed for i in third.items["web"]}
        assert dated["WEB-3"] == InputsChanged(edited, "tracker")
        assert dated["WEB-1"] == InputsChanged(sandbox.find("WEB-1").created)  # type: ignore[union-attr]

    async def test_edits_to_other_fields_read_no_history(self, tmp_path: Path) -> None:
        """A new summary or priosync's own score write moves ``updated`` but no input: the
        cached date holds and no history is asked for."""
        sandbox = JiraSandbox.seeded(issues=8, seed=3)
        state = state_at(tmp_path)
        connector = jira(sandbox)
        first = await date_inputs(
            {"web": await connector.read()}, {"web": connector}, state=state, now=NOW
        )
        sandbox.now = lambda: datetime(2025, 5, 2, tzinfo=UTC)
        sandbox.human_edit("WEB-2", fields={"summary": "Checkout, reworded"})
        sandbox.human_edit("WEB-4", fields={"customfield_10059": 321.0})
        again = await date_inputs(
            {"web": await connector.read()}, {"web": connector}, state=state, now=NOW
        )
        await connector.aclose()
        before = {i.key: i.updated_at for i in first.items["web"]}
        moved = {i.key for i in again.items["web"] if i.updated_at != before[i.key]}
        assert moved == {"WEB-2", "WEB-4"}
        assert again.counts["web"].asked == 0
        assert history_requests(sandbox) == 1
        assert {i.key: i.inputs_changed for i in again.items["web"]} == {
            i.key: i.inputs_changed for i in first.items["web"]
        }

    async def test_an_updated_time_alone_rewrites_no_sighting(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After priosync's own writes (or a comment) moved ``updated``, the next dating
        records no row: only a changed digest, first sighting or history date is news."""
        sandbox = JiraSandbox.seeded(issues=8, seed=3)
        state = state_at(tmp_path)
        connector = jira(sandbox)
        await date_inputs({"web": await connector.read()}, {"web": connector}, state=state, now=NOW)
        sandbox.now = lambda: datetime(2025, 5, 2, tzinfo=UTC)
        sandbox.human_edit("WEB-2", fields={"summary": "Checkout, reworded"})
        sandbox.human_edit("WEB-3", fields={REACH: 4242})
        recorded: list[str] = []
        record = state.record

        def spy(source: str, seen: Sequence[Sighting]) -> None:
            recorded.extend(s.item for s in seen)
            record(source, seen)

        monkeypatch.setattr(state, "record", spy)
        await date_inputs({"web": await connector.read()}, {"web": connector}, state=state, now=NOW)
        await connector.aclose()
        assert recorded == ["WEB-3"]

    async def test_a_failed_history_read_fails_the_source(self, tmp_path: Path) -> None:
        """A history answer the connector cannot use is that source's failure, not a guess."""
        sandbox = JiraSandbox.seeded(issues=3, seed=3)
        connector = jira(sandbox)
        items = await connector.read()
        sandbox.faults.error_rate = 1.0  # every request from here on answers 5xx
        dated = await date_inputs({"web": items}, {"web": connector}, state=None, now=NOW)
        await connector.aclose()
        assert dated.items == {}
        assert isinstance(dated.failures["web"], TrackerUnavailable)


def plain(key: str, reach: float) -> WorkItem:
    return WorkItem(key, key, "", "repo", {"reach": reach, "effort": 1})


class TestFirstSighting:
    """Without a tracker date, the date priosync first saw the values, kept in the state."""

    async def test_kept_until_the_values_change(self, tmp_path: Path) -> None:
        """Seen on day 0 and unchanged on day 100, the date is day 0; a new value restarts it."""
        state = state_at(tmp_path)
        connectors: dict[str, Connector] = {}
        day0, day100 = NOW - timedelta(days=100), NOW
        await date_inputs(
            {"repo": [plain("a#1", 5), plain("a#2", 7)]}, connectors, state=state, now=day0
        )
        later = await date_inputs(
            {"repo": [plain("a#1", 5), plain("a#2", 8)]}, connectors, state=state, now=day100
        )
        dated = {i.key: i.inputs_changed for i in later.items["repo"]}
        assert dated == {
            "a#1": InputsChanged(day0, "first-seen"),
            "a#2": InputsChanged(day100, "first-seen"),
        }
        assert later.counts["repo"].first_seen == 2

    async def test_a_read_only_state_remembers_nothing_new(self, tmp_path: Path) -> None:
        """`plan` reads the state but never writes it; with no file there is no state."""
        assert open_input_state(tmp_path / "none.sqlite3", readonly=True) is None
        state_at(tmp_path).close()
        readonly = open_input_state(tmp_path / "audit.sqlite3", readonly=True)
        assert readonly is not None
        await date_inputs({"repo": [plain("a#1", 5)]}, {}, state=readonly, now=NOW)
        assert readonly.sightings("repo") == {}
        readonly.close()

    def test_the_digest_ignores_the_key_metric(self) -> None:
        """Naming a key metric is not an input change."""
        base = plain("a#1", 5)
        named = WorkItem("a#1", "a#1", "", "repo", {**base.inputs, "key_metric": "Revenue"})
        assert inputs_digest(base) == inputs_digest(named)
        assert inputs_digest(base) != inputs_digest(plain("a#1", 6))


@pytest.mark.parametrize("basis", ["tracker", "first-seen"])
async def test_a_read_date_is_the_trackers_and_an_old_sighting_is_not(basis: str) -> None:
    """An item read with a date keeps it (tracker); one carrying an earlier first sighting
    (a service snapshot) is dated again."""
    at = NOW - timedelta(days=5)
    carried = WorkItem("a#1", "", "", "repo", {"reach": 1}, inputs_changed=InputsChanged(at, basis))  # type: ignore[arg-type]
    dated = await date_inputs({"repo": [carried]}, {}, state=None, now=NOW)
    expected = InputsChanged(at) if basis == "tracker" else InputsChanged(NOW, "first-seen")
    assert dated.items["repo"][0].inputs_changed == expected
