"""How the proxy proves itself to a CRM. Secrets stay here: never logged, never sent to the browser.

A static token (HubSpot private app, BottleCRM personal access token) is sent as it is. Salesforce's
OAuth flows mint tokens (client credentials, or a JWT bearer assertion signed with the connected
app's key); a ``TokenCache`` keeps one, refreshes it before it expires and mints one at a time.
"""

import time
from dataclasses import dataclass
from typing import Protocol

import httpx
import jwt

from ..tokens import IssuedToken, TokenCache, TokenEndpointError, request_token
from .base import CrmError

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_ASSERTION_LIFETIME_S = 180  # Salesforce accepts at most 3 minutes


@dataclass(frozen=True)
class Credential:
    token: str
    base_url: str = ""  # empty: the configured CRM URL


class CrmCredentials(Protocol):
    @property
    def refreshable(self) -> bool:
        """Whether a refused credential can be replaced by minting (a static token cannot)."""
        ...

    async def current(self) -> Credential: ...

    def invalidate(self, credential: Credential) -> None: ...


class StaticToken:
    refreshable = False

    def __init__(self, token: str) -> None:
        self._credential = Credential(token)

    async def current(self) -> Credential:
        return self._credential

    def invalidate(self, credential: Credential) -> None:
        """Nothing to do: a refused static token needs a new one in the configuration."""


class MintedToken:
    """Tokens from an OAuth token endpoint, through a TokenCache."""

    refreshable = True

    def __init__(self, tokens: TokenCache) -> None:
        self._tokens = tokens

    async def current(self) -> Credential:
        issued = await self._tokens.issued()
        return Credential(issued.value, issued.base_url)

    def invalidate(self, credential: Credential) -> None:
        self._tokens.invalidate(credential.token)


class SalesforceTokenEndpoint:
    """Mints Salesforce access tokens: client credentials, or the JWT bearer flow with an RS256 assertion.

    Neither flow returns ``expires_in`` or a refresh token, so the lifetime is configuration (the org's
    session timeout) and a 401 ``INVALID_SESSION_ID`` re-mints.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        login_url: str,
        client_id: str,
        lifetime_s: float,
        client_secret: str = "",
        jwt_username: str = "",
        jwt_private_key: str = "",
    ) -> None:
        if not client_secret and not (jwt_username and jwt_private_key):
            raise ValueError("Salesforce needs a client secret, or a username and private key for the JWT flow")
        self._http = http
        self._login_url = login_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._jwt_username = jwt_username
        self._jwt_private_key = jwt_private_key
        self._lifetime_s = lifetime_s

    def _form(self) -> dict[str, str]:
        if self._jwt_private_key:
            claims = {
                "iss": self._client_id,
                "sub": self._jwt_username,
                "aud": self._login_url,
                "exp": int(time.time()) + JWT_ASSERTION_LIFETIME_S,
            }
            assertion = jwt.encode(claims, self._jwt_private_key, algorithm="RS256")
            return {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
        return {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }

    async def __call__(self) -> IssuedToken:
        try:
            body = await request_token(self._http, f"{self._login_url}/services/oauth2/token", self._form())
        except TokenEndpointError as error:
            raise CrmError(f"salesforce {error}") from None
        if not body.get("instance_url"):
            raise CrmError("salesforce token endpoint answered without an instance_url")
        return IssuedToken(str(body["access_token"]), self._lifetime_s, str(body["instance_url"]))
