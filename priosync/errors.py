"""The one error tree of priosync.

Every error priosync raises on purpose is a ``PriosyncError``; callers decide on the
type, never on ``str(exc)``. The tree::

    PriosyncError
    ├─ ConfigError                      file, key path, expected, found          → exit 1
    ├─ FieldMappingError                a configured field the tracker lacks     → exit 1
    ├─ TrackerError(tracker, status)    the tracker's own message is kept        → exit 2
    │  ├─ TrackerUnavailable            5xx, timeouts, resets                    → retried
    │  │  └─ Unreachable                refused connection, unknown host         → once
    │  ├─ NotTheTracker                 the URL answers, but not as the API      → exit 1
    │  ├─ QueryRejected                 the source's JQL refused                 → exit 1
    │  ├─ RateLimited(retry_after_s)    429 / secondary limits                   → wait, retried
    │  ├─ AuthFailed                    401 / 403 that is not a rate limit       → exit 2
    │  ├─ NotFound                      404
    │  └─ ChangeRejected(errors)        400 / 409 / 422 on a write, or refused    → that item
    │                                   before sending (an option the field lacks)  fails: exit 3
    ├─ WritesHeldBack                   writing would be wrong (a global ranking
    │                                   missing a source): nothing written
    └─ WebhookRejected(status)          bad signature, size, body                → 4xx

The exit codes are decided from these types at the command line's edge (``cli.exit_codes``).

This module is a leaf: it imports nothing of ours, so every layer may import it.
Messages never contain secrets; connectors redact before raising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class PriosyncError(Exception):
    """Base of every error priosync raises on purpose."""


class ConfigError(PriosyncError):
    """The configuration is invalid: names the file, the key path, what was expected and found."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        self.found = found
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = ", ".join(p for p in (self.file, self.key) if p)
        text = f"{where}: {self.detail}" if where else self.detail
        said = [
            f"{label} {value}"
            for label, value in (("expected", self.expected), ("found", self.found))
            if value is not None
        ]
        # Keys and values come from the file: one line, whatever they hold.
        return _one_line(f"{text} ({', '.join(said)})" if said else text)


def _one_line(text: str) -> str:
    """``text`` with control characters (newlines too) written as ``\\xNN``."""
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else f"\\x{ord(ch):02x}"
        if ord(ch) < 0x100
        else f"\\u{ord(ch):04x}"
        for ch in text
    )


class ConfigErrors(ConfigError):
    """Several configuration problems found at once; each is a ``ConfigError``."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = tuple(errors)
        PriosyncError.__init__(self, "\n".join(str(e) for e in self.errors))
        self.file = self.errors[0].file if self.errors else None
        self.key = self.errors[0].key if self.errors else None
        self.expected = None
        self.found = None
        self.detail = str(self)


class FieldMappingError(PriosyncError):
    """A configured field name or id does not resolve to exactly one usable tracker field."""

    def __init__(
        self, message: str, *, field: str, candidates: Sequence[str] = (), ambiguous: bool = False
    ) -> None:
        self.field = field
        self.candidates = tuple(candidates)
        #: Several fields carry the name (else none does).
        self.ambiguous = ambiguous
        super().__init__(message)


class TrackerError(PriosyncError):
    """A tracker answered with an error, or could not be reached."""

    def __init__(self, message: str, *, tracker: str, status: int | None = None) -> None:
        self.tracker = tracker
        self.status = status
        super().__init__(message)


class TrackerUnavailable(TrackerError):
    """5xx, a timeout or a dropped connection: safe to retry with backoff."""


class Unreachable(TrackerUnavailable):
    """The host refused the connection or its name did not resolve: retried once, briefly,
    then reported naming the host (a wrong URL should not cost half a minute of backoff)."""


class NotTheTracker(TrackerError):
    """The URL answers, but not as the tracker's API (a web page, a proxy, another service):
    the configured address is wrong."""


class QueryRejected(TrackerError):
    """The tracker refused the source's query (a JQL syntax error, an unknown project)."""


class RateLimited(TrackerError):
    """The tracker asked us to slow down; ``retry_after_s`` is seconds to wait, when it said."""

    def __init__(
        self,
        message: str,
        *,
        tracker: str,
        status: int | None = 429,
        retry_after_s: float | None = None,
        reason: str | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        self.reason = reason
        super().__init__(message, tracker=tracker, status=status)


class AuthFailed(TrackerError):
    """401, or a 403 that is not a rate limit: credentials or permissions are wrong."""


class NotFound(TrackerError):
    """404: the issue, project or endpoint does not exist (or is hidden from us)."""


class ChangeRejected(TrackerError):
    """400 / 409 / 422 on a write (or a value refused before sending): the tracker will not
    take this change; other items go on."""

    def __init__(
        self,
        message: str,
        *,
        tracker: str,
        status: int | None = 400,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self.errors = dict(errors or {})
        super().__init__(message, tracker=tracker, status=status)


class WritesHeldBack(PriosyncError):
    """Nothing may be written from this read: it would write wrong values (a global ranking
    that could not read every source gives every other item a wrong rank)."""


class WebhookRejected(PriosyncError):
    """An inbound webhook request is refused with ``status`` (400, 401, 413, …)."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)
