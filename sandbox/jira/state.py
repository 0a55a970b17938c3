"""The sandbox Jira's state: issues, the signed-in account, logs, and persistence.

``JiraSandbox`` is what tests and benchmarks hold: build it with :meth:`JiraSandbox.seeded`
or :meth:`JiraSandbox.load`, serve it with ``create_jira_app``, then read
``request_log``, ``edit_log``, ``webhook_log`` and :meth:`JiraSandbox.issue` to see what
happened. Credentials are never written to the state file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from . import catalog as c
from .backlog import generate_backlog
from .edits import ChangeItem, EditRejected, apply_staged, stage_edit
from .faults import FaultInjector, Faults
from .jql import JqlError, Query, parse_jql, sort_issues
from .model import StoredIssue
from .render import render_custom
from .webhooks import WebhookDelivery, build_issue_updated

STATE_FORMAT = "priosync-sandbox-jira/1"
NOTIFY_FORBIDDEN = (
    "To discard the user notification either admin or project admin permissions are required."
)
DEFAULT_EMAIL = "demo@example.com"
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the documented sandbox default, not a secret
DEFAULT_PAT = "sandbox-pat"
#: The silent cap on DC ``/rest/api/2/search`` maxResults (``jira.search.views.default.max``).
DEFAULT_DC_MAX_RESULTS = 1000
_SEARCH_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One request the sandbox answered (or dropped)."""

    method: str
    path: str
    query: str
    status: int  # 0 when the connection was dropped
    duration_ms: float
    kind: Literal["read", "write"]
    endpoint: str  # e.g. "GET /issue/{key}", version prefix removed
    fault: str | None = None  # "5xx", "429", "drop" when injected


@dataclass(frozen=True, slots=True)
class EditRecord:
    """One successful edit: who, whether watchers would have been emailed, what changed."""

    key: str
    actor_account_id: str
    notified: bool
    changes: tuple[ChangeItem, ...]
    at: datetime
    #: The changelog id of an edit that changed something (0 when it changed nothing).
    history_id: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "actor": self.actor_account_id,
            "notified": self.notified,
            "changes": [c.to_json() for c in self.changes],
            "at": self.at.isoformat(),
            "history_id": self.history_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EditRecord:
        return cls(
            key=str(data["key"]),
            actor_account_id=str(data["actor"]),
            notified=bool(data["notified"]),
            changes=tuple(ChangeItem.from_json(c) for c in data["changes"]),
            at=datetime.fromisoformat(data["at"]),
            history_id=int(data["history_id"]),
        )


@dataclass(frozen=True, slots=True)
class IssueView:
    """An issue's current state in plain values, for assertions.

    ``fields`` is keyed by field id, ``fields_by_name`` by field name; when two custom
    fields share a name the first (lowest id) gets the bare name and the others
    ``"Name [customfield_N]"``. Values: numbers as float, a select as its option value, a
    multi select as a list of values, text as str, priority as its name, None when empty.
    """

    key: str
    id: str
    summary: str
    status: str
    status_category: str
    priority: str | None
    labels: tuple[str, ...]
    fields: Mapping[str, Any]
    fields_by_name: Mapping[str, Any]
    edits: tuple[EditRecord, ...]

    @property
    def notified_edits(self) -> int:
        """How many edits to this issue would have emailed its watchers."""
        return sum(1 for e in self.edits if e.notified)


@dataclass
class Account:
    """The account that the sandbox's credentials sign in as."""

    email: str
    display_name: str
    account_id: str
    project_admin: bool


