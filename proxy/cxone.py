"""The proxy's client for CXone's server-side API: custom data on a live contact.

The panel never holds CXone credentials. The proxy signs in with its own access key (an OAuth
token from the tenant's token endpoint, cached and refreshed by ``TokenCache``) and posts to
``{acdApiBase}/InContactAPI/services/v23.0/agent-sessions/{sessionId}/interactions/{contactId}/custom-data``.
The body is the one NICE's own SDK sends there: ``{"data": "key=value|key=value", "indicatorName": ...}``,
answered with 202.
"""

from urllib.parse import quote

import httpx

from .tokens import IssuedToken, TokenCache, TokenEndpointError, request_token

CUSTOM_DATA_PATH = "/InContactAPI/services/v23.0/agent-sessions/{session_id}/interactions/{contact_id}/custom-data"
DEFAULT_TOKEN_LIFETIME_S = 3600.0
_RESERVED = str.maketrans({"|": " ", "=": " ", "\n": " ", "\r": " "})


class CxoneError(Exception):
    """CXone did not take the data; worth trying again later."""


class CxoneRateLimited(CxoneError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"CXone is rate limiting; retry after {retry_after_s:g} s")
        self.retry_after_s = retry_after_s


class CxoneRejected(CxoneError):
    """CXone refused the request itself (the contact or session is gone, the body is wrong): do not retry."""


def custom_data(fields: dict[str, str]) -> str:
    """CXone's ``key=value|key=value`` form; separators inside values are blanked, never passed through."""
    return "|".join(f"{key.translate(_RESERVED)}={value.translate(_RESERVED)}" for key, value in fields.items())


class CxoneAccessKeyMinter:
    """Mints tokens with a CXone access key: the password grant, the app's client id and secret as Basic auth."""

    def __init__(
        self, http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str, key_id: str, key_secret: str
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client = (client_id, client_secret)
        self._form = {"grant_type": "password", "username": key_id, "password": key_secret}

    async def __call__(self) -> IssuedToken:
        try:
            body = await request_token(self._http, self._token_url, self._form, auth=self._client)
            lifetime = float(body.get("expires_in", DEFAULT_TOKEN_LIFETIME_S))
        except TokenEndpointError as error:
            raise CxoneError(f"CXone's {error}") from None
        except (TypeError, ValueError):
            raise CxoneError("CXone's token endpoint sent an unreadable expires_in") from None
        return IssuedToken(str(body["access_token"]), lifetime)


class CxoneClient:
    def __init__(self, http: httpx.AsyncClient, api_base: str, tokens: TokenCache, indicator_name: str) -> None:
        self._http = http
        self._api_base = api_base.rstrip("/")
        self._tokens = tokens
        self._indicator_name = indicator_name

    async def post_custom_data(self, session_id: str, contact_id: str, fields: dict[str, str]) -> None:
        """Attach ``fields`` to the live contact; one fresh token and one retry after a 401, never more."""
        url = self._api_base + CUSTOM_DATA_PATH.format(
            session_id=quote(session_id, safe=""), contact_id=quote(contact_id, safe="")
        )
        body = {"data": custom_data(fields), "indicatorName": self._indicator_name}
        token = await self._tokens.token()
        response = await self._post(url, body, token)
        if response.status_code == 401:  # expired or revoked early: one fresh token, one retry
            self._tokens.invalidate(token)
            token = await self._tokens.token()
            response = await self._post(url, body, token)
            if response.status_code == 401:
                self._tokens.invalidate(token)
                raise CxoneError("CXone refused a freshly minted token: check the access key")
        self._raise_for(response)

    async def _post(self, url: str, body: dict[str, str], token: str) -> httpx.Response:
        try:
            return await self._http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException:
            raise CxoneError("CXone did not answer in time") from None
        except httpx.HTTPError as error:
            raise CxoneError(f"CXone is unreachable ({type(error).__name__})") from None

    async def aclose(self) -> None:
        await self._http.aclose()

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            header = response.headers.get("retry-after", "")
            raise CxoneRateLimited(float(header) if header.isdigit() else 5.0)
        if status == 408 or status >= 500:
            raise CxoneError(f"CXone answered {status}")
        raise CxoneRejected(f"CXone refused the custom data ({status})")
