"""Runs the core against a set of ports: holds the current state and performs the effects.

This is the only stateful object in the panel; it knows nothing of the browser.
"""

from .effects import Effect, Log, StartLookup, Telemetry
from .lookup import LookupFailed, LookupOutcome, outcome_from_reply
from .ports import FetchFailed, FetchTimedOut, PanelPorts
from .state import PanelConfig, PanelState, Transition, finish_lookup, mark_ready, receive_message
from .view import PanelView, build_view


class PanelApp:
    def __init__(self, ports: PanelPorts, config: PanelConfig) -> None:
        self._ports = ports
        self._config = config
        self.state = PanelState()
        self._shown: PanelView | None = None
        self._render()

    def start(self) -> None:
        """Mark the panel ready; call after the message handler is attached."""
        self.state = mark_ready(self.state)
        self._render()

    def on_host_message(self, origin: str, from_parent: bool, data: object) -> None:
        """Entry point for every postMessage the bridge hands over."""
        self._apply(receive_message(self.state, self._config, origin, from_parent, data))

    def _apply(self, transition: Transition) -> None:
        self.state = transition.state
        for effect in transition.effects:
            self._perform(effect)
        self._render()

    def _perform(self, effect: Effect) -> None:
        match effect:
            case StartLookup():
                self._ports.spawn(self._lookup(effect))
            case Log(level, message):
                self._ports.log(level, message)
            case Telemetry(name, fields):
                self._ports.send_telemetry(name, fields)

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

    def _render(self) -> None:
        view = build_view(self.state)
        if view != self._shown:
            self._shown = view
            self._ports.render(view)
