"""PanelApp against fake ports: the shell logic without a browser."""

import asyncio
from collections.abc import Coroutine
from typing import Any

from panel.app import PanelApp
from panel.lookup import HttpReply
from panel.origins import parse_allow_list
from panel.ports import FetchFailed, FetchTimedOut
from panel.state import PanelConfig
from panel.view import PanelView

from .raw_events import batch, call_event

HOST = "https://na1.cxone.com"
ADA = {"key": "+14155550123", "matches": [{"id": "c-1001", "name": "Ada Lovelace"}]}


class FakePorts:
    """Answers fetches from a script of futures the test resolves; records everything else."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[HttpReply]] = {}
        self.renders: list[PanelView] = []
        self.telemetry: list[tuple[str, dict[str, object]]] = []
        self.logs: list[tuple[str, str]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.clock = 0.0

    async def fetch_json(self, url: str, deadline_s: float) -> HttpReply:
        future: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        self.pending[url] = future
        return await future

    def render(self, view: PanelView) -> None:
        self.renders.append(view)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def send_telemetry(self, name: str, fields: dict[str, object]) -> None:
        self.telemetry.append((name, fields))

    def now_ms(self) -> float:
        return self.clock

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        self.tasks.add(asyncio.ensure_future(job))

    async def settle(self) -> None:
        await asyncio.gather(*self.tasks)


def make_app() -> tuple[PanelApp, FakePorts]:
    ports = FakePorts()
    app = PanelApp(ports, PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com")))
    app.start()
    return app, ports


async def test_a_slow_lookup_does_not_delay_the_next_event() -> None:
    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("1")))
    await asyncio.sleep(0)  # let the lookup task reach its fetch
    app.on_host_message(HOST, True, batch(call_event("2", ANI="+14155550199")))
    assert ports.renders[-1].interaction_id == "2"  # handled while call 1's lookup is still open
    await asyncio.sleep(0)
    assert set(ports.pending) == {"/crm/contact?key=%2B14155550123", "/crm/contact?key=%2B14155550199"}
    ports.pending["/crm/contact?key=%2B14155550123"].set_result(HttpReply(200, ADA))
    ports.pending["/crm/contact?key=%2B14155550199"].set_result(HttpReply(200, {"key": "x", "matches": []}))
    await ports.settle()
    assert ports.renders[-1].interaction_id == "2" and ports.renders[-1].state == "nomatch"
    assert app.state.contexts["1"].lookup.matches[0].id == "c-1001"  # type: ignore[union-attr]


async def test_timeout_shows_error_and_sends_telemetry() -> None:
    app, ports = make_app()

    async def time_out(url: str, deadline_s: float) -> HttpReply:
        ports.clock += deadline_s * 1000
        raise FetchTimedOut(url)

    ports.fetch_json = time_out  # type: ignore[method-assign]
    app.on_host_message(HOST, True, batch(call_event("1")))
    await ports.settle()
    assert ports.renders[-1].state == "error"
    assert ports.telemetry == [("screen_pop_failed", {"interaction_id": "1", "reason": "timeout", "elapsed_ms": 3000})]


async def test_network_failure_shows_error() -> None:
    app, ports = make_app()

    async def fail(url: str, deadline_s: float) -> HttpReply:
        raise FetchFailed("connection refused")

    ports.fetch_json = fail  # type: ignore[method-assign]
    app.on_host_message(HOST, True, batch(call_event("1")))
    await ports.settle()
    assert (
        ports.renders[-1].state == "error"
        and ports.renders[-1].detail == "CRM context unavailable: no connection to the CRM proxy"
    )


async def test_renders_only_when_the_view_changes() -> None:
    app, ports = make_app()
    before = len(ports.renders)
    for _ in range(50):
        app.on_host_message(HOST, True, batch({"Type": "Indicator"}))
    assert len(ports.renders) == before
    assert [view.state for view in ports.renders] == ["booting", "idle"]
