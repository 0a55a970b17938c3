"""GitHub authentication as an ``httpx.Auth``: a token, or a GitHub App's installation tokens.

A JWT signed RS256 with the app's private key (``iat`` 60 s in the past against clock
drift, ``exp`` 9 minutes ahead, within GitHub's 10 minute cap) is exchanged at
``POST /app/installations/{id}/access_tokens`` for an installation token valid one hour;
the token is refreshed when less than ``refresh_margin_s`` of it is left, so no request
goes out with a token about to expire. Concurrent requests share one exchange.
https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from config.secrets import BearerCredentials, GitHubAppCredentials
from connectors.github import protocol as p
from connectors.http import BearerAuth
from priosync.errors import AuthFailed, RateLimited, TrackerUnavailable

JWT_BACKDATE_S = 60
JWT_LIFETIME_S = 540
#: Refresh with 10 minutes left of the hour (many clients refresh at 30 min; §3.1).
REFRESH_MARGIN_S = 600.0


def build_auth(
    credentials: BearerCredentials | GitHubAppCredentials, *, api_url: str
) -> httpx.Auth:
    """A token's bearer auth, or the GitHub App's installation-token auth."""
    if isinstance(credentials, BearerCredentials):
        return BearerAuth(credentials.token.get_secret_value())
    return GitHubAppAuth(
        app_id=credentials.app_id,
        private_key=credentials.private_key.get_secret_value(),
        installation_id=credentials.installation_id,
        api_url=api_url,
    )


def build_app_jwt(app_id: str, private_key: str, *, now_epoch_s: float) -> str:
    """The app's JWT: ``iss`` the app id, ``iat`` backdated 60 s, ``exp`` 9 min ahead."""
    now = int(now_epoch_s)
    claims = {"iat": now - JWT_BACKDATE_S, "exp": now + JWT_LIFETIME_S, "iss": app_id}
    # Imported here: PyJWT's RS256 loads cryptography (9 MB resident), which a token needs not.
    import jwt

    return jwt.encode(claims, private_key, algorithm="RS256")


class GitHubAppAuth(httpx.Auth):
    """Adds ``Authorization: Bearer <installation token>``, minting and refreshing it."""

    requires_response_body = True

    def __init__(
        self,
        *,
        app_id: str,
        private_key: str,
        installation_id: str,
        api_url: str,
        clock: Callable[[], float] = time.time,
        refresh_margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._app_id = app_id
        self._private_key = private_key
        self._installation_id = installation_id
        self._api_url = api_url
        self._clock = clock
        self._margin_s = refresh_margin_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock: asyncio.Lock | None = None
        #: How many tokens were minted (tests and benchmarks assert it).
        self.exchanges = 0

    def __repr__(self) -> str:
        return f"GitHubAppAuth(app_id={self._app_id!r}, [redacted])"

    def needs_token(self) -> bool:
        """True when there is no token or less than the margin of its hour is left."""
        return self._token is None or self._clock() >= self._expires_at - self._margin_s

    def token_request(self) -> httpx.Request:
        """The exchange request, signed with a fresh JWT."""
        request = p.build_app_token_request(self._api_url, self._installation_id)
        signed = build_app_jwt(self._app_id, self._private_key, now_epoch_s=self._clock())
        request.headers["Authorization"] = f"Bearer {signed}"
        return request

    def store(self, response: httpx.Response) -> None:
        """Keep the token from the exchange's answer, or raise what its status means."""
        if response.status_code >= 400:
            raise exchange_error(response)
        self._token, self._expires_at = p.parse_app_token(response.json())
        self.exchanges += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.needs_token():
            self.store((yield self.token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.needs_token():
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self.needs_token():  # another request may have refreshed it meanwhile
                    response = yield self.token_request()
                    await response.aread()
                    self.store(response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def exchange_error(response: httpx.Response) -> Exception:
    """The error a failed token exchange means (the JWT never appears in it)."""
    text = p.describe_error(response.status_code, response.content).message
    message = f"{p.TRACKER} App token exchange answered {response.status_code}: {text}"
    status = response.status_code
    if status in (403, 429) and (p.is_secondary_limit(status, response.content) or status == 429):
        wait: Any = p.secondary_wait_s(response.headers, now_epoch_s=time.time())
        return RateLimited(message, tracker=p.TRACKER, status=status, retry_after_s=wait)
    if status >= 500:
        return TrackerUnavailable(message, tracker=p.TRACKER, status=status)
    return AuthFailed(
        message + " (check GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID)",
        tracker=p.TRACKER,
        status=status,
    )
