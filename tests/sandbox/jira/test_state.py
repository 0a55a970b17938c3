"""The seeded backlog, the issue views, persistence, and the start-up text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sandbox.jira import JiraSandbox
from sandbox.jira import catalog as c
from sandbox.jira.backlog import generate_backlog
from sandbox.jira.serve import build_sandbox, describe_sandbox


class TestBacklog:
    def test_same_seed_same_backlog(self) -> None:
        """Generation is deterministic from the seed and differs across seeds."""
        one = [i.to_json() for i in generate_backlog(issues=50, seed=7, project="WEB")]
        two = [i.to_json() for i in generate_backlog(issues=50, seed=7, project="WEB")]
        other = [i.to_json() for i in generate_backlog(issues=50, seed=8, project="WEB")]
        assert one == two != other

    def test_backlog_is_realistic(self) -> None:
        """A 2,000-issue backlog has done items, gaps, malformed values, stale labels and all priorities."""
        issues = generate_backlog(issues=2000, seed=7, project="WEB")
        done = sum(i.status == "Done" for i in issues) / len(issues)
        missing = sum(
            any(i.values.get(f) is None for f in (c.REACH, c.IMPACT, c.CONFIDENCE, c.EFFORT))
            for i in issues
        ) / len(issues)
        assert 0.10 < done < 0.20
        assert 0.05 < missing < 0.15
        assert any(i.values.get(c.EFFORT) == 0.0 for i in issues)
        assert {"Huge", "n/a"} <= {str(i.values.get(c.TSHIRT)) for i in issues}
        assert any(label.startswith("roadmap:") for i in issues for label in i.labels)
        assert any("customer-request" in i.labels for i in issues)
        assert set(Counter(i.priority_id for i in issues)) == {"1", "2", "3", "4", "5"}
        assert len({i.summary for i in issues}) > 500

    def test_fifty_thousand_issues(self) -> None:
        """The largest supported backlog generates with unique keys and ids."""
        issues = generate_backlog(issues=50_000, seed=1, project="BIG")
        assert len({i.key for i in issues}) == len({i.id for i in issues}) == 50_000
        assert issues[-1].key == "BIG-50000"


class TestStateFile:
    def test_save_and_load_round_trip_without_credentials(self, tmp_path: Path) -> None:
        """Saved state reloads to the same issues, and the token is never written."""
        sandbox = JiraSandbox.seeded(issues=25, token="top-secret-token")
        sandbox.human_edit(
            "WEB-4", fields={c.RICE_SCORE: 12.0}, update={"labels": [{"add": "roadmap:now"}]}
        )
        path = tmp_path / "state.json"
        sandbox.save(path)
        loaded = JiraSandbox.load(path, token="t2")
        assert "top-secret-token" not in path.read_text()
        assert [v.fields for v in loaded.issues()] == [v.fields for v in sandbox.issues()]
        assert loaded.issue("WEB-4").labels[-1] == "roadmap:now"

    def test_views_name_duplicate_fields_apart(self) -> None:
        """Both Team fields appear by name in an issue view, the second with its id."""
        view = JiraSandbox.seeded(issues=10).issue("web-1")
        assert {"Team", f"Team [{c.TEAM_TEXT}]"} <= set(view.fields_by_name)
        assert view.fields_by_name["Team"] in {
            o.value for o in c.FIELDS_BY_ID[c.TEAM_SELECT].options
        }


class TestServeHelpers:
    def test_build_prefers_an_existing_state_file(self, tmp_path: Path) -> None:
        """With a state file present, the sandbox loads it instead of seeding anew."""
        path = tmp_path / "s.json"
        JiraSandbox.seeded(issues=12, project="OPS").save(path)
        sandbox = build_sandbox(
            issues=200, seed=7, project="WEB", email=None, token=None, state_path=path, dc=False
        )
        assert (sandbox.project, len(sandbox.stored_issues())) == ("OPS", 12)

    def test_start_text_prints_defaults_but_never_a_chosen_token(self) -> None:
        """The start-up lines show the URL and default credentials, and hide a token the user passed."""
        default = build_sandbox(
            issues=10, seed=7, project="WEB", email=None, token=None, state_path=None, dc=False
        )
        chosen = build_sandbox(
            issues=10,
            seed=7,
            project="WEB",
            email="me@x.io",
            token="mine-123",
            state_path=None,
            dc=False,
        )
        shown = "\n".join(describe_sandbox(default, url="http://127.0.0.1:8080", token_given=False))
        hidden = "\n".join(describe_sandbox(chosen, url="http://127.0.0.1:8080", token_given=True))
        assert "http://127.0.0.1:8080" in shown
        assert "JIRA_API_TOKEN=sandbox-token" in shown
        assert "mine-123" not in hidden
        assert "JIRA_EMAIL=me@x.io" in hidden
