"""Webhook authenticity checks on the raw body, before any parsing (pure, constant time).

GitHub signs with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``
(https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries); Jira
admin webhooks with a secret send the same shape as ``X-Hub-Signature``
(https://developer.atlassian.com/cloud/jira/platform/webhooks/, "secure admin webhooks").
Jira setups that cannot sign may put a shared token in the URL instead: weaker, because URLs
end up in proxy logs and browser history, so it is the fallback, not the default.

Every comparison goes through ``hmac.compare_digest`` so the time taken does not reveal how
much of a guess was right. Errors say which check failed, never the expected value.
"""

from __future__ import annotations

import hashlib
import hmac

from priosync.errors import WebhookRejected

SIGNATURE_PREFIX = "sha256="


def compute_signature(secret: bytes, body: bytes) -> str:
    """The ``sha256=<hex>`` signature a sender with ``secret`` puts on ``body``."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None, *, header_name: str) -> None:
    """Accept ``body`` when ``header`` is its HMAC-SHA256 under ``secret``; else 401.

    A missing header, another algorithm or a wrong digest are all the same refusal.
    """
    if not header:
        raise WebhookRejected(f"missing {header_name} header", status=401)
    expected = compute_signature(secret, body).encode("ascii")
    given = header.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected(f"{header_name} does not match the body", status=401)


def verify_token(expected: bytes, given: str | None) -> None:
    """Accept a URL token equal to ``expected`` (compared in constant time); else 401."""
    if not given:
        raise WebhookRejected("missing token", status=401)
    if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
        raise WebhookRejected("token does not match", status=401)
