"""The simulated CXone Agent desktop (demo mode only), on another site than the panel.

Served at ``http://localhost:PORT/desktop``, it frames the panel at ``http://127.0.0.1:PORT``
so cross-origin postMessage, frame-ancestors and cookie partitioning behave as under CXone.
Its controls for the demo CRM (slow, failing) go through here to the CRM's admin API.
"""

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..registration import PanelRegistration
from ..security_headers import content_security_policy
from ..settings import Settings

STATIC_DIR = Path(__file__).with_name("static")
FOREIGN_HOST = "foreign.localhost"  # another site, for tests of messages from strangers
ADMIN_TIMEOUT_S = 5.0


class DesktopSimulator:
    def __init__(
        self, settings: Settings, registration: PanelRegistration, clear_lookup_cache: Callable[[], Awaitable[None]]
    ) -> None:
        self._clear_lookup_cache = clear_lookup_cache
        self._crm_url = settings.crm_url
        self._crm_headers = (
            {"Authorization": f"Bearer {settings.crm_token.get_secret_value()}"} if settings.crm_token else {}
        )
        self._panel_origin = settings.panel_origin
        self._registration = registration.resolved(settings.panel_origin)
        self._foreign_origin = f"http://{FOREIGN_HOST}:{settings.port}"
        self._page = Template((STATIC_DIR / "desktop.html").read_text()).substitute(
            panel_url=html.escape(self._registration.url),
            panel_origin=html.escape(self._panel_origin),
            sandbox=html.escape(" ".join(self._registration.sandbox)),
            allow=html.escape("; ".join(self._registration.permissions)),
            foreign_origin=html.escape(self._foreign_origin),
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/desktop", self.page, methods=["GET"]),
            Mount("/desktop-static", app=StaticFiles(directory=STATIC_DIR)),
            Route("/demo/foreign-sender", self.foreign_sender, methods=["GET"]),
            Route("/demo/contacts", self.contacts, methods=["GET"]),
            Route("/demo/crm-behaviour", self.crm_behaviour, methods=["GET", "PUT"]),
            Route("/demo/crm-stats", self.crm_stats, methods=["GET"]),
            Route("/demo/crm-records", self.crm_records, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        csp = content_security_policy(
            {
                "default-src": ["'none'"],
                "script-src": ["'self'"],
                "style-src": ["'self'"],
                "connect-src": ["'self'"],
                "img-src": ["'self'", "data:"],
                "frame-src": [self._panel_origin, self._foreign_origin],
                "frame-ancestors": ["'none'"],
                "base-uri": ["'none'"],
                "form-action": ["'none'"],
            }
        )
        return HTMLResponse(self._page, headers={"content-security-policy": csp, "cache-control": "no-store"})

    async def foreign_sender(self, request: Request) -> Response:
        """A page on a foreign site that tries to post host events into the panel frame."""
        body = '<!doctype html><meta charset="utf-8"><script src="/desktop-static/foreign.js"></script>'
        csp = "default-src 'none'; script-src 'self'; frame-ancestors *"
        return HTMLResponse(body, headers={"content-security-policy": csp})

    async def contacts(self, request: Request) -> Response:
        return await self._relay("GET", "/api/contacts")

    async def crm_stats(self, request: Request) -> Response:
        return await self._relay("GET", "/admin/stats")

    async def crm_records(self, request: Request) -> Response:
        return await self._relay("GET", "/admin/records")

    async def crm_behaviour(self, request: Request) -> Response:
        """Relay to the CRM; a change also empties the proxy's lookup cache, so the next lookup meets it."""
        if request.method == "GET":
            return await self._relay("GET", "/admin/behaviour")
        response = await self._relay("PUT", "/admin/behaviour", await request.body())
        if response.status_code == 200:
            await self._clear_lookup_cache()
        return response

    async def _relay(self, method: str, path: str, body: bytes | None = None) -> Response:
        """Pass a demo control through to the demo CRM, which holds its own token check."""
        async with httpx.AsyncClient(base_url=self._crm_url, headers=self._crm_headers, timeout=ADMIN_TIMEOUT_S) as crm:
            response = await crm.request(method, path, content=body)
        return Response(response.content, status_code=response.status_code, media_type="application/json")
