"""The browser implementation of the panel's ports, and start-up wiring. Runs only in Pyodide.

Nothing here decides anything: it moves values between the DOM/fetch/postMessage and the core.
"""

import asyncio
import gc
import json
from collections.abc import Callable, Coroutine
from typing import Any

from js import AbortSignal, Object, console, document, performance, window
from pyodide.ffi import JsProxy, create_once_callable, create_proxy, to_js
from pyodide.http import pyfetch

from .agent_actions import (
    AgentAction,
    CallCommand,
    ChooseRecord,
    ControlCall,
    CreateContact,
    CreateTask,
    EditNotes,
    LogCall,
    SwitchTo,
    UpdateContact,
)
from .app import PanelApp
from .lookup import HttpReply
from .origins import parse_allow_list
from .ports import FetchFailed, FetchTimedOut
from .state import PanelConfig
from .view import ActionView, ContactCard, CreateForm, InteractionTab, PanelView

TELEMETRY_URL = "/telemetry"
READY_MARK = "panel-ready"
TELEMETRY_DEADLINE_S = 5.0
_CONSOLE = {"debug": "debug", "info": "info", "warning": "warn", "error": "error"}
_COMMAND_LABELS: dict[str, str] = {"answer": "Answer", "hold": "Hold", "resume": "Resume", "hangup": "Hang up"}


