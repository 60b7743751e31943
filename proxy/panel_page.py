"""The panel page, its PyScript configuration and its registration document.

``index.html`` and ``pyscript.toml`` are templates: the proxy fills in the digest URLs of the
runtime and the panel sources, the desktop origins the panel may believe, and the panel id.
"""

import html
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .assets import AssetDirectory
from .auth import AgentSessions
from .registration import PanelRegistration
from .security_headers import content_security_policy

DEMO_AGENT_ID = "demo-agent"
NO_STORE = "no-store"


def panel_csp(frame_ancestors: list[str], extra: dict[str, tuple[str, ...]]) -> str:
    """Only this origin's code and data; Pyodide needs eval and wasm-eval (see notes/browser-runtime)."""
    directives: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", "'unsafe-eval'"],
        "connect-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": frame_ancestors,
    }
    for directive, sources in extra.items():
        directives[directive] = list(dict.fromkeys([*directives.get(directive, []), *sources]))
    return content_security_policy(directives)


class PanelPage:
    """Endpoints for ``/cxone-panel``, ``/cxone-panel/registration`` and ``/pyscript.toml``."""

    def __init__(
        self,
        *,
        site_dir: Path,
        runtime: AssetDirectory,
        sources: AssetDirectory,
        registrations: dict[str, PanelRegistration],
        desktop_origins: list[str],
        public_url: str,
        sessions: AgentSessions,
        demo: bool,
    ) -> None:
        self._registrations = registrations
        self._desktop_origins = desktop_origins
        self._public_url = public_url
        self._sessions = sessions
        self._demo = demo
        urls = {"runtime_base": f"/runtime/{runtime.digest}", "panel_base": f"/panel-src/{sources.digest}"}
        page = Template((site_dir / "index.html").read_text())
        origins = " ".join(desktop_origins)
        # Rendered once here, so a broken template stops start-up instead of failing requests.
        self._pages = {
            panel_id: page.substitute(
                **urls,
                panel_id=html.escape(panel_id),
                desktop_origins=html.escape(origins),
                config_url="/pyscript.toml",
            )
            for panel_id in registrations
        }
        self._config = Template((site_dir / "pyscript.toml").read_text()).substitute(**urls)

    def routes(self) -> list[Route]:
        return [
            Route("/cxone-panel", self.page, methods=["GET"]),
            Route("/cxone-panel/registration", self.registration, methods=["GET"]),
            Route("/pyscript.toml", self.config, methods=["GET"]),
        ]

    def _select(self, request: Request) -> PanelRegistration | None:
        panel_id = request.query_params.get("panelId")
        if panel_id is None:
            return next(iter(self._registrations.values()))
        return self._registrations.get(panel_id)

    async def page(self, request: Request) -> Response:
        registration = self._select(request)
        if registration is None:
            return HTMLResponse("<h1>Unknown panel</h1>", status_code=404)
        response = HTMLResponse(self._pages[registration.panelId], headers={"cache-control": NO_STORE})
        response.headers["content-security-policy"] = panel_csp(self._desktop_origins, registration.csp)
        if self._demo:
            self._sessions.set_cookie(response, DEMO_AGENT_ID)
        return response

    async def config(self, request: Request) -> Response:
        return Response(self._config, media_type="application/toml", headers={"cache-control": NO_STORE})

    async def registration(self, request: Request) -> Response:
        registration = self._select(request)
        if registration is None:
            return JSONResponse({"error": "unknown panelId"}, status_code=404)
        return JSONResponse(registration.resolved(self._public_url).model_dump(mode="json"))
