"""The independent `jira` client library against the sandbox on loopback (Cloud and DC)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from sandbox.jira import DEFAULT_EMAIL as EMAIL
from sandbox.jira import DEFAULT_TOKEN as TOKEN
from sandbox.jira import JiraSandbox, create_jira_app
from sandbox.jira import catalog as c
from sandbox.loopback import serve_in_thread


@pytest.fixture
def cloud() -> Iterator[tuple[JiraSandbox, JIRA]]:
    sandbox = JiraSandbox.seeded(issues=60)
    with serve_in_thread(create_jira_app(sandbox)) as url:
        client = JIRA(url, basic_auth=(EMAIL, TOKEN), max_retries=0)
        yield sandbox, client
        client.close()  # type: ignore[no-untyped-call]


class TestJiraLibraryCloud:
    def test_connects_as_cloud(self, cloud: tuple[JiraSandbox, JIRA]) -> None:
        """The library reads serverInfo, sees a Cloud site and the signed-in account."""
        _, client = cloud
        assert client.server_info()["deploymentType"] == "Cloud"
        assert client.myself()["emailAddress"] == EMAIL

    def test_enhanced_search_reads_custom_and_select_fields(
        self, cloud: tuple[JiraSandbox, JIRA]
    ) -> None:
        """enhanced_search_issues pages through every match and exposes select values."""
        sandbox, client = cloud
        issues = client.enhanced_search_issues(
            "project = WEB AND statusCategory != Done ORDER BY key ASC",
            maxResults=0,
            fields=["summary", c.IMPACT, c.REACH, "labels", "priority"],
        )
        expected = [i.key for i in sandbox.issues() if i.status_category != "Done"]
        assert [i.key for i in issues] == expected
        first = sandbox.issue(issues[0].key)
        impact = getattr(issues[0].fields, c.IMPACT)
        assert (impact.value if impact else None) == first.fields_by_name["Impact"]
        assert getattr(issues[0].fields, c.REACH) == first.fields[c.REACH]

    def test_writes_number_labels_and_priority(self, cloud: tuple[JiraSandbox, JIRA]) -> None:
        """update() sets a number and a priority; add_field_value and label verbs add and remove labels."""
        sandbox, client = cloud
        issue = client.issue("WEB-7")
        issue.update(fields={c.RICE_SCORE: 42.5, "priority": {"name": "High"}})
        issue.add_field_value("labels", "roadmap:now")
        issue.update(update={"labels": [{"remove": "roadmap:now"}, {"add": "roadmap:next"}]})
        view = sandbox.issue("WEB-7")
        assert view.fields[c.RICE_SCORE] == 42.5
        assert view.priority == "High"
        assert "roadmap:next" in view.labels
        assert "roadmap:now" not in view.labels
        assert client.issue("WEB-7").fields.priority.name == "High"

    def test_errors_reach_the_library_as_jira_errors(self, cloud: tuple[JiraSandbox, JIRA]) -> None:
        """A bad option and a bad JQL surface as JIRAError with Jira's status and message."""
        _, client = cloud
        issue = client.issue("WEB-7")
        with pytest.raises(JIRAError) as bad_option:
            issue.update(fields={c.IMPACT: {"value": "Huge"}})
        with pytest.raises(JIRAError) as bad_jql:
            client.enhanced_search_issues("nonsense = 1")
        assert bad_option.value.status_code == 400
        assert "Huge" in str(bad_option.value.text)
        assert bad_jql.value.status_code == 400
        assert "nonsense" in str(bad_jql.value.text)

    def test_notify_false_refused_for_non_admin(self) -> None:
        """issue.update(notify=False) by a non-admin fails with the 403 Jira gives."""
        sandbox = JiraSandbox.seeded(issues=10, project_admin=False)
        with serve_in_thread(create_jira_app(sandbox)) as url:
            client = JIRA(url, basic_auth=(EMAIL, TOKEN), max_retries=0)
            with pytest.raises(JIRAError) as refused:
                client.issue("WEB-1").update(fields={c.RICE_SCORE: 1}, notify=False)
            client.close()  # type: ignore[no-untyped-call]
        assert refused.value.status_code == 403
        assert sandbox.issue("WEB-1").edits == ()


class TestJiraLibraryDataCenter:
    def test_search_pages_by_startat_and_edits_with_pat(self) -> None:
        """Against DC mode the library uses /rest/api/2/search and a bearer PAT."""
        sandbox = JiraSandbox.seeded(issues=130, dc=True, pat="dc-pat")
        sandbox.dc_max_results = 50
        with serve_in_thread(create_jira_app(sandbox)) as url:
            client = JIRA(url, token_auth="dc-pat", max_retries=0)
            issues = client.search_issues("project = WEB", maxResults=False, fields="summary")
            client.issue("WEB-3").update(fields={c.REACH: 77})
            client.close()  # type: ignore[no-untyped-call]
        assert len(issues) == 130
        assert sandbox.issue("WEB-3").fields[c.REACH] == 77.0
        assert {e.endpoint for e in sandbox.request_log} >= {"/search", "/issue/{key}"}
