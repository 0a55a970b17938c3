"""How long a plan's writes take at a source's pacing (what ``priosync check`` says)."""

from __future__ import annotations

from config.models import GitHubSource, JiraSource
from priosync.domain import Change, Outputs
from sync.pacing import duration_text, estimate, write_requests


def change(n: int, *, labels: int = 1) -> Change:
    before = Outputs(score=1.0, labels=frozenset())
    after = Outputs(score=2.0, labels=frozenset(f"roadmap:{i}" for i in range(labels)))
    return Change(key=f"K-{n}", source="s", url="", before=before, after=after, reason="")


def jira(**pacing: float) -> JiraSource:
    return JiraSource.model_validate(
        {
            "name": "s",
            "kind": "jira",
            "url": "https://x.atlassian.net",
            "jql": "project = X",
            "pacing": pacing,
        }
    )


class TestWriteEstimate:
    def test_jira_writes_one_put_per_item_at_the_default_25_per_second(self) -> None:
        """2,000 items at the default 25 writes/s: 80 s."""
        got = estimate(jira(), [change(n) for n in range(2000)])
        assert (got.items, got.requests, got.writes_per_s, got.seconds) == (2000, 2000, 25.0, 80.0)
        assert "2,000 items at 25 writes/s" in got.describe()
        assert got.describe().endswith("about 80 s")

    def test_the_configured_pacing_is_used(self) -> None:
        """writes_per_second = 50 (Jira Cloud's documented PUT refill) halves the time."""
        assert (
            estimate(jira(writes_per_second=50.0), [change(n) for n in range(2000)]).seconds == 40.0
        )

    def test_github_counts_requests_not_items(self) -> None:
        """A repository sends a request for the fields and one per label; a Project packs
        one mutation per field and per label, 50 to a document."""
        changes = [change(n, labels=2) for n in range(100)]
        repo = GitHubSource.model_validate({"name": "s", "kind": "github", "repo": "acme/app"})
        project = GitHubSource.model_validate({"name": "s", "kind": "github", "project": "acme/1"})
        assert write_requests(repo, changes) == 300
        assert write_requests(project, changes) == 6
        assert estimate(project, changes).seconds == 6.0  # GitHub: 1 write a second

    def test_nothing_to_write_says_so(self) -> None:
        """An empty plan is no estimate but a sentence."""
        assert estimate(jira(), []).describe().startswith("nothing to write")

    def test_durations_read_as_a_person_would_say_them(self) -> None:
        """Seconds, then minutes, then hours, rounded up."""
        assert [duration_text(s) for s in (0.2, 89, 91, 5399, 5400, 36_000)] == [
            "1 s",
            "89 s",
            "2 min",
            "90 min",
            "1.5 h",
            "10 h",
        ]
