"""The demo's stand-in for CXone's server side: the token endpoint and the custom-data API.

The proxy reaches it exactly as it would reach a tenant (access-key token, then custom data on a
contact), so the demo and the browser tests exercise the real client. What it receives is kept
(bounded) and shown by the simulated desktop at ``/demo/cxone-custom-data``.
"""

import base64
import secrets
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..cxone import CUSTOM_DATA_PATH
from ..settings import Settings

MAX_RECORDS = 500
MAX_TOKENS = 100
TOKEN_LIFETIME_S = 3600


class CustomFormData(BaseModel):
    """The body CXone's custom-data API takes (as NICE's SDK sends it)."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(max_length=4000)
    indicatorName: str = Field(min_length=1, max_length=80)  # noqa: N815  # CXone's field name


class SimulatedCxoneApi:
    def __init__(self, client_id: str, client_secret: str, key_id: str, key_secret: str) -> None:
        self._client = (client_id, client_secret)
        self._key = (key_id, key_secret)
        self._tokens: OrderedDict[str, float] = OrderedDict()  # token -> expiry (epoch s), newest last
        self._records: deque[dict[str, object]] = deque(maxlen=MAX_RECORDS)
        self.tokens_issued = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SimulatedCxoneApi":
        """Accepts the credentials the proxy is configured with; without them nobody gets a token."""
        client_secret = settings.cxone_client_secret.get_secret_value() if settings.cxone_client_secret else ""
        key_secret = settings.cxone_access_key_secret.get_secret_value() if settings.cxone_access_key_secret else ""
        return cls(settings.cxone_client_id, client_secret, settings.cxone_access_key_id, key_secret)

    def routes(self) -> list[Route]:
        return [
            Route("/auth/token", self.token, methods=["POST"]),
            Route(
                CUSTOM_DATA_PATH.replace("{session_id}", "{session_id:str}").replace(
                    "{contact_id}", "{contact_id:str}"
                ),
                self.custom_data,
                methods=["POST"],
            ),
            Route("/demo/cxone-custom-data", self.recorded, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        form = {name: values[0] for name, values in parse_qs((await request.body()).decode()).items()}
        presented = (form.get("username", ""), form.get("password", ""))
        if (
            form.get("grant_type") != "password"
            or not all(self._key)
            or not _same(presented, self._key)
            or not _same(_basic_auth(request), self._client)
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        value = secrets.token_urlsafe(24)
        self._tokens[value] = time.time() + TOKEN_LIFETIME_S
        while len(self._tokens) > MAX_TOKENS:
            self._tokens.popitem(last=False)
        self.tokens_issued += 1
        return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S})

    async def custom_data(self, request: Request) -> Response:
        value = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self._tokens.get(value, 0.0) < time.time():
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        try:
            body = CustomFormData.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_input=False)}, status_code=400)
        fields = dict(pair.split("=", 1) for pair in body.data.split("|") if "=" in pair)
        self._records.append(
            {
                "session_id": request.path_params["session_id"],
                "contact_id": request.path_params["contact_id"],
                "indicator_name": body.indicatorName,
                "data": body.data,
                "fields": fields,
                "received_at": datetime.now(UTC).isoformat(),
            }
        )
        return Response(status_code=202)

    def expire_tokens(self) -> None:
        """Every token issued so far stops working, as at the end of its hour."""
        self._tokens.clear()

    async def recorded(self, request: Request) -> Response:
        return JSONResponse({"records": list(self._records), "tokens_issued": self.tokens_issued})


def _basic_auth(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return ("", "")
    try:
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    except ValueError:
        return ("", "")
    return (user, password)


def _same(presented: tuple[str, str], expected: tuple[str, str]) -> bool:
    return all(secrets.compare_digest(a.encode(), b.encode()) for a, b in zip(presented, expected, strict=True))
