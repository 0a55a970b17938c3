"""Webhook authenticity checks on the raw body, before any parsing (pure, constant time).

A signed delivery carries ``<prefix><hex HMAC(secret, body)>`` in the header its tracker's
``SignatureScheme`` names (``connectors.<tracker>.webhooks``). Setups that cannot sign may
put a shared token in the URL instead: weaker, because URLs end up in proxy logs and browser
history, so it is the fallback, not the default.

Every comparison goes through ``hmac.compare_digest`` so the time taken does not reveal how
much of a guess was right. Errors say which check failed, never the expected value.
"""

from __future__ import annotations

import hmac

from connectors.webhooks import SignatureScheme
from priosync.errors import WebhookRejected


def compute_signature(secret: bytes, body: bytes, scheme: SignatureScheme) -> str:
    """The header value a sender with ``secret`` puts on ``body`` under ``scheme``."""
    return scheme.prefix + hmac.new(secret, body, scheme.digest).hexdigest()


def verify_signature(
    secret: bytes, body: bytes, header: str | None, scheme: SignatureScheme
) -> None:
    """Accept ``body`` when ``header`` is its HMAC under ``secret`` and ``scheme``; else 401.

    A missing header, another algorithm or a wrong digest are all the same refusal.
    """
    if not header:
        raise WebhookRejected(f"missing {scheme.header} header", status=401)
    expected = compute_signature(secret, body, scheme).encode("ascii")
    given = header.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected(f"{scheme.header} does not match the body", status=401)


def verify_token(expected: bytes, given: str | None) -> None:
    """Accept a URL token equal to ``expected`` (compared in constant time); else 401."""
    if not given:
        raise WebhookRejected("missing token", status=401)
    if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
        raise WebhookRejected("token does not match", status=401)
