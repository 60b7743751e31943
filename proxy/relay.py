"""Reverse-proxy mode: a SaaS CRM page that forbids framing, relayed so the panel may frame it.

``/relay/<name>/<path>`` forwards to the configured upstream ``<name>``. The request's method, query,
body and headers go through unchanged, authentication (``Authorization``, ``Cookie``) included,
minus hop-by-hop headers, ``Host`` and the proxy's own session cookie. The answer comes back byte for byte with its own headers,
except that ``X-Frame-Options`` is dropped and the CSP's ``frame-ancestors`` becomes the panel's
own list of desktop origins. Only signed-in agents reach it.
"""

import ssl
from collections.abc import Iterable

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .auth import SESSION_COOKIE

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
FRAMING_HEADERS = frozenset({"x-frame-options", "content-security-policy"})


def without_own_cookie(header: bytes) -> bytes:
    """The Cookie header minus the proxy's own session: the agent's panel session is not the upstream's business."""
    kept = [part for part in header.split(b";") if part.strip().split(b"=", 1)[0] != SESSION_COOKIE.encode()]
    return b";".join(kept).strip()


def reframe_policy(policy: str, frame_ancestors: Iterable[str]) -> str:
    """The upstream's CSP with its ``frame-ancestors`` replaced (or added); every other directive kept."""
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    kept = [directive for directive in directives if directive.split()[0].lower() != "frame-ancestors"]
    return "; ".join([*kept, "frame-ancestors " + " ".join(frame_ancestors)])


class UpstreamRelay:
    def __init__(
        self,
        upstreams: dict[str, str],
        frame_ancestors: list[str],
        tls: ssl.SSLContext,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._upstreams = upstreams
        self._frame_ancestors = frame_ancestors
        self._http = httpx.AsyncClient(verify=tls, timeout=timeout_s, follow_redirects=False, transport=transport)

    def routes(self) -> list[Route]:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        return [Route("/{name}/{path:path}", self.relay, methods=methods)]

    async def relay(self, request: Request) -> Response:
        base = self._upstreams.get(request.path_params["name"])
        if base is None:
            return JSONResponse({"error": f"no relay called that; configured: {sorted(self._upstreams)}"}, 404)
        url = httpx.URL(f"{base}/{request.path_params['path']}", query=request.url.query.encode())
        headers = [
            (name, without_own_cookie(value) if name.lower() == b"cookie" else value)
            for name, value in request.headers.raw
            if name.decode().lower() not in HOP_BY_HOP
        ]
        upstream_request = self._http.build_request(request.method, url, headers=headers, content=request.stream())
        try:
            upstream = await self._http.send(upstream_request, stream=True)
        except httpx.HTTPError as error:
            return JSONResponse({"error": f"the upstream is unreachable ({type(error).__name__})"}, status_code=502)
        response_headers = [
            (name.decode(), value.decode("latin-1"))
            for name, value in upstream.headers.raw
            if name.decode().lower() not in HOP_BY_HOP | FRAMING_HEADERS
        ]
        upstream_policy = "; ".join(upstream.headers.get_list("content-security-policy"))
        response = StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
        )
        response.raw_headers = [
            *[(name.encode(), value.encode("latin-1")) for name, value in response_headers],
            (b"content-security-policy", reframe_policy(upstream_policy, self._frame_ancestors).encode()),
        ]
        return response

    async def aclose(self) -> None:
        await self._http.aclose()