class BrowserPorts:
    """PanelPorts over the real page: ``root`` is the ``#panel`` element."""

    def __init__(self, root: Any) -> None:
        self._root = root
        self._tasks: set[asyncio.Task[None]] = set()
        self._renders = 0

    async def fetch_json(self, url: str, deadline_s: float) -> HttpReply:
        return await self._request("GET", url, None, deadline_s)

    async def send_json(
        self, method: str, url: str, body: object, deadline_s: float, headers: dict[str, str] | None = None
    ) -> HttpReply:
        return await self._request(method, url, body, deadline_s, headers)

    def send_keepalive(self, method: str, url: str, body: object, headers: dict[str, str] | None = None) -> None:
        options = {
            "method": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": json.dumps(body),
            "credentials": "same-origin",
            "keepalive": True,
        }
        window.fetch(url, to_js(options, dict_converter=Object.fromEntries))  # dispatched now; not awaited

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _request(
        self, method: str, url: str, body: object, deadline_s: float, extra_headers: dict[str, str] | None = None
    ) -> HttpReply:
        headers = {"Accept": "application/json", **(extra_headers or {})}
        options: dict[str, object] = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            options["body"] = json.dumps(body)
        try:
            response = await pyfetch(
                url,
                method=method,
                headers=headers,
                credentials="same-origin",
                cache="no-store",
                signal=AbortSignal.timeout(int(deadline_s * 1000)),
                **options,
            )
            text = await response.text()
        except Exception as error:
            if "TimeoutError" in repr(error) or "AbortError" in repr(error) or "aborted" in str(error):
                raise FetchTimedOut(url) from None
            raise FetchFailed(str(error)) from None
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = None
        return HttpReply(status=response.status, body=decoded, retry_after=str(response.headers.get("retry-after", "")))

    def render(self, view: PanelView) -> None:
        root = self._root
        self._renders += 1
        root.setAttribute("data-render-count", str(self._renders))
        root.setAttribute("data-state", view.state)
        root.setAttribute("data-interaction-id", view.interaction_id)
        root.setAttribute("data-crm-id", view.crm_id)
        root.setAttribute("aria-busy", "true" if view.state in ("booting", "loading") else "false")
        self._text("headline", view.headline)
        self._text("detail", view.detail)
        self._text("agent", view.agent)
        self._text("announcement", view.announcement)
        self._contact(view.contact)
        self._matches(view.matches, view.crm_id)
        self._others(view.others)
        self._controls(view.controls)
        self._notes(view.interaction_id, view.notes)
        self._create_form(view.interaction_id, view.create_form)
        self._actions(view.actions, view.can_log)
        self._text("form-error", view.form_error)

    def request_frame(self, callback: Callable[[], None]) -> None:
        window.requestAnimationFrame(create_once_callable(lambda _timestamp: callback()))

    def post_to_host(self, message: dict[str, object], target_origin: str) -> None:
        window.parent.postMessage(to_js(message, dict_converter=Object.fromEntries), target_origin)

    def log(self, level: str, message: str) -> None:
        getattr(console, _CONSOLE.get(level, "log"))(f"[panel] {message}")

    def send_telemetry(self, name: str, fields: dict[str, object]) -> None:
        self.spawn(self._post_telemetry(name, fields))

    def now_ms(self) -> float:
        return float(performance.now())

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log("error", f"background job failed: {task.exception()!r}")

    async def _post_telemetry(self, name: str, fields: dict[str, object]) -> None:
        try:
            await self._request("POST", TELEMETRY_URL, {"name": name, "fields": fields}, TELEMETRY_DEADLINE_S)
        except (FetchTimedOut, FetchFailed) as error:  # telemetry must never disturb the panel
            self.log("debug", f"telemetry not sent: {error!r}")

    def _field(self, name: str) -> Any:
        return self._root.querySelector(f'[data-field="{name}"]')

    def _text(self, name: str, value: str) -> None:
        element = self._field(name)
        if element.textContent != value:
            element.textContent = value

    def _contact(self, card: ContactCard | None) -> None:
        section = self._field("contact")
        section.hidden = card is None
        for part in ("name", "company", "phone", "email"):
            element = section.querySelector(f'[data-contact="{part}"]')
            element.textContent = getattr(card, part) if card else ""

    def _matches(self, cards: tuple[ContactCard, ...], chosen: str) -> None:
        listing = self._field("matches")
        listing.replaceChildren()
        listing.hidden = not cards
        for card in cards:
            item = document.createElement("li")
            item.setAttribute("data-crm-id", card.crm_id)
            text = " · ".join(part for part in (card.name, card.company, card.phone) if part)
            button = _button(text, action="choose", crm_id=card.crm_id)
            button.setAttribute("aria-pressed", "true" if card.crm_id == chosen else "false")
            item.appendChild(button)
            listing.appendChild(item)

    def _others(self, tabs: tuple[InteractionTab, ...]) -> None:
        strip = self._field("others")
        strip.replaceChildren()
        strip.hidden = not tabs
        for tab in tabs:
            button = _button(tab.label, action="switch", interaction_id=tab.interaction_id)
            button.setAttribute("data-ringing", "true" if tab.ringing else "false")
            strip.appendChild(button)

    def _controls(self, commands: tuple[CallCommand, ...]) -> None:
        group = self._field("controls")
        group.replaceChildren()
        group.hidden = not commands
        for command in commands:
            group.appendChild(_button(_COMMAND_LABELS[command], action="control", command=command))

    def _notes(self, interaction_id: str, notes: str) -> None:
        """Bind the notes box to the interaction shown; never overwrite what the agent is typing."""
        self._field("notes-label").hidden = not interaction_id
        box = self._field("notes")
        switched = box.getAttribute("data-notes-for") != interaction_id
        if switched:
            box.setAttribute("data-notes-for", interaction_id)
        if (switched or document.activeElement != box) and box.value != notes:
            box.value = notes

    def _actions(self, actions: tuple[ActionView, ...], can_log: bool) -> None:
        self._field("actions-box").hidden = not (actions or can_log)
        self._field("log-button").hidden = not can_log
        listing = self._field("actions")
        listing.replaceChildren()
        for action in actions:
            item = document.createElement("li")
            item.setAttribute("data-status", action.status)
            item.textContent = action.text
            listing.appendChild(item)

    def _create_form(self, interaction_id: str, form: CreateForm | None) -> None:
        element = self._field("create")
        element.hidden = form is None
        if element.getAttribute("data-form-for") != interaction_id:
            element.setAttribute("data-form-for", interaction_id)
            element.reset()  # a form typed for one caller must not carry over to another
        self._text("create-phone", form.phone if form else "")
        self._text("create-error", form.error if form else "")
        element.querySelector('button[type="submit"]').disabled = bool(form and form.pending)


