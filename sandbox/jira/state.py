"""The sandbox Jira's state: issues, the signed-in account, logs, and persistence.

``JiraSandbox`` is what tests and benchmarks hold: build it with :meth:`JiraSandbox.seeded`
or :meth:`JiraSandbox.load`, serve it with ``create_jira_app``, then read
``request_log``, ``edit_log``, ``webhook_log`` and :meth:`JiraSandbox.issue` to see what
happened. Credentials are never written to the state file.
"""

from __future__ import annotations

import json
import re
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
from .model import LinkEnd, StoredIssue
from .rank import RankError, RankOrder, parse_rank_body, rank_change
from .render import render_custom
from .site_fields import OUTPUT_FIELD_IDS, SiteFields
from .webhooks import WebhookDelivery, build_issue_updated

STATE_FORMAT = "priosync-sandbox-jira/1"
NOTIFY_FORBIDDEN = (
    "To discard the user notification either admin or project admin permissions are required."
)
DEFAULT_EMAIL = "demo@example.com"
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the documented sandbox default, not a secret
DEFAULT_PAT = "sandbox-pat"
#: What the person of ``human_edit`` signs in with (``priosync sandbox edit``): documented
#: sandbox defaults, Cloud (Basic, with ``catalog.HUMAN_EMAIL``) and Data Center (bearer).
HUMAN_TOKEN = "sandbox-human-token"  # noqa: S105
HUMAN_PAT = "sandbox-human-pat"
#: The silent cap on DC ``/rest/api/2/search`` maxResults (``jira.search.views.default.max``).
DEFAULT_DC_MAX_RESULTS = 1000
#: A query whose answer moves with the clock: a relative date or a date function.
_CLOCK_DEPENDENT = re.compile(r"[-+]\d+\s*[wdhm]\b|\b(now|startOf\w*|endOf\w*)\s*\(", re.IGNORECASE)
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


@dataclass(frozen=True, slots=True)
class RankRecord:
    """One issue a rank request moved: which, by whom, when."""

    key: str
    actor_account_id: str
    at: datetime


