"""Server-side access tokens: fetched when first needed, cached, refreshed before they expire.

One refresh is in flight at a time (single-flight): a burst of requests that all find the token
stale waits for one mint, not one each. A caller that gets a 401 with a token invalidates that
token, so the next caller mints a fresh one; a 401 never starts a loop.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_REFRESH_MARGIN_S = 600.0  # as NICE's own SDK does; tokens live about an hour


@dataclass(frozen=True)
class IssuedToken:
    value: str
    lifetime_s: float
    base_url: str = ""  # where the token is to be used, when the issuer says (Salesforce's instance_url)


class TokenCache:
    def __init__(
        self,
        mint: Callable[[], Awaitable[IssuedToken]],
        refresh_margin_s: float = DEFAULT_REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mint = mint
        self._margin_s = refresh_margin_s
        self._clock = clock
        self._issued = IssuedToken("", 0.0)
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.mints = 0  # how many tokens this cache has fetched

    async def token(self) -> str:
        """A token that is valid now and for a while yet."""
        return (await self.issued()).value

    async def issued(self) -> IssuedToken:
        """The current token with what its issuer said about it."""
        if self._fresh():
            return self._issued
        async with self._lock:
            if not self._fresh():  # someone else may have minted while this caller waited
                issued = await self._mint()
                self.mints += 1
                margin = min(self._margin_s, issued.lifetime_s / 2)  # a short-lived token is still used a while
                self._issued, self._refresh_at = issued, self._clock() + issued.lifetime_s - margin
        return self._issued

    def invalidate(self, value: str) -> None:
        """The server refused ``value``: the next caller mints a new one (unless someone already did)."""
        if value == self._issued.value:
            self._issued, self._refresh_at = IssuedToken("", 0.0), 0.0

    def _fresh(self) -> bool:
        return bool(self._issued.value) and self._clock() < self._refresh_at


class TokenEndpointError(Exception):
    """The token endpoint gave no token: unreachable, refused the credentials, or answered nonsense."""


async def request_token(
    http: httpx.AsyncClient, url: str, form: dict[str, str], auth: tuple[str, str] | None = None
) -> dict[str, Any]:
    """POST an OAuth token request (form-encoded); the answer's JSON, which holds an ``access_token``."""
    try:
        response = await http.post(url, data=form, auth=httpx.BasicAuth(*auth) if auth else httpx.USE_CLIENT_DEFAULT)
    except httpx.HTTPError as error:
        raise TokenEndpointError(f"token endpoint unreachable ({type(error).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200:
        code = body.get("error", "") if isinstance(body, dict) else ""
        raise TokenEndpointError(f"token endpoint refused the credentials: {response.status_code} {code}".strip())
    if not isinstance(body, dict) or not body.get("access_token"):
        raise TokenEndpointError("token endpoint answered without an access_token")
    return body
