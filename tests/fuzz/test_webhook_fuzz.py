"""Fuzzing the webhook endpoints: any body and any headers, signed or not, get a 2xx or a
4xx answer — never a 5xx, never an error counted, never a write."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.demo import DEMO_CONFIG
from config import validate_config
from service import create_service_app

JIRA_SECRET, GITHUB_SECRET = "jira-s3cret", "gh-s3cret"
ENVIRON = {
    "JIRA_EMAIL": "demo@example.com",
    "JIRA_API_TOKEN": "sandbox-token",
    "PRIOSYNC_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
    "PRIOSYNC_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
}


def refuse_all(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a fuzzed webhook reached the tracker: {request.method} {request.url}")


# No lifespan runs under ASGITransport: no first sync, no worker, so what is tested is the
# request path alone (verify, decode, parse, dedupe, queue) and the tracker is never asked.
APP = create_service_app(
    validate_config(
        {**DEMO_CONFIG, "server": {"max_body_bytes": 65536}}, file=Path("f.toml"), environ={}
    ),
    environ=ENVIRON,
    transports={"web": httpx.MockTransport(refuse_all)},
)

JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)
KNOWN_SHAPES = st.fixed_dictionaries(
    {
        "webhookEvent": st.sampled_from(
            ["jira:issue_updated", "jira:issue_created", "jira:issue_deleted", "x", ""]
        ),
        "issue": st.one_of(JSONISH, st.fixed_dictionaries({"key": st.text(max_size=20)})),
        "changelog": JSONISH,
        "action": st.sampled_from(["edited", "labeled", "opened", "created", "deleted", "x"]),
        "projects_v2_item": JSONISH,
        "repository": JSONISH,
        "changes": JSONISH,
    }
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSONISH.map(lambda v: json.dumps(v).encode()),
    KNOWN_SHAPES.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
)
HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
EXTRA_HEADERS = st.dictionaries(
    st.sampled_from(
        ["Content-Type", "Content-Encoding", "X-GitHub-Delivery", "X-Atlassian-Webhook-Identifier",
         "Content-Length", "X-GitHub-Event"]
    ),
    HEADER_VALUES,
    max_size=3,
)  # fmt: skip


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestWebhookFuzz:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(
        tracker=st.sampled_from(["jira", "github"]),
        body=BODIES,
        signed=st.booleans(),
        event=st.sampled_from(["issues", "projects_v2_item", "ping", "star", ""]),
        extra=EXTRA_HEADERS,
    )
    async def test_never_a_5xx(
        self, tracker: str, body: bytes, signed: bool, event: str, extra: dict[str, str]
    ) -> None:
        """Whatever comes in, the answer is 2xx or 4xx and no error is counted."""
        headers = {"Content-Type": "application/json", **extra}
        if tracker == "github":
            headers.setdefault("X-GitHub-Event", event)
        if signed:
            header = "X-Hub-Signature" if tracker == "jira" else "X-Hub-Signature-256"
            headers[header] = signature(JIRA_SECRET if tracker == "jira" else GITHUB_SECRET, body)
        transport = httpx.ASGITransport(app=APP)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            try:
                response = await client.post(f"/webhooks/{tracker}", content=body, headers=headers)
            except httpx.LocalProtocolError:
                return  # httpx itself refused to send these headers (a bad Content-Length)
        assert response.status_code < 500, response.text
        assert APP.state.metrics.total("priosync_errors_total") == 0
