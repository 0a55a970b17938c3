"""What every tracker's webhook module offers the service, and the verdict it returns (pure).

Each tracker's ``webhooks`` module (``connectors.jira.webhooks``, ``connectors.github.webhooks``)
exposes one ``WebhookSpec``: which header carries the body's signature and how it is spelled,
which header carries the delivery id, which header names the event (if the body does not),
and ``parse_event(headers, body, *, sources, owned, own_actors) -> Verdict``. The service
routes with these and never names a tracker's header or payload field itself.

Bodies are hints, not truth: only the item's identity is taken from them, and the items are
re-read from the tracker before anything is scored. Pydantic models validate the little each
parser needs (unknown fields are ignored); anything that does not fit is a
``WebhookRejected(400)``.

Loop prevention (design §8): a delivery is ignored when its actor is priosync's own account,
or when the change touched only fields priosync owns (score, priority, explanation, rank,
the managed labels). Any such event that slips through is harmless: the re-read item plans
to no change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from config.models import OutputsConfig, Source
from priosync.errors import WebhookRejected

M = TypeVar("M", bound=BaseModel)


# ── what a delivery asks for ─────────────────────────────────────────────────────────────


#: A target key that names an item by its ``WorkItem.ref`` (a Project item's node id), for
#: trackers whose webhooks do not carry the item's key; ``Connector.read_items`` takes both.
REF_PREFIX = "ref:"


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to re-read: an item of a source, or (``key`` None) the whole source."""

    source: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one verified delivery."""

    action: Literal["rescore", "ignore", "ping"]
    targets: tuple[Target, ...] = ()
    reason: str = ""


def ignore(reason: str) -> Verdict:
    return Verdict("ignore", reason=reason)


@dataclass(frozen=True, slots=True)
class OwnedFields:
    """The fields and labels priosync writes, to recognise its own changes coming back."""

    #: Casefolded names or ids of owned single-value fields (score, priority, …).
    fields: frozenset[str]
    #: The managed label prefix, when roadmap buckets are configured.
    label_prefix: str | None
    needs_input_label: str | None
    #: The trackers' own ids of the owned fields (a Project field's node id), learned from
    #: the connectors once they resolved their fields: the service fills this set in place.
    field_ids: AbstractSet[str] = frozenset()

    #: ``[scoring.freshness] stale_label``.
    stale_label: str | None = None

    @classmethod
    def from_config(
        cls,
        outputs: OutputsConfig,
        *,
        field_ids: AbstractSet[str] = frozenset(),
        stale_label: str | None = None,
    ) -> OwnedFields:
        names = (
            outputs.score_field,
            outputs.priority_field,
            outputs.explain_field,
            outputs.rank_field,
        )
        # With reorder on, Jira's Rank is priosync's too: a rank change alone (its own
        # moves coming back) changes no score (docs/tracker-apis.md §4.1).
        ranked = ("Rank",) if outputs.reorder else ()
        return cls(
            fields=frozenset(n.casefold() for n in (*names, *ranked) if n),
            label_prefix=outputs.label_prefix if outputs.roadmap else None,
            needs_input_label=outputs.needs_input_label,
            field_ids=field_ids,
            stale_label=stale_label,
        )

    def owns_field(self, *names: str | None) -> bool:
        """True when any of a field's names (display name, id) is an owned field."""
        return any(
            n is not None and (n.casefold() in self.fields or n in self.field_ids) for n in names
        )

    def owns_label(self, label: str) -> bool:
        if self.label_prefix is not None and label.startswith(self.label_prefix):
            return True
        return label is not None and label in (self.needs_input_label, self.stale_label)


# ── what a tracker's webhook module exposes ──────────────────────────────────────────────


class EventParser(Protocol):
    """Decides what one verified delivery asks for; ``WebhookRejected(400)`` if malformed."""

    def __call__(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        sources: Sequence[Source],
        owned: OwnedFields,
        own_actors: Collection[str] = (),
    ) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class SignatureScheme:
    """Where a tracker puts the HMAC of the raw body, and how the header value is spelled."""

    #: The request header carrying the signature.
    header: str
    #: The ``hashlib`` name of the HMAC's digest.
    digest: str = "sha256"
    #: What precedes the hex digest in the header value.
    prefix: str = "sha256="


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """How one tracker delivers webhooks: signature, delivery id, event name, and the parser."""

    signature: SignatureScheme
    #: The header carrying the delivery's id, the same when a delivery is sent again.
    delivery_header: str
    #: The header naming the event, or None when the body names it.
    event_header: str | None
    parse_event: EventParser


# ── shared by the parsers ────────────────────────────────────────────────────────────────


class Payload(BaseModel):
    """A webhook body's model: the fields a parser reads, everything else ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name``, whatever case the mapping spells it in."""
    value = headers.get(name)
    if value is not None:
        return value
    folded = name.casefold()
    return next((v for k, v in headers.items() if k.casefold() == folded), None)


def validate_body(model: type[M], body: bytes) -> M:
    """``body`` as ``model``, or ``WebhookRejected(400)`` naming where it does not fit."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise WebhookRejected(f"malformed body: {_first_error(exc)}", status=400) from None


def require_json(body: bytes) -> None:
    """Nothing when ``body`` is JSON; else ``WebhookRejected(400)``."""
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed body: not JSON", status=400) from None


def _first_error(exc: ValidationError) -> str:
    # The location and kind only: the input value may carry anything the sender put there.
    first = exc.errors(include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
