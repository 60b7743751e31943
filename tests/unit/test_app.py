"""PanelApp against fake ports: the shell logic without a browser."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from panel.app import PanelApp
from panel.lookup import HttpReply
from panel.origins import parse_allow_list
from panel.ports import FetchFailed, FetchTimedOut
from panel.state import PanelConfig
from panel.view import PanelView
from tests.raw_events import batch, call_event

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
        self.frames: list[Callable[[], None]] = []
        self.posted: list[tuple[dict[str, object], str]] = []
        self.sent: list[tuple[str, str, object]] = []
        self.keepalive: list[tuple[str, str, object]] = []
        self.drafts: dict[str, str] = {}  # what the proxy holds, by URL
        self.answers: dict[str, HttpReply] = {}  # lookups answered at once; others wait in `pending`
        self.clock = 0.0

    async def fetch_json(self, url: str, deadline_s: float) -> HttpReply:
        if url.startswith("/crm/drafts/"):
            return HttpReply(200, {"notes": self.drafts.get(url, "")})
        if url in self.answers:
            return self.answers[url]
        future: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        self.pending[url] = future
        return await future

    async def send_json(self, method: str, url: str, body: object, deadline_s: float) -> HttpReply:
        self.sent.append((method, url, body))
        return HttpReply(204, None)

    def send_keepalive(self, method: str, url: str, body: object) -> None:
        self.keepalive.append((method, url, body))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def render(self, view: PanelView) -> None:
        self.renders.append(view)

    def request_frame(self, callback: Callable[[], None]) -> None:
        self.frames.append(callback)

    def next_frame(self) -> None:
        """Run what was waiting for the next animation frame, as the browser would."""
        frames, self.frames = self.frames, []
        for callback in frames:
            callback()

    def post_to_host(self, message: dict[str, object], target_origin: str) -> None:
        self.posted.append((message, target_origin))

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def send_telemetry(self, name: str, fields: dict[str, object]) -> None:
        self.telemetry.append((name, fields))

    def now_ms(self) -> float:
        return self.clock

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        self.tasks.add(asyncio.ensure_future(job))

    async def settle(self) -> None:
        """Wait (with a deadline) for every job, including jobs that jobs spawn; then draw a frame."""

        async def all_jobs() -> None:
            while not all(task.done() for task in self.tasks):
                await asyncio.gather(*self.tasks)

        await asyncio.wait_for(all_jobs(), timeout=5)
        self.next_frame()


def make_app() -> tuple[PanelApp, FakePorts]:
    ports = FakePorts()
    app = PanelApp(ports, PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com")))
    app.start()
    ports.next_frame()
    return app, ports


async def test_a_slow_lookup_does_not_delay_the_next_event() -> None:
    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("1")))
    await asyncio.sleep(0)  # let the lookup task reach its fetch
    await asyncio.sleep(0)
    app.on_host_message(HOST, True, batch(call_event("2", ANI="+14155550199")))
    ports.next_frame()
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
    for _ in range(50):
        app.on_host_message(HOST, True, batch({"Type": "Indicator"}))
    ports.next_frame()
    assert [view.state for view in ports.renders] == ["idle"]
    assert ports.frames == []  # nothing changed, so no frame was even requested


async def test_a_storm_renders_once_per_frame_and_applies_every_lifecycle_change() -> None:
    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("1")))
    statuses = ["Active", "Holding", "Active", "Holding", "Active"]
    for index in range(10_000):
        if index % 2000 == 1999:  # a lifecycle change buried in the storm
            status = statuses[index // 2000]
            app.on_host_message(
                HOST,
                True,
                batch(call_event("1", status, LastStateChangeTimeUTC=f"2026-12-04T10:{index // 2000 + 1:02d}:00Z")),
            )
        else:
            app.on_host_message(HOST, True, batch({"Type": "Indicator", "Value": index}, call_event("1")))
    ports.next_frame()
    assert len(ports.renders) == 2  # idle at start-up, then one frame for the whole storm
    history = [state.value for state, _ in app.state.contexts["1"].history]
    assert history == ["ringing", "connected", "held", "connected", "held", "connected"]
    info = [message for level, message in ports.logs if level == "info"]
    assert len(ports.logs) <= 51 and not info  # the budget held the console to its window


async def test_call_control_goes_to_the_host_origin() -> None:
    from panel.agent_actions import ControlCall

    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("42")))
    app.on_agent_action(ControlCall("42", "answer"))
    app.on_agent_action(ControlCall("42", "resume"))  # not held: refused
    assert ports.posted == [({"issuer": "crm-context", "messageType": "AnswerEvent", "contactId": 42}, HOST)]


async def test_typed_notes_are_saved_once_typing_pauses() -> None:
    from panel.agent_actions import EditNotes

    app, ports = make_app()
    ports.answers["/crm/contact?key=%2B14155550123"] = HttpReply(200, ADA)
    app.on_host_message(HOST, True, batch(call_event("7", "Active")))
    for text in ("w", "wa", "wants a refund"):
        app.on_agent_action(EditNotes("7", text))
    await ports.settle()
    assert ports.sent == [("PUT", "/crm/drafts/7", {"notes": "wants a refund"})]


async def test_page_hide_sends_unsaved_notes_in_keepalive_requests() -> None:
    from panel.agent_actions import EditNotes

    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("7", "Active"), call_event("8", "Holding", ANI="+14155550199")))
    app.on_agent_action(EditNotes("8", "call back tomorrow"))
    app.on_page_hide()
    assert ports.keepalive == [("PUT", "/crm/drafts/8", {"notes": "call back tomorrow"})]
    app.on_page_hide()
    assert len(ports.keepalive) == 1  # already sent: nothing twice


async def test_notes_saved_before_a_reload_come_back_unless_the_agent_typed_since() -> None:
    from panel.agent_actions import EditNotes

    app, ports = make_app()
    ports.drafts = {"/crm/drafts/7": "wants a refund", "/crm/drafts/8": "old text"}
    nobody = HttpReply(200, {"key": "x", "matches": []})
    ports.answers = {"/crm/contact?key=%2B14155550123": nobody, "/crm/contact?key=%2B14155550199": nobody}
    app.on_host_message(HOST, True, batch(call_event("7", "Active"), call_event("8", "Holding", ANI="+14155550199")))
    app.on_agent_action(EditNotes("8", "typed before the draft arrived"))
    await ports.settle()
    assert app.state.contexts["7"].notes == "wants a refund"
    assert app.state.contexts["8"].notes == "typed before the draft arrived"
