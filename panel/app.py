"""Runs the core against a set of ports: holds the current state and performs the effects.

This is the only stateful object in the panel; it knows nothing of the browser. State changes
apply at once, event by event; the screen is redrawn at most once per animation frame, so an
event storm costs one render per frame and no lifecycle change is ever skipped.
"""

import random
import time

from .agent_actions import AgentAction, EditNotes
from .drafts import DraftKeeper
from .effects import CreateRecord, Effect, Log, PostToHost, ScheduleRetry, SendAction, StartLookup, Telemetry
from .log_budget import LogBudget
from .lookup import LookupFailed, LookupOutcome, created_contact, outcome_from_reply
from .outbox import EntryStatus
from .ports import FetchFailed, FetchTimedOut, PanelPorts
from .state import (
    PanelConfig,
    PanelState,
    Transition,
    action_answered,
    apply_action,
    finish_create,
    finish_lookup,
    load_saved_notes,
    mark_ready,
    receive_message,
    retry_due,
)
from .view import PanelView, build_view

CONTACTS_URL = "/crm/contacts"
CREATE_DEADLINE_S = 10.0
ACTION_DEADLINE_S = 10.0


class PanelApp:
    def __init__(self, ports: PanelPorts, config: PanelConfig) -> None:
        self._ports = ports
        self._config = config
        self._log_budget = LogBudget()
        self._frame_requested = False
        self._shown: PanelView | None = None
        self.state = PanelState()
        self._drafts = DraftKeeper(ports, self._notes_of, self._log)
        self._request_render()

    async def load_saved_notes(self) -> None:
        """Read the notes saved before a reload; call before the message handler is attached."""
        self.state = load_saved_notes(self.state, await self._drafts.load())

    def start(self) -> None:
        """Mark the panel ready; call after the message handler is attached."""
        self.state = mark_ready(self.state)
        self._request_render()

    def on_host_message(self, origin: str, from_parent: bool, data: object) -> None:
        """Entry point for every postMessage the bridge hands over."""
        self._apply(receive_message(self.state, self._config, origin, from_parent, data))

    def on_agent_action(self, action: AgentAction) -> None:
        """Entry point for what the agent does in the panel."""
        self._apply(apply_action(self.state, self._config, action))
        if isinstance(action, EditNotes):
            self._drafts.edited(action.interaction_id)

    def on_page_hide(self) -> None:
        """The page is going away (reload, close): nothing the agent typed or asked for may be lost.

        Unsent CRM actions and reports go out in keepalive requests with their keys, so the proxy writes them
        once even if this page never hears the answer.
        """
        self._drafts.flush(list(self.state.contexts))
        for entry in self.state.outbox:
            if entry.status in (EntryStatus.QUEUED, EntryStatus.SENDING, EntryStatus.WAITING):
                self._ports.send_keepalive("POST", entry.url, entry.payload, {"Idempotency-Key": entry.key})

    def _notes_of(self, interaction_id: str) -> str | None:
        context = self.state.contexts.get(interaction_id)
        return context.notes if context is not None else None

    def _apply(self, transition: Transition) -> None:
        changed = transition.state is not self.state
        before = self.state.contexts
        self.state = transition.state
        if transition.state.contexts is not before:
            self._drafts.forget(set(before.keys() - self.state.contexts.keys()))
        for effect in transition.effects:
            self._perform(effect)
        if changed:
            self._request_render()

    def _perform(self, effect: Effect) -> None:
        match effect:
            case StartLookup():
                self._ports.spawn(self._lookup(effect))
            case CreateRecord():
                self._ports.spawn(self._create(effect))
            case SendAction():
                self._ports.spawn(self._send_action(effect))
            case ScheduleRetry(key, delay_ms):
                self._ports.spawn(self._retry_later(key, delay_ms))
            case PostToHost(message, target_origin):
                self._ports.post_to_host(message, target_origin)
            case Log(level, message):
                self._log(level, message)
            case Telemetry(name, fields):
                self._ports.send_telemetry(name, fields)

    def _log(self, level: str, message: str) -> None:
        admitted, held_back = self._log_budget.admit(level, self._ports.now_ms())
        if held_back:
            self._ports.log("info", f"{held_back} log lines were held back in the last window")
        if admitted:
            self._ports.log(level, message)

    async def _lookup(self, effect: StartLookup) -> None:
        started = self._ports.now_ms()
        outcome: LookupOutcome
        try:
            outcome = outcome_from_reply(await self._ports.fetch_json(effect.url, effect.deadline_s))
        except FetchTimedOut:
            outcome = LookupFailed("timeout")
        except FetchFailed:
            outcome = LookupFailed("network error")
        elapsed = self._ports.now_ms() - started
        self._apply(finish_lookup(self.state, effect.interaction_id, effect.request_id, outcome, elapsed))

    async def _create(self, effect: CreateRecord) -> None:
        try:
            reply = await self._ports.send_json("POST", CONTACTS_URL, effect.body, CREATE_DEADLINE_S)
            outcome = created_contact(reply)
        except FetchTimedOut:
            outcome = "the CRM did not answer in time; try again"
        except FetchFailed:
            outcome = "no connection to the CRM proxy; try again"
        self._apply(finish_create(self.state, effect.interaction_id, effect.request_id, outcome))

    async def _send_action(self, effect: SendAction) -> None:
        headers = {"Idempotency-Key": effect.key}
        try:
            reply = await self._ports.send_json("POST", effect.url, effect.payload, ACTION_DEADLINE_S, headers)
        except (FetchTimedOut, FetchFailed) as error:
            status, reason, retry_after = None, f"no answer from the CRM proxy ({type(error).__name__})", ""
        else:
            status, retry_after = reply.status, reply.retry_after
            reason = str(reply.body.get("error", "")) if isinstance(reply.body, dict) else ""
            reason = reason or f"http {reply.status}"
        self._apply(action_answered(self.state, effect.key, status, reason, retry_after, time.time(), random.random()))

    async def _retry_later(self, key: str, delay_ms: float) -> None:
        await self._ports.sleep(delay_ms / 1000)
        self._apply(retry_due(self.state, key))

    def _request_render(self) -> None:
        if not self._frame_requested:
            self._frame_requested = True
            self._ports.request_frame(self._render)

    def _render(self) -> None:
        self._frame_requested = False
        view = build_view(self.state)
        if view != self._shown:
            self._shown = view
            self._ports.render(view)
