"""PanelApp against fake ports: the shell logic without a browser."""

import asyncio
import re
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
        self.keepalive: list[tuple[str, str, object, dict[str, str]]] = []
        self.action_replies: list[HttpReply] = []  # scripted answers to /crm/actions, then 201s
        self.action_posts: list[tuple[str, str]] = []  # (url, Idempotency-Key)
        self.slept: list[float] = []
        self.lookup_contacts: list[str] = []  # the ContactIDs lookups named
        self.drafts: dict[str, str] = {}  # what the proxy holds, by URL
        self.answers: dict[str, HttpReply] = {}  # lookups answered at once; others wait in `pending`
        self.clock = 0.0

    async def fetch_json(self, url: str, deadline_s: float) -> HttpReply:
        self.lookup_contacts.extend(re.findall(r"contact_id=([^&]+)", url))
        url = re.sub(r"contact_id=[^&]+&", "", url)  # answers are keyed by number; the ContactID is for logs
        if url == "/crm/drafts":
            return HttpReply(200, {"drafts": self.drafts})
        if url in self.answers:
            return self.answers[url]
        future: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        self.pending[url] = future
        return await future

    async def send_json(
        self, method: str, url: str, body: object, deadline_s: float, headers: dict[str, str] | None = None
    ) -> HttpReply:
        if url.startswith("/crm/actions/"):
            self.action_posts.append((url, (headers or {})["Idempotency-Key"]))
            return self.action_replies.pop(0) if self.action_replies else HttpReply(201, {"record_id": "L-1"})
        self.sent.append((method, url, body))
        return HttpReply(204, None)

    def send_keepalive(self, method: str, url: str, body: object, headers: dict[str, str] | None = None) -> None:
        self.keepalive.append((method, url, body, headers or {}))

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
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
    assert sorted(ports.lookup_contacts) == ["1", "2"]  # each lookup names its interaction for the proxy's logs
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
    assert ports.keepalive == [("PUT", "/crm/drafts/8", {"notes": "call back tomorrow"}, {})]
    app.on_page_hide()
    assert len(ports.keepalive) == 1  # already sent: nothing twice