@dataclass
class Account:
    """The account that the sandbox's credentials sign in as."""

    email: str
    display_name: str
    account_id: str
    project_admin: bool
    #: The *Administer Jira* global permission: creating fields, contexts, screens.
    jira_admin: bool = False


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
        fields: SiteFields | None = None,
        jira_admin: bool = True,
    ) -> None:
        self.project = project
        self.dc = dc
        self.email = email
        self.token = token
        self.pat = pat
        self.account = Account(
            email, "priosync bot", c.account_id_for(email), project_admin, jira_admin
        )
        self.human = Account(c.HUMAN_EMAIL, c.HUMAN_NAME, c.account_id_for(c.HUMAN_EMAIL), True)
        #: The site's fields: the catalog's, or fewer (``bare``), plus those created over REST.
        self.fields = fields or SiteFields.full()
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
        #: Jira Software's Rank order (``rank``); created issues rank last, so by id.
        self.ranks = RankOrder(sorted(self._by_id))
        #: Keys the rank endpoint refuses, answered per issue in a 207 (tests of partial
        #: failure); and whether the account holds *Schedule Issues* (403 without it).
        self.rank_refused: set[str] = set()
        self.can_schedule = True
        #: One entry per issue a rank request moved.
        self.rank_log: list[RankRecord] = []
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
        bare: bool = False,
        jira_admin: bool = True,
        own_screens: bool = False,
    ) -> JiraSandbox:
        """Return a site whose project holds a generated backlog (see ``backlog``).

        ``bare`` leaves out priosync's output fields (score, explanation, rank) and their
        values, as on a site where nobody has set priosync up yet; ``own_screens`` (with
        ``bare``) gives the project an edit screen of its own instead of the default one.
        """
        backlog = generate_backlog(issues=issues, seed=seed, project=project)
        if bare:
            for issue in backlog:
                for field_id in OUTPUT_FIELD_IDS:
                    issue.values.pop(field_id, None)
        return cls(
            issues=backlog,
            project=project,
            dc=dc,
            email=email,
            token=token,
            pat=pat,
            project_admin=project_admin,
            faults=faults,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            fields=SiteFields.bare(own_screens=own_screens) if bare else SiteFields.full(),
            jira_admin=jira_admin,
        )

    def save(self, path: Path) -> None:
        """Write every issue and the site settings (never credentials) to ``path`` as JSON."""
        state = {
            "format": STATE_FORMAT,
            "project": self.project,
            "dc": self.dc,
            "email": self.email,
            "project_admin": self.account.project_admin,
            "jira_admin": self.account.jira_admin,
            "site_fields": self.fields.to_json(),
            "issues": [
                issue.to_json() for issue in sorted(self._by_id.values(), key=lambda i: i.id)
            ],
            "rank": list(self.ranks.ids),
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
            fields=SiteFields.from_json(state["site_fields"]) if "site_fields" in state else None,
            jira_admin=bool(state.get("jira_admin", True)),
        )
        site.ranks.set(int(i) for i in state.get("rank", ()) if int(i) in site._by_id)
        for raw in state.get("history", []):
            site._remember(EditRecord.from_json(raw))
        return site

    def credentials(self) -> list[tuple[Account, str]]:
        """Who may sign in, with the secret each signs in with (a PAT on Data Center)."""
        return [
            (self.account, self.pat if self.dc else self.token),
            (self.human, HUMAN_PAT if self.dc else HUMAN_TOKEN),
        ]

    def fields_changed(self) -> None:
        """An administrator changed the fields: cached searches may now mean something else."""
        self.version += 1

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
        for f in self.fields.custom():
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

        Results are cached per query until the next edit, so paging a large result is cheap;
        a query with a relative date (``updated >= "-15m"``) only while the clock stands still.
        """
        key = (jql, self.version, require_bounded)
        if _CLOCK_DEPENDENT.search(jql):
            key = (f"{jql}\0{self.now().isoformat()}", self.version, require_bounded)
        cached = self._search_cache.get(key)
        if cached is not None:
            return cached
        query = self.parse(jql)
        if require_bounded and not query.bounded:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. "
                "Please add a search restriction to your query."
            )
        result = sort_issues(
            [i for i in self._by_id.values() if query.matches(i)],
            query.order,
            rank=self.ranks.position,
        )
        if len(self._search_cache) >= _SEARCH_CACHE_SIZE:
            self._search_cache.clear()
        self._search_cache[key] = result
        return result

    def parse(self, jql: str) -> Query:
        return parse_jql(
            jql,
            project=self.project,
            known_keys=lambda k: self.find(k) is not None,
            now=self.now(),
            site=self.fields,
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
        staged = stage_edit(stored, body, api=api, site=self.fields)
        changes = apply_staged(stored, staged, site=self.fields)
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

    def link(self, blocker: str, blocked: str, *, link_type: str = "Blocks") -> int:
        """Link two issues as ``POST /issueLink`` would: ``blocker`` <outward> ``blocked``
        ("WEB-3 blocks WEB-12"); both issues show the link and count as updated. Returns
        the link's id."""
        outward, inward = self.find(blocker), self.find(blocked)
        if outward is None or inward is None:
            raise KeyError(blocker if outward is None else blocked)
        if link_type not in c.LINK_TYPE_BY_NAME:
            raise ValueError(f"no issue link type {link_type!r}")
        known = [end.id for issue in self._by_id.values() for end in issue.links]
        link_id = max(known, default=10_000) + 1
        outward.links.append(LinkEnd(link_id, link_type, inward.key, outward=True))
        inward.links.append(LinkEnd(link_id, link_type, outward.key, outward=False))
        self._touch(outward, inward)
        return link_id

    def unlink(self, link_id: int) -> None:
        """Delete an issue link from both of its issues (``DELETE /issueLink/{id}``)."""
        touched = [i for i in self._by_id.values() if any(e.id == link_id for e in i.links)]
        if not touched:
            raise KeyError(link_id)
        for issue in touched:
            issue.links = [e for e in issue.links if e.id != link_id]
        self._touch(*touched)

    def set_status(self, key: str, status: str) -> None:
        """Move an issue to another status (a workflow transition, as a person would)."""
        issue = self.find(key)
        if issue is None:
            raise KeyError(key)
        if status not in c.STATUS_BY_NAME:
            raise ValueError(f"no status {status!r}")
        issue.status = status
        self._touch(issue)

    def create_issue(self, issue: StoredIssue) -> None:
        """Add an issue as ``POST /issue`` would: created and updated now."""
        if self.find(issue.key) is not None or issue.id in self._by_id:
            raise ValueError(f"{issue.key} (id {issue.id}) exists")
        issue.created = issue.updated = self.now()
        self._issues[issue.key] = issue
        self._by_id[issue.id] = issue
        self.version += 1

    def delete_issue(self, key: str) -> None:
        """Delete an issue as ``DELETE /issue/{key}`` does; its links leave the other ends."""
        issue = self.find(key)
        if issue is None:
            raise KeyError(key)
        del self._issues[issue.key]
        del self._by_id[issue.id]
        ends = {end.id for end in issue.links}
        for other in self._by_id.values():
            if any(end.id in ends for end in other.links):
                other.links = [end for end in other.links if end.id not in ends]
                other.updated = self.now()
        self.version += 1

    def _touch(self, *issues: StoredIssue) -> None:
        now = self.now()
        for issue in issues:
            issue.updated = now
        self.version += 1

    def rank(self, body: Any, *, actor: Account | None = None) -> dict[str, Any] | None:
        """Apply ``PUT /rest/agile/1.0/issue/rank`` (``rank`` module): None when every
        issue moved (204), else the 207 body; ``RankError`` refuses the whole request."""
        actor = actor or self.account
        if not self.can_schedule:
            raise EditRejected(403, messages=["You do not have permission to rank issues."])
        request = parse_rank_body(body)
        anchor_ref = request.after or request.before or ""
        anchor = self.find(anchor_ref)
        if anchor is None:
            raise RankError(f"Issue {anchor_ref} does not exist or you cannot see it.")
        entries: list[dict[str, Any]] = []
        moving: list[StoredIssue] = []
        for ref in request.refs:
            issue = self.find(ref)
            if issue is None or issue is anchor or issue.key in self.rank_refused:
                reason = (
                    "Issue does not exist or you do not have permission to see it."
                    if issue is None
                    else "Cannot rank an issue relative to itself."
                    if issue is anchor
                    else "The issue cannot be ranked."
                )
                entries.append(
                    {
                        "issueId": issue.id if issue else None,
                        "issueKey": issue.key if issue else ref,
                        "status": 404 if issue is None else 400,
                        "errors": [reason],
                    }
                )
                continue
            entries.append({"issueId": issue.id, "issueKey": issue.key, "status": 200})
            if issue not in moving:
                moving.append(issue)
        was = {i.id: self.ranks.position(i.id) for i in moving}
        self.ranks.place(
            [i.id for i in moving],
            after=anchor.id if request.after else None,
            before=anchor.id if request.before else None,
        )
        now = self.now()
        for issue in moving:
            position = self.ranks.position(issue.id)
            if position == was[issue.id]:
                continue
            issue.updated = now
            self.rank_log.append(RankRecord(issue.key, actor.account_id, now))
            self._queue_event(issue, [rank_change(position < was[issue.id])], actor, now)
        self.version += 1
        if all(e["status"] == 200 for e in entries):
            return None
        return {"entries": entries}

    def rank_order(self) -> list[str]:
        """Every issue key in Rank order, top first (for assertions)."""
        return [self._by_id[i].key for i in self.ranks.ids]

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
    "RankError",
    "RankRecord",
    "RequestLogEntry",
    "WebhookDelivery",
]