def _button(text: str, **data: str) -> Any:
    button = document.createElement("button")
    button.type = "button"
    button.textContent = text
    for name, value in data.items():
        button.setAttribute(f"data-{name.replace('_', '-')}", value)
    return button


def _action_from_click(event: Any, shown_id: str) -> AgentAction | None:
    """Translate a click on a ``data-action`` button into an agent action."""
    target = event.target.closest("[data-action]") if event.target else None
    if target is None:
        return None
    action = target.getAttribute("data-action")
    if action == "switch":
        return SwitchTo(target.getAttribute("data-interaction-id"))
    if action == "choose":
        return ChooseRecord(shown_id, target.getAttribute("data-crm-id"))
    if action == "control":
        return ControlCall(shown_id, target.getAttribute("data-command"))
    if action == "log":
        return LogCall(shown_id)
    return None


def _to_python(data: object) -> object:
    return data.to_py() if isinstance(data, JsProxy) else data


def start() -> None:
    """Wire the core to the page: drain what the bridge buffered, then mark the panel ready."""
    root = document.getElementById("panel")
    config = PanelConfig(allowed_origins=parse_allow_list(root.getAttribute("data-desktop-origins") or ""))
    ports = BrowserPorts(root)
    app = PanelApp(ports, config)

    def on_message(origin: str, from_parent: bool, data: object) -> None:
        try:
            app.on_host_message(str(origin), bool(from_parent), _to_python(data))
        except Exception as error:  # the panel must outlive any single bad message
            console.error(f"[panel] failed to handle a host message: {error!r}")

    def on_click(event: Any) -> None:
        action = _action_from_click(event, root.getAttribute("data-interaction-id") or "")
        if action is not None:
            app.on_agent_action(action)

    def on_input(event: Any) -> None:
        box = event.target
        if box.getAttribute("data-field") == "notes" and box.getAttribute("data-notes-for"):
            app.on_agent_action(EditNotes(box.getAttribute("data-notes-for"), str(box.value)))

    def diagnostics() -> str:
        """For support and tests: what the panel holds in memory, as JSON."""
        gc.collect()
        state = app.state
        return json.dumps(
            {"contexts": len(state.contexts), "tombstones": len(state.closed), "python_objects": len(gc.get_objects())}
        )

    window.panelDiagnostics = create_proxy(diagnostics)
    window.addEventListener("pagehide", create_proxy(lambda _event: app.on_page_hide()))

    def on_submit(event: Any) -> None:
        form = event.target
        kind = form.getAttribute("data-field")
        if kind not in ("create", "update-form", "task-form"):
            return
        event.preventDefault()

        def values(*names: str) -> dict[str, str]:
            return {name: str(form.elements.namedItem(name).value) for name in names}

        shown = root.getAttribute("data-interaction-id") or ""
        if kind == "create":
            app.on_agent_action(
                CreateContact(form.getAttribute("data-form-for") or "", **values("first_name", "last_name", "email"))
            )
        elif kind == "update-form":
            app.on_agent_action(UpdateContact(shown, **values("email", "company")))
        else:  # what was typed stays in the form: a refused entry is corrected, never re-typed
            app.on_agent_action(CreateTask(shown, **values("title", "due_date", "notes")))

    root.addEventListener("submit", create_proxy(on_submit))
    root.addEventListener("click", create_proxy(on_click))
    root.addEventListener("input", create_proxy(on_input))

    async def begin() -> None:
        await app.load_saved_notes()  # host messages wait in the bridge's buffer meanwhile
        window.cxonePanelBridge.attach(create_proxy(on_message))
        app.start()
        performance.mark(READY_MARK)  # start-up time, for benchmarks and field telemetry

    ports.spawn(begin())
