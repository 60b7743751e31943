"""Every HTTP call to a CRM goes through here: budget, credentials, one re-mint, errors, metrics.

Adapters speak their CRM's paths and payloads; this module does what is the same for all of them.
- The limiter gives the call a slot (or ``CrmThrottled``: the routes answer 503).
- The credential goes in the Authorization header. When the CRM refuses it and it can be minted
  anew, one new credential and one retry; never a loop.
- 429 (or the CRM's own way of saying it) becomes ``CrmRateLimited`` and holds the limiter back; other 4xx ``CrmRejected``; 5xx,
  network errors ``CrmError``; time-outs ``CrmTimeout``.
- Each call is counted by adapter and status, and timed.
"""

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from panel.outbox import retry_after_ms

from ..metrics import ProxyMetrics
from .base import CrmError, CrmRateLimited, CrmRejected, CrmTimeout
from .credentials import Credential, CrmCredentials
from .limiter import CrmLimiter

DEFAULT_RETRY_AFTER_S = 1.0
log = logging.getLogger("proxy.crm")


def refused_credentials(response: httpx.Response) -> bool:
    return response.status_code == 401


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (seconds or an HTTP date), None when absent or unreadable."""
    delay = retry_after_ms(response.headers.get("retry-after", ""), time.time())
    return None if delay is None else delay / 1000


def rate_limited_429(response: httpx.Response) -> float | None:
    """How long to wait when the CRM says it is rate limiting (429), else None."""
    if response.status_code != 429:
        return None
    wait = retry_after_header(response)
    return DEFAULT_RETRY_AFTER_S if wait is None else wait


class CrmTransport:
    def __init__(
        self,
        crm: str,
        http: httpx.AsyncClient,
        credentials: CrmCredentials,
        limiter: CrmLimiter | None = None,
        metrics: ProxyMetrics | None = None,
        credentials_refused: Callable[[httpx.Response], bool] = refused_credentials,
        rate_limited: Callable[[httpx.Response], float | None] = rate_limited_429,
        observe: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self.crm = crm
        self._http = http
        self._credentials = credentials
        self._limiter = limiter
        self._metrics = metrics
        self._credentials_refused = credentials_refused
        self._rate_limited = rate_limited
        self._observe = observe

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The CRM's answer to a 2xx/3xx, or the CrmError that says why there is none."""
        credential = await self._credentials.current()
        response = await self._send(method, path, credential, json, params)
        if self._credentials_refused(response):
            if not self._credentials.refreshable:
                raise CrmError(f"{self.crm} refused the proxy's credentials ({response.status_code})")
            self._credentials.invalidate(credential)
            credential = await self._credentials.current()
            response = await self._send(method, path, credential, json, params)
            if self._credentials_refused(response):
                self._credentials.invalidate(credential)
                raise CrmError(f"{self.crm} refused a freshly minted credential ({response.status_code})")
        if self._observe is not None:
            self._observe(response)
        wait = self._rate_limited(response)
        if wait is not None:
            if self._limiter is not None:
                await self._limiter.rate_limited(wait)
            raise CrmRateLimited(f"{self.crm} is rate limiting", wait)
        if 400 <= response.status_code < 500:
            raise CrmRejected(f"{self.crm} refused the request: {response.status_code} {_error_code(response)}")
        if response.status_code >= 500:
            raise CrmError(f"{self.crm} answered {response.status_code}")
        return response

    async def request_json(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        """``request`` for an answer whose JSON the adapter needs."""
        return json_body(await self.request(method, path, json=json, params=params), self.crm)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, path: str, credential: Credential, json: Any, params: Mapping[str, str] | None
    ) -> httpx.Response:
        if self._limiter is not None:
            await self._limiter.acquire()
        url = credential.base_url.rstrip("/") + path if credential.base_url else path
        headers = {"Authorization": f"Bearer {credential.token}"} if credential.token else {}
        started = time.perf_counter()
        status = "error"
        try:
            response = await self._http.request(method, url, json=json, params=params, headers=headers)
            status = str(response.status_code)
            return response
        except httpx.TimeoutException as error:
            status = "timeout"
            raise CrmTimeout(f"{self.crm} timed out: {type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise CrmError(f"{self.crm} unreachable: {type(error).__name__}") from None
        finally:
            if self._metrics is not None:
                self._metrics.crm_calls.labels(self.crm, status).inc()
                self._metrics.crm_latency.labels(self.crm).observe(time.perf_counter() - started)


def _error_code(response: httpx.Response) -> str:
    """The CRM's error code, not its message: messages can echo what was sent (numbers, names)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", ""))[:80]  # Salesforce
    if isinstance(body, dict):
        return str(body.get("category") or body.get("code") or body.get("errorCode") or "")[:80]
    return ""


def json_body(response: httpx.Response, crm: str) -> Any:
    """The answer's JSON, or CrmError: an adapter never guesses at a body it cannot read."""
    try:
        return response.json()
    except ValueError:
        raise CrmError(f"{crm} sent an answer that is not JSON") from None


def record_id(body: Any, crm: str, key: str = "id") -> str:
    """The id of the record a write created."""
    try:
        return str(body[key])
    except (KeyError, TypeError):
        raise CrmError(f"{crm}'s answer has no {key}") from None
