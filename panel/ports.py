"""The panel's only door to the browser: a small interface the shell implements once.

``panel.browser`` implements it with the DOM, fetch and postMessage; tests pass their own,
the way httpx lets a test swap its transport.
"""

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from .lookup import HttpReply
from .view import PanelView


class FetchTimedOut(Exception):
    """The request was abandoned at its deadline."""


class FetchFailed(Exception):
    """The request failed before any HTTP status arrived (network down, proxy unreachable)."""


class PanelPorts(Protocol):
    async def fetch_json(self, url: str, deadline_s: float) -> HttpReply:
        """GET a same-origin URL with credentials; raise FetchTimedOut or FetchFailed."""
        ...

    async def send_json(
        self, method: str, url: str, body: object, deadline_s: float, headers: dict[str, str] | None = None
    ) -> HttpReply:
        """Send a JSON body to a same-origin URL with credentials; raise FetchTimedOut or FetchFailed."""
        ...

    def send_keepalive(self, method: str, url: str, body: object, headers: dict[str, str] | None = None) -> None:
        """Send a JSON body in a request that completes even if the page unloads (fire and forget)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def render(self, view: PanelView) -> None: ...

    def request_frame(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, before the next paint."""
        ...

    def post_to_host(self, message: dict[str, object], target_origin: str) -> None:
        """postMessage to the parent window (CXone Agent)."""
        ...

    def log(self, level: str, message: str) -> None: ...

    def send_telemetry(self, name: str, fields: dict[str, object]) -> None: ...

    def now_ms(self) -> float:
        """A monotonic clock in milliseconds."""
        ...

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine concurrently, so a slow request never delays the next event."""
        ...
