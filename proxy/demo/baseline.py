"""A bare PyScript page on the same self-hosted runtime (demo mode): the baseline start-up figures are measured against."""

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..assets import AssetDirectory
from ..panel_page import panel_csp

READY_MARK = "pyscript-ready"


class BaselinePage:
    def __init__(self, runtime: AssetDirectory) -> None:
        base = f"/runtime/{runtime.digest}"
        self._page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare PyScript</title>'
            '<link rel="icon" href="data:,">'
            f'<script type="module" src="{base}/pyscript/core.js"></script></head><body>'
            '<script type="py" config="/demo/baseline.toml">'
            f'from js import performance\nperformance.mark("{READY_MARK}")\n</script></body></html>'
        )
        self._config = f'interpreter = "{base}/pyodide.mjs"\npackages_cache = "passthrough"\n'
        self._csp = panel_csp(["'none'"], {})

    def routes(self) -> list[Route]:
        return [Route("/demo/baseline", self.page), Route("/demo/baseline.toml", self.config)]

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self._page, headers={"content-security-policy": self._csp, "cache-control": "no-store"})

    async def config(self, request: Request) -> Response:
        return Response(self._config, media_type="application/toml", headers={"cache-control": "no-store"})