class JiraSandbox:
    """The state of one sandbox Jira site with one project."""

    def __init__(
        self,
        *,
        issues: list[StoredIssue],
        project: str = "WEB",
        dc: bool = False,
        email: str = DEFAULT_EMAIL,
        token: str = DEFAULT_TOKEN,
        pat: str = DEFAULT_PAT,
        project_admin: bool = True,
        faults: Faults | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        dc_max_results: int = DEFAULT_DC_MAX_RESULTS,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.project = project
        self.dc = dc
        self.email = email
        self.token = token
        self.pat = pat
        self.account = Account(email, "priosync bot", c.account_id_for(email), project_admin)
        self.human = Account(c.HUMAN_EMAIL, c.HUMAN_NAME, c.account_id_for(c.HUMAN_EMAIL), True)
        self.faults = faults or Faults()
        self.injector = FaultInjector(self.faults)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_transport = webhook_transport
        self.dc_max_results = dc_max_results
        self.site_url = "http://127.0.0.1:8080"
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.request_log: list[RequestLogEntry] = []
        self.edit_log: list[EditRecord] = []
        self._edits_by_key: dict[str, list[EditRecord]] = {}
        self.webhook_log: list[WebhookDelivery] = []
        self.pending_events: list[dict[str, Any]] = []
        self.version = 0
        self._issues: dict[str, StoredIssue] = {i.key: i for i in issues}
        self._by_id: dict[int, StoredIssue] = {i.id: i for i in issues}
        self._search_cache: dict[tuple[str, int, bool], list[StoredIssue]] = {}
        self._event_counter = 0
        self._history_counter = 0

    # ── construction and persistence ─────────────────────────────────────────────────────

    @classmethod
    def seeded(
        cls,
        *,
        issues: int = 200,
        seed: int = 7,
        project: str = "WEB",
        dc: bool = False,
        email: str = DEFAULT_EMAIL,
        token: str = DEFAULT_TOKEN,
        pat: str = DEFAULT_PAT,
        project_admin: bool = True,
        faults: Faults | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> JiraSandbox:
        """Return a site whose project holds a generated backlog (see ``backlog``)."""
        return cls(
            issues=generate_backlog(issues=issues, seed=seed, project=project),
            project=project,
            dc=dc,
            email=email,
            token=token,
            pat=pat,
            project_admin=project_admin,
            faults=faults,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )

    def save(self, path: Path) -> None:
        """Write every issue and the site settings (never credentials) to ``path`` as JSON."""
        state = {
            "format": STATE_FORMAT,
            "project": self.project,
            "dc": self.dc,
            "email": self.email,
            "project_admin": self.account.project_admin,
            "issues": [
                issue.to_json() for issue in sorted(self._by_id.values(), key=lambda i: i.id)
            ],
            "history": [r.to_json() for r in self.edit_log if r.history_id],
        }
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        email: str | None = None,
        token: str = DEFAULT_TOKEN,
        pat: str = DEFAULT_PAT,
        dc: bool | None = None,
        faults: Faults | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> JiraSandbox:
        """Rebuild a site from :meth:`save` output; credentials come from the arguments."""
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise ValueError(
                f"{path}: not a sandbox Jira state file (format {state.get('format')!r})"
            )
        site = cls(
            issues=[StoredIssue.from_json(raw) for raw in state["issues"]],
            project=state["project"],
            dc=bool(state["dc"]) if dc is None else dc,
            email=email or state.get("email", DEFAULT_EMAIL),
            token=token,
            pat=pat,
            project_admin=bool(state.get("project_admin", True)),
            faults=faults,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        for raw in state.get("history", []):
            site._remember(EditRecord.from_json(raw))
        return site

    # ── reading ──────────────────────────────────────────────────────────────────────────

    def find(self, id_or_key: str) -> StoredIssue | None:
        """Return the issue with this key (case-insensitive) or numeric id, or None."""
        if id_or_key.isdigit():
            return self._by_id.get(int(id_or_key))
        return self._issues.get(id_or_key.upper())

    def stored_issues(self) -> list[StoredIssue]:
        """Every issue in ascending id order."""
        return sorted(self._by_id.values(), key=lambda i: i.id)

    def issue(self, key: str) -> IssueView:
        """Return the current state of one issue; KeyError when it does not exist."""
        stored = self.find(key)
        if stored is None:
            raise KeyError(key)
        return self._view(stored)

    def issues(self) -> list[IssueView]:
        """Return the current state of every issue, in key order."""
        return [self._view(i) for i in self.stored_issues()]

    def histories(self, key: str) -> list[EditRecord]:
        """The edits of one issue that changed something (its changelog), oldest first."""
        return [r for r in self._edits_by_key.get(key.upper(), ()) if r.history_id]

    def account_for(self, account_id: str) -> Account:
        """The account behind an edit (priosync's, or the person's)."""
        return self.human if account_id == self.human.account_id else self.account

    def _view(self, stored: StoredIssue) -> IssueView:
        by_id: dict[str, Any] = {
            "summary": stored.summary,
            "status": stored.status,
            "priority": c.PRIORITY_BY_ID[stored.priority_id].name if stored.priority_id else None,
            "labels": list(stored.labels),
        }
        by_name: dict[str, Any] = {
            "Summary": by_id["summary"],
            "Status": by_id["status"],
            "Priority": by_id["priority"],
            "Labels": by_id["labels"],
        }
        for f in c.CUSTOM_FIELDS:
            value = _plain_value(f, stored.values.get(f.id))
            by_id[f.id] = value
            by_name[f.name if f.name not in by_name else f"{f.name} [{f.id}]"] = value
        return IssueView(
            key=stored.key,
            id=str(stored.id),
            summary=stored.summary,
            status=stored.status,
            status_category=c.STATUS_BY_NAME[stored.status].category_name,
            priority=by_id["priority"],
            labels=tuple(stored.labels),
            fields=by_id,
            fields_by_name=by_name,
            edits=tuple(self._edits_by_key.get(stored.key, ())),
        )

    def search(self, jql: str, *, require_bounded: bool) -> list[StoredIssue]:
        """Return the issues ``jql`` matches, in its order; raise JqlError if not understood.

        Results are cached per query until the next edit, so paging a large result is cheap.
        """
        cached = self._search_cache.get((jql, self.version, require_bounded))
        if cached is not None:
            return cached
        query = self.parse(jql)
        if require_bounded and not query.bounded:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. "
                "Please add a search restriction to your query."
            )
        result = sort_issues([i for i in self._by_id.values() if query.matches(i)], query.order)
        if len(self._search_cache) >= _SEARCH_CACHE_SIZE:
            self._search_cache.clear()
        self._search_cache[(jql, self.version, require_bounded)] = result
        return result

    def parse(self, jql: str) -> Query:
        return parse_jql(
            jql, project=self.project, known_keys=lambda k: self.find(k) is not None, now=self.now()
        )

    # ── writing ──────────────────────────────────────────────────────────────────────────

    def edit(
        self,
        id_or_key: str,
        body: Any,
        *,
        api: str,
        notify: bool = True,
        actor: Account | None = None,
    ) -> EditRecord:
        """Apply an edit as ``PUT /issue/{key}`` does; raise EditRejected with Jira's answer.

        ``notify=False`` by an account that is not a project admin rejects the whole edit
        (403), as Jira Cloud does. An edit that changes nothing records no change and
        notifies nobody.
        """
        actor = actor or self.account
        stored = self.find(id_or_key)
        if stored is None:
            raise EditRejected(
                404, messages=["Issue does not exist or you do not have permission to see it."]
            )
        if not notify and not actor.project_admin:
            raise EditRejected(403, messages=[NOTIFY_FORBIDDEN])
        staged = stage_edit(stored, body, api=api)
        changes = apply_staged(stored, staged)
        now = self.now()
        if changes:
            stored.updated = now
            self.version += 1
            self._queue_event(stored, changes, actor, now)
        if changes:
            self._history_counter += 1
        record = EditRecord(
            stored.key,
            actor.account_id,
            notify and bool(changes),
            tuple(changes),
            now,
            history_id=10000 + self._history_counter if changes else 0,
        )
        self._remember(record)
        return record

    def _remember(self, record: EditRecord) -> None:
        self.edit_log.append(record)
        self._edits_by_key.setdefault(record.key, []).append(record)
        self._history_counter = max(self._history_counter, record.history_id - 10000)

    def human_edit(
        self,
        key: str,
        *,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
    ) -> EditRecord:
        """Edit an issue as a person would in the UI (REST v2 value shapes, notifying)."""
        return self.edit(
            key, {"fields": fields or {}, "update": update or {}}, api="2", actor=self.human
        )

    def _queue_event(
        self, stored: StoredIssue, changes: list[ChangeItem], actor: Account, now: datetime
    ) -> None:
        if not self.webhook_url:
            return
        self._event_counter += 1
        self.pending_events.append(
            build_issue_updated(
                self,
                stored,
                changes,
                actor=actor,
                at=now,
                changelog_id=str(20000 + self._event_counter),
            )
        )


def _plain_value(field: c.FieldDef, value: Any) -> Any:
    if value is None or value == []:
        return None
    if field.kind in ("select", "multiselect"):
        rendered = render_custom(value, field, base_url="", api="2")
        if isinstance(rendered, list):
            return [o["value"] for o in rendered]
        return rendered["value"] if rendered else None
    return value


__all__ = [
    "NOTIFY_FORBIDDEN",
    "Account",
    "EditRecord",
    "EditRejected",
    "IssueView",
    "JiraSandbox",
    "RequestLogEntry",
    "WebhookDelivery",
]
