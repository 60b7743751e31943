"""Agent sessions: who may use the ``/crm`` routes.

A session is a short signed token (PyJWT, HS256) in an HttpOnly cookie. The panel runs in a
cross-site iframe, so the cookie is ``SameSite=None; Secure; Partitioned``: Chromium keeps it in
the desktop's partition and sends it back on the panel's own requests. Requests that a browser
marks as coming from another site are refused even with a valid cookie.
"""

import json
import time
from dataclasses import dataclass

import jwt
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_COOKIE = "panel_session"
ISSUER = "cxone-crm-panel-proxy"
AUDIENCE = "cxone-crm-panel"


@dataclass(frozen=True)
class Agent:
    agent_id: str


class AgentSessions:
    """Issues and verifies session tokens with one server-side secret."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, agent_id: str) -> str:
        now = int(time.time())
        claims = {"sub": agent_id, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Agent | None:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWTError:
            return None
        return Agent(agent_id=str(claims["sub"]))

    def set_cookie(self, response: Response, agent_id: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.issue(agent_id),
            max_age=self.ttl_s,
            path="/",
            secure=True,
            httponly=True,
            samesite="none",
        )
        # Starlette writes Partitioned only on Python >= 3.14 (http.cookies); add the attribute here.
        name, value = response.raw_headers[-1]
        response.raw_headers[-1] = (name, value + b"; Partitioned")


class RequireAgent:
    """ASGI middleware for routes that need a signed-in agent: 401 without one, 403 cross-site."""

    def __init__(self, app: ASGIApp, sessions: AgentSessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        if connection.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            await _refuse(403, "cross-site requests are not allowed")(scope, receive, send)
            return
        agent = self.sessions.verify(connection.cookies.get(SESSION_COOKIE, ""))
        if agent is None:
            await _refuse(401, "not signed in")(scope, receive, send)
            return
        scope.setdefault("state", {})["agent"] = agent
        await self.app(scope, receive, send)


def _refuse(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status_code=status, media_type="application/json")
