"""Signature and token checks on the raw body."""

from __future__ import annotations

import pytest

from connectors.github.webhooks import WEBHOOK as GITHUB
from connectors.jira.webhooks import WEBHOOK as JIRA
from priosync.errors import WebhookRejected
from service.verify import compute_signature, verify_signature, verify_token

# GitHub's published test vector (docs: validating webhook deliveries).
SECRET = b"It's a Secret to Everybody"
BODY = b"Hello, World!"
VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


class TestVerifySignature:
    def test_matches_githubs_test_vector(self) -> None:
        """The computed signature equals GitHub's documented example."""
        assert compute_signature(SECRET, BODY, GITHUB.signature) == VECTOR

    def test_accepts_the_right_signature(self) -> None:
        """A correct signature passes without raising."""
        verify_signature(SECRET, BODY, VECTOR, GITHUB.signature)

    @pytest.mark.parametrize(
        "header",
        [None, "", "sha256=", VECTOR[:-1] + "0", VECTOR.replace("sha256=", "sha1="), "garbage ü"],
    )
    def test_refuses_anything_else_with_401(self, header: str | None) -> None:
        """Missing, truncated, wrong-algorithm or wrong digests are all a 401."""
        with pytest.raises(WebhookRejected) as caught:
            verify_signature(SECRET, BODY, header, GITHUB.signature)
        assert caught.value.status == 401

    def test_refuses_a_changed_body(self) -> None:
        """The signature binds the exact bytes: one changed byte is refused."""
        with pytest.raises(WebhookRejected):
            verify_signature(SECRET, BODY + b" ", VECTOR, JIRA.signature)

    def test_message_never_contains_the_expected_digest(self) -> None:
        """The refusal does not leak what the right signature would have been."""
        with pytest.raises(WebhookRejected) as caught:
            verify_signature(SECRET, BODY, "sha256=00", JIRA.signature)
        assert VECTOR[7:] not in str(caught.value)

    def test_refusals_name_the_trackers_signature_header(self) -> None:
        """The message says which header was missing or wrong, as the scheme names it."""
        with pytest.raises(WebhookRejected) as missing:
            verify_signature(SECRET, BODY, None, GITHUB.signature)
        with pytest.raises(WebhookRejected) as wrong:
            verify_signature(SECRET, BODY, VECTOR[:-1] + "0", JIRA.signature)
        assert str(missing.value) == "missing X-Hub-Signature-256 header"
        assert str(wrong.value) == "X-Hub-Signature does not match the body"


class TestVerifyToken:
    def test_accepts_the_token(self) -> None:
        """The configured token passes."""
        verify_token(b"t0ken", "t0ken")

    @pytest.mark.parametrize("given", [None, "", "t0ke", "t0kenX", "T0KEN"])
    def test_refuses_other_tokens(self, given: str | None) -> None:
        """Any other token (or none) is a 401."""
        with pytest.raises(WebhookRejected) as caught:
            verify_token(b"t0ken", given)
        assert caught.value.status == 401