async def test_notes_saved_before_a_reload_are_there_when_the_snapshot_rebuilds_the_calls() -> None:
    ports = FakePorts()
    app = PanelApp(ports, PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com")))
    ports.drafts = {"7": "wants a refund", "8": "call back tomorrow"}
    await app.load_saved_notes()  # before the bridge hands over any message
    app.start()
    nobody = HttpReply(200, {"key": "x", "matches": [{"id": "c-9", "name": "Kim"}]})
    ports.answers = {"/crm/contact?key=%2B14155550123": nobody, "/crm/contact?key=%2B14155550199": nobody}
    snapshot = batch(call_event("7", "Disconnected"), call_event("8", "Holding", ANI="+14155550199"))
    app.on_host_message(HOST, True, snapshot)
    assert app.state.contexts["7"].notes == "wants a refund"  # at once, not after a round trip
    assert app.state.contexts["8"].notes == "call back tomorrow"
    await ports.settle()
    (log,) = app.state.outbox  # the wrap-up call's auto-log carries the saved notes
    assert log.payload["notes"] == "wants a refund"
    app.on_page_hide()
    assert [sent for sent in ports.keepalive if sent[1].startswith("/crm/drafts/")] == []  # nothing new to save


# ----- the outbox: CRM actions written exactly once, whatever fails in between -----


def connected_call(ports: FakePorts, app: PanelApp, contact_id: str = "7") -> None:
    ports.answers["/crm/contact?key=%2B14155550123"] = HttpReply(200, ADA)
    app.on_host_message(
        HOST,
        True,
        batch(
            call_event(contact_id, "Incoming"),
            call_event(contact_id, "Active", LastStateChangeTimeUTC="2026-12-04T10:00:05Z"),
        ),
    )


async def test_the_call_is_logged_when_it_ends_through_two_429s() -> None:
    from panel.agent_actions import EditNotes

    app, ports = make_app()
    connected_call(ports, app)
    await ports.settle()
    app.on_agent_action(EditNotes("7", "wants a refund"))
    ports.action_replies = [
        HttpReply(429, {"error": "slow down"}, retry_after="2"),
        HttpReply(429, {}, retry_after="2"),
    ]
    app.on_host_message(
        HOST, True, batch(call_event("7", "Disconnected", LastStateChangeTimeUTC="2026-12-04T10:03:10Z"))
    )
    await ports.settle()
    keys = {key for _, key in ports.action_posts}
    assert len(ports.action_posts) == 3 and len(keys) == 1  # one action, tried three times with one key
    assert [seconds for seconds in ports.slept if seconds >= 1] == [2.0, 2.0]  # Retry-After honoured
    (entry,) = app.state.outbox
    assert (
        entry.status.value == "sent"
        and entry.payload["notes"] == "wants a refund"
        and entry.payload["duration_s"] == 185
    )
    assert ports.renders[-1].actions[0].text == "Call log: saved in the CRM"


async def test_the_end_of_wrap_up_rewrites_the_log_only_if_the_notes_changed() -> None:
    from panel.agent_actions import EditNotes

    app, ports = make_app()
    connected_call(ports, app)
    app.on_host_message(
        HOST, True, batch(call_event("7", "Disconnected", LastStateChangeTimeUTC="2026-12-04T10:03:10Z"))
    )
    await ports.settle()
    app.on_host_message(
        HOST,
        True,
        batch(call_event("7", "Disconnected", FinalState="True", LastStateChangeTimeUTC="2026-12-04T10:04:00Z")),
    )
    await ports.settle()
    assert len(ports.action_posts) == 1  # nothing changed: the same key, no second write
    connected_call(ports, app, "8")
    await ports.settle()
    app.on_host_message(
        HOST, True, batch(call_event("8", "Disconnected", LastStateChangeTimeUTC="2026-12-04T10:13:10Z"))
    )
    app.on_agent_action(EditNotes("8", "added during wrap-up"))
    app.on_host_message(
        HOST,
        True,
        batch(call_event("8", "Disconnected", FinalState="True", LastStateChangeTimeUTC="2026-12-04T10:14:00Z")),
    )
    await ports.settle()
    calls_for_8 = [key for _, key in ports.action_posts if key.startswith("8:")]
    assert len(calls_for_8) == 2 and len(set(calls_for_8)) == 2  # an update, under a new key


async def test_no_record_no_log_until_the_agent_chooses_one() -> None:
    from panel.agent_actions import ChooseRecord

    app, ports = make_app()
    two = {"key": "x", "matches": [{"id": "c-1", "name": "Ada"}, {"id": "c-2", "name": "Bob"}]}
    ports.answers["/crm/contact?key=%2B14155550123"] = HttpReply(200, two)
    app.on_host_message(HOST, True, batch(call_event("7", "Active")))
    await ports.settle()
    app.on_host_message(
        HOST, True, batch(call_event("7", "Disconnected", LastStateChangeTimeUTC="2026-12-04T10:03:10Z"))
    )
    await ports.settle()
    assert ports.action_posts == []
    app.on_agent_action(ChooseRecord("7", "c-2"))
    await ports.settle()
    assert [key.split(":")[:3] for _, key in ports.action_posts] == [["7", "call_log", "c-2"]]


async def test_a_refusal_is_shown_and_not_retried() -> None:
    app, ports = make_app()
    connected_call(ports, app)
    ports.action_replies = [HttpReply(422, {"error": "the CRM refused the call_log: unknown contact"})]
    app.on_host_message(
        HOST, True, batch(call_event("7", "Disconnected", LastStateChangeTimeUTC="2026-12-04T10:03:10Z"))
    )
    await ports.settle()
    assert len(ports.action_posts) == 1
    assert ports.renders[-1].actions[0].text == "Call log: not saved: the CRM refused the call_log: unknown contact"


async def test_page_hide_hands_unsent_actions_to_keepalive_requests_with_their_keys() -> None:
    from panel.agent_actions import LogCall

    app, ports = make_app()
    connected_call(ports, app)
    await ports.settle()
    ports.action_replies = [HttpReply(503, {})]
    app.on_agent_action(LogCall("7"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first attempt failed; a retry is scheduled
    app.on_page_hide()
    ((method, url, body, headers),) = [sent for sent in ports.keepalive if sent[1].startswith("/crm/actions/")]
    assert (method, url) == ("POST", "/crm/actions/call_log") and headers["Idempotency-Key"] == app.state.outbox[0].key


async def test_a_call_closed_before_its_lookup_answers_is_still_logged() -> None:
    app, ports = make_app()
    app.on_host_message(HOST, True, batch(call_event("9", "Active")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the lookup is out, unanswered
    app.on_host_message(
        HOST,
        True,
        batch(call_event("9", "Disconnected", FinalState="True", LastStateChangeTimeUTC="2026-12-04T10:00:30Z")),
    )
    ports.next_frame()
    assert ports.renders[-1].state == "idle" and ports.action_posts == []
    ports.pending["/crm/contact?key=%2B14155550123"].set_result(HttpReply(200, ADA))
    await ports.settle()
    assert [key.split(":")[:3] for _, key in ports.action_posts] == [["9", "call_log", "c-1001"]]
    assert "9" not in app.state.contexts  # logged, then forgotten
