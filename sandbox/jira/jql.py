"""A JQL subset: parse a query into a predicate over stored issues and a sort order.

Understood: ``AND``/``OR``/``NOT`` and parentheses; ``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``~``, ``!~``, ``IN``, ``NOT IN``, ``IS [NOT] EMPTY`` on the fields ``project``,
``key``/``issuekey``, ``id``, ``status``, ``statusCategory``, ``priority``, ``labels``,
``summary``, ``created``, ``updated`` and every custom field (by name, ``cf[10050]`` or
``customfield_10050``); dates as ``"2025-01-31"``, ``"2025-01-31 14:00"``, ``-7d`` or
``now()``; ``ORDER BY`` a list of fields with ``ASC``/``DESC``.

Anything else raises :class:`JqlError` with a message in Jira's words, which the app
answers with 400 ``{"errorMessages": [message], "errors": {}}``: an unknown field, a value
that does not exist, a syntax error, or a function the sandbox does not implement. A query
is never silently widened to match everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import catalog as c
from .model import StoredIssue
from .site_fields import SiteFields

Predicate = Callable[[StoredIssue], bool]

_OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|<=|>=|!~|=|<|>|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s=!<>~(),"']+)
      | (?P<bad>["'].*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
_RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$")
_UNIT = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


class JqlError(ValueError):
    """The query cannot be run; ``str(error)`` is the message Jira would give."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # str, op, punct, word, end
    text: str
    pos: int  # 1-based character position

    @property
    def keyword(self) -> str | None:
        return self.text.upper() if self.kind == "word" and self.text.upper() in _KEYWORDS else None


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: ``where`` is None when the query has no restriction (unbounded)."""

    where: Predicate | None
    order: tuple[tuple[str, bool], ...]  # (field id, descending)

    @property
    def bounded(self) -> bool:
        return self.where is not None

    def matches(self, issue: StoredIssue) -> bool:
        return self.where is None or self.where(issue)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise JqlError on an unterminated string."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        kind = match.lastgroup or "bad"
        start = match.start(kind) + 1
        if kind == "bad":
            raise JqlError(
                f"Error in the JQL Query: The quoted string {match.group(kind)} has not been "
                f"completed. (line 1, character {start})"
            )
        tokens.append(Token(kind, match.group(kind), start))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def parse_jql(
    text: str,
    *,
    project: str,
    known_keys: Callable[[str], bool],
    now: datetime,
    site: SiteFields | None = None,
) -> Query:
    """Parse ``text`` for a site with one project; raise JqlError on anything not understood.

    ``site`` holds the site's fields (default: the whole catalog).
    """
    return _Parser(
        tokenize(text), project=project, known_keys=known_keys, now=now, site=site
    ).parse()


class _Parser:
    def __init__(
        self,
        tokens: list[Token],
        *,
        project: str,
        known_keys: Callable[[str], bool],
        now: datetime,
        site: SiteFields | None = None,
    ) -> None:
        self.tokens = tokens
        self.i = 0
        self.project = project
        self.known_keys = known_keys
        self.now = now
        self.site = site or SiteFields.full()

    # ── token helpers ────────────────────────────────────────────────────────────────────

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.peek().keyword in words

    def expect_punct(self, text: str) -> None:
        token = self.take()
        if token.kind != "punct" or token.text != text:
            if token.kind == "end":
                raise JqlError(
                    f"Error in the JQL Query: Expecting '{text}' before the end of the query."
                )
            raise JqlError(
                f"Error in the JQL Query: Expecting '{text}' but got '{token.text}'. "
                f"(line 1, character {token.pos})"
            )

    # ── grammar ──────────────────────────────────────────────────────────────────────────

    def parse(self) -> Query:
        where = None if self.at_keyword("ORDER") or self.peek().kind == "end" else self.parse_or()
        order = self.parse_order() if self.at_keyword("ORDER") else ()
        token = self.peek()
        if token.kind != "end":
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{token.text}'. "
                f"(line 1, character {token.pos})"
            )
        return Query(where, order)

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.at_keyword("OR"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda issue: any(p(issue) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.at_keyword("AND"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda issue: all(p(issue) for p in parts))

    def parse_not(self) -> Predicate:
        if self.at_keyword("NOT"):
            self.take()
            inner = self.parse_not()
            return lambda issue: not inner(issue)
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.take()
            inner = self.parse_or()
            self.expect_punct(")")
            return inner
        return self.parse_clause()

    def parse_clause(self) -> Predicate:
        token = self.take()
        if token.kind not in ("word", "str") or token.keyword:
            got = token.text or "end of the query"
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{got}'. "
                f"(line 1, character {token.pos})"
            )
        field = _unquote(token)
        resolve_field(field, self.site)  # an unknown field is reported before anything after it
        operator = self.parse_operator()
        value = self.parse_value(operator)
        return _Clause(field, operator, value, self).compile()

    def parse_operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return token.text
        keyword = token.keyword
        if keyword == "IN":
            return "in"
        if keyword == "NOT" and self.at_keyword("IN"):
            self.take()
            return "not in"
        if keyword == "IS":
            if self.at_keyword("NOT"):
                self.take()
                return "is not"
            return "is"
        got = token.text or "end of the query"
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{got}'. {_OPERATORS_TEXT} "
            f"(line 1, character {token.pos})"
        )

    def parse_value(self, operator: str) -> Any:
        token = self.peek()
        if operator in ("in", "not in"):
            self.expect_punct("(")
            values = [self.parse_single()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.take()
                values.append(self.parse_single())
            self.expect_punct(")")
            return values
        if operator in ("is", "is not"):
            if not self.at_keyword("EMPTY", "NULL"):
                raise JqlError(
                    f"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got '{token.text}'. "
                    f"(line 1, character {token.pos})"
                )
            self.take()
            return None
        return self.parse_single()

    def parse_single(self) -> str | None:
        token = self.take()
        if token.keyword in ("EMPTY", "NULL"):
            return None
        if token.kind == "str":
            return _unquote(token)
        if token.kind == "word" and not token.keyword:
            nxt = self.peek()
            if nxt.kind == "punct" and nxt.text == "(":
                return self.parse_function(token)
            return token.text
        got = token.text or "end of the query"
        raise JqlError(
            f"Error in the JQL Query: Expecting either a value, list or function but got '{got}'. "
            f"(line 1, character {token.pos})"
        )

    def parse_function(self, name: Token) -> str:
        self.expect_punct("(")
        self.expect_punct(")")
        if name.text.lower() == "now":
            return "now()"
        raise JqlError(
            f"Unable to find JQL function '{name.text}()'. The sandbox implements only now()."
        )

    def parse_order(self) -> tuple[tuple[str, bool], ...]:
        self.take()
        if not self.at_keyword("BY"):
            token = self.peek()
            raise JqlError(
                f"Error in the JQL Query: Expecting 'BY' but got '{token.text}'. "
                f"(line 1, character {token.pos})"
            )
        self.take()
        order = [self.parse_sort_key()]
        while self.peek().kind == "punct" and self.peek().text == ",":
            self.take()
            order.append(self.parse_sort_key())
        if len(order) > 7:
            raise JqlError("The ORDER BY clause may contain at most 7 fields.")
        return tuple(order)

    def parse_sort_key(self) -> tuple[str, bool]:
        token = self.take()
        if token.kind not in ("word", "str") or token.keyword:
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{token.text}'. "
                f"(line 1, character {token.pos})"
            )
        field_ids = resolve_field(_unquote(token), self.site)
        descending = False
        if self.at_keyword("ASC", "DESC"):
            descending = self.take().keyword == "DESC"
        return field_ids[0], descending


def _unquote(token: Token) -> str:
    if token.kind != "str":
        return token.text
    return re.sub(r"\\(.)", r"\1", token.text[1:-1])


_SYSTEM_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "status": "status",
    "statuscategory": "statusCategory",
    "priority": "priority",
    "labels": "labels",
    "summary": "summary",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "rank": "rank",
}


def resolve_field(name: str, site: SiteFields) -> list[str]:
    """Return the field ids a JQL field reference names (several when names are shared)."""
    lowered = name.lower()
    if lowered in _SYSTEM_ALIASES:
        return [_SYSTEM_ALIASES[lowered]]
    cf = re.fullmatch(r"cf\[(\d+)\]", lowered)
    field_id = f"customfield_{cf.group(1)}" if cf else lowered
    found = site.get(field_id)
    if found is not None and found.custom:
        return [field_id]
    named = [f.id for f in site.custom() if f.name.lower() == lowered]
    if named:
        return named
    raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


class _Clause:
    """One ``field operator value`` clause, compiled to a predicate."""

    def __init__(self, field: str, operator: str, value: Any, parser: _Parser) -> None:
        self.field = field
        self.operator = operator
        self.value = value
        self.parser = parser
        self.values: list[str | None] = value if isinstance(value, list) else [value]

    def compile(self) -> Predicate:
        field_ids = resolve_field(self.field, self.parser.site)
        predicates = [self.compile_for(field_id) for field_id in field_ids]
        if len(predicates) == 1:
            return predicates[0]
        return lambda issue: any(p(issue) for p in predicates)

    def unsupported(self) -> JqlError:
        return JqlError(
            f"The operator '{self.operator.upper()}' is not supported by the '{self.field}' field."
        )

    def compile_for(self, field_id: str) -> Predicate:
        if field_id == "project":
            return self.equality(lambda i: self.parser.project, self.canonical_project)
        if field_id == "key":
            return self.compile_key()
        if field_id == "status":
            return self.equality(lambda i: i.status, self.canonical_status)
        if field_id == "statusCategory":
            return self.equality(
                lambda i: c.STATUS_BY_NAME[i.status].category_key, self.canonical_category
            )
        if field_id == "priority":
            return self.equality(lambda i: i.priority_id, self.canonical_priority)
        if field_id == "labels":
            return self.compile_labels()
        if field_id == "summary":
            return self.compile_text(lambda i: i.summary)
        if field_id in ("created", "updated"):
            return self.compile_date(field_id)
        return self.compile_custom(self.parser.site[field_id])

    # ── per field kind ───────────────────────────────────────────────────────────────────

    def equality(
        self, read: Callable[[StoredIssue], str | None], canon: Callable[[str], str]
    ) -> Predicate:
        op = self.operator
        if op in ("is", "is not"):
            empty = op == "is"
            return lambda issue: (read(issue) is None) == empty
        if op not in ("=", "!=", "in", "not in"):
            raise self.unsupported()
        wanted = {canon(v) for v in self.values if v is not None}
        negate = op in ("!=", "not in")
        return lambda issue: (
            (read(issue) in wanted) != negate and (not negate or read(issue) is not None)
        )

    def canonical_project(self, value: str) -> str:
        if value.upper() == self.parser.project.upper() or value == c.PROJECT_ID:
            return self.parser.project
        raise JqlError(f"The value '{value}' does not exist for the field 'project'.")

    def canonical_status(self, value: str) -> str:
        for status in c.STATUSES:
            if value.lower() in (status.name.lower(), status.id):
                return status.name
        raise JqlError(f"The value '{value}' does not exist for the field 'status'.")

    def canonical_category(self, value: str) -> str:
        for status in c.STATUSES:
            if value.lower() in (
                status.category_name.lower(),
                status.category_key,
                str(status.category_id),
            ):
                return status.category_key
        raise JqlError(f"The value '{value}' does not exist for the field 'statusCategory'.")

    def canonical_priority(self, value: str) -> str:
        for priority in c.PRIORITIES:
            if value.lower() in (priority.name.lower(), priority.id):
                return priority.id
        raise JqlError(f"The value '{value}' does not exist for the field 'priority'.")

    def compile_key(self) -> Predicate:
        if self.operator not in ("=", "!=", "in", "not in"):
            raise self.unsupported()
        keys = set()
        for value in self.values:
            key = (value or "").upper()
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*-\d+|\d+", key):
                raise JqlError(f"The issue key '{value}' for field '{self.field}' is invalid.")
            if not self.parser.known_keys(key):
                raise JqlError(
                    f"An issue with key '{value}' does not exist for field '{self.field}'."
                )
            keys.add(key)
        negate = self.operator in ("!=", "not in")
        return lambda issue: (issue.key in keys or str(issue.id) in keys) != negate

    def compile_labels(self) -> Predicate:
        op = self.operator
        if op in ("is", "is not"):
            empty = op == "is"
            return lambda issue: (not issue.labels) == empty
        if op not in ("=", "!=", "in", "not in"):
            raise self.unsupported()
        wanted = {v for v in self.values if v is not None}
        if op in ("=", "in"):
            return lambda issue: not wanted.isdisjoint(issue.labels)
        # As in Jira, != and NOT IN never match issues without labels.
        return lambda issue: bool(issue.labels) and wanted.isdisjoint(issue.labels)

    def compile_text(self, read: Callable[[StoredIssue], Any]) -> Predicate:
        op = self.operator
        if op in ("is", "is not"):
            empty = op == "is"
            return lambda issue: (read(issue) in (None, "")) == empty
        if op not in ("~", "!~"):
            raise self.unsupported()
        needle = (self.values[0] or "").lower().strip("*")
        negate = op == "!~"
        return lambda issue: (needle in str(read(issue) or "").lower()) != negate

    def compile_date(self, field_id: str) -> Predicate:
        op = self.operator
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise self.unsupported()
        when = self.parse_date(self.values[0] or "")
        compare = _COMPARE[op]
        return lambda issue: compare(getattr(issue, field_id), when)

    def parse_date(self, text: str) -> datetime:
        now = self.parser.now
        if text == "now()":
            return now
        relative = _RELATIVE.match(text.strip())
        if relative:
            sign = -1 if relative.group(1) == "-" else 1
            return now + sign * int(relative.group(2)) * _UNIT[relative.group(3)]
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=now.tzinfo)
            except ValueError:
                continue
        raise JqlError(
            f"Date value '{text}' for field '{self.field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def compile_custom(self, field: c.FieldDef) -> Predicate:
        field_id = field.id
        if field.kind == "number":
            return self.compile_number(field_id)
        if field.kind in ("select", "multiselect"):
            return self.compile_option(field)
        return self.compile_text(lambda issue: issue.values.get(field_id))

    def compile_number(self, field_id: str) -> Predicate:
        op = self.operator
        if op in ("is", "is not"):
            empty = op == "is"
            return lambda issue: (issue.values.get(field_id) is None) == empty
        if op in ("in", "not in"):
            numbers = {self.number(v) for v in self.values}
            negate = op == "not in"
            return lambda issue: (issue.values.get(field_id) in numbers) != negate
        if op not in _COMPARE:
            raise self.unsupported()
        target = self.number(self.values[0])
        compare = _COMPARE[op]

        def matches(issue: StoredIssue) -> bool:
            value = issue.values.get(field_id)
            return isinstance(value, float) and compare(value, target)

        return matches

    def number(self, value: str | None) -> float:
        try:
            return float(value or "")
        except ValueError:
            raise JqlError(
                f"The value '{value}' is not a valid number for field '{self.field}'."
            ) from None

    def compile_option(self, field: c.FieldDef) -> Predicate:
        op = self.operator
        field_id = field.id
        if op in ("is", "is not"):
            empty = op == "is"
            return lambda issue: (not issue.values.get(field_id)) == empty
        if op not in ("=", "!=", "in", "not in"):
            raise self.unsupported()
        wanted = set()
        for value in self.values:
            option = field.option_by_value(value or "") or field.option_by_id(value or "")
            if option is None:
                raise JqlError(f"The option '{value}' for field '{self.field}' does not exist.")
            wanted.add(option.id)
        negate = op in ("!=", "not in")

        def matches(issue: StoredIssue) -> bool:
            stored = issue.values.get(field_id)
            if not stored:
                return False
            held = set(stored) if isinstance(stored, list) else {str(stored)}
            return (not wanted.isdisjoint(held)) != negate

        return matches


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def sort_issues(
    issues: Sequence[StoredIssue],
    order: tuple[tuple[str, bool], ...],
    *,
    rank: Callable[[int], int] | None = None,
) -> list[StoredIssue]:
    """Return ``issues`` sorted by ``order``; without ORDER BY, by key descending (newest first).

    Empty values sort last ascending and first descending, as in Jira. ``rank`` gives an
    issue id's place in the site's Rank order (``ORDER BY Rank``; by id without it).
    """
    result = sorted(issues, key=lambda issue: issue.id, reverse=True)
    for field_id, descending in reversed(order):
        result.sort(key=lambda issue, f=field_id: _sort_value(issue, f, rank), reverse=descending)  # type: ignore[misc]
    return result


def _sort_value(
    issue: StoredIssue, field_id: str, rank: Callable[[int], int] | None = None
) -> tuple[int, Any]:
    if field_id == "rank":
        return (0, rank(issue.id) if rank is not None else issue.id)
    if field_id == "key":
        return (0, issue.number)
    if field_id == "priority":
        return (0, -int(issue.priority_id)) if issue.priority_id else (1, 0)
    if field_id in ("created", "updated"):
        return (0, getattr(issue, field_id))
    if field_id in ("summary", "status"):
        return (0, getattr(issue, field_id).lower())
    if field_id == "statusCategory":
        return (0, c.STATUS_BY_NAME[issue.status].category_id)
    value = issue.values.get(field_id)
    if value is None or value == []:
        return (1, 0)
    return (0, value if isinstance(value, float) else str(value).lower())
