"""Security headers on every response; pages that need their own policy set it, the rest get the strictest."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def content_security_policy(directives: dict[str, list[str]]) -> str:
    """Render CSP directives in a stable order."""
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeaders:
    """Adds headers a response did not set itself: a page's own CSP wins over the strict default.

    Paths under ``passthrough_prefix`` (relayed upstream pages) keep their own headers untouched.
    """

    def __init__(self, app: ASGIApp, passthrough_prefix: str = "") -> None:
        self.app = app
        self._passthrough = passthrough_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self._passthrough and scope["path"].startswith(self._passthrough)):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = STRICT_CSP
                    headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
