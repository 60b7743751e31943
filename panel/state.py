"""The panel's state and its transitions: host events and lookup results in, new state and effects out.

Pure functions over frozen values. Every interaction keeps its own context (its lookup and
matches), keyed by ContactID, so a late answer or a second call never overwrites another's.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from .effects import Effect, Log, StartLookup, Telemetry
from .host_protocol import (
    AgentStatusChanged,
    EventIgnored,
    HostEvent,
    InteractionUpdated,
    SessionAnnounced,
    SubscriptionAcknowledged,
    parse_batch,
)
from .lookup import LOOKUP_DEADLINE_S, LookupFound, LookupOutcome, lookup_key, lookup_url
from .models import AgentStatus, CrmContact, Interaction, InteractionState
from .origins import OriginPattern, origin_allowed

POP_STATES = frozenset({InteractionState.RINGING, InteractionState.DIALING, InteractionState.CONNECTED})
MAX_CONTEXTS = 32  # far above any agent's concurrent contacts; bounds memory if closes are missed


class LookupStatus(StrEnum):
    PENDING = "pending"
    FOUND = "found"
    NO_MATCH = "nomatch"
    FAILED = "failed"


@dataclass(frozen=True)
class Lookup:
    status: LookupStatus
    request_id: int = 0
    matches: tuple[CrmContact, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class InteractionContext:
    """Everything the panel knows about one interaction; ``seq`` orders recency across contexts."""

    interaction: Interaction
    lookup: Lookup | None
    seq: int


@dataclass(frozen=True)
class PanelConfig:
    allowed_origins: tuple[OriginPattern, ...]
    lookup_deadline_s: float = LOOKUP_DEADLINE_S


@dataclass(frozen=True)
class PanelState:
    ready: bool = False
    contexts: Mapping[str, InteractionContext] = field(default_factory=lambda: MappingProxyType({}))
    agent: AgentStatus | None = None
    subscribed: bool = False
    host_origin: str = ""
    seq: int = 0
    next_request_id: int = 1


@dataclass(frozen=True)
class Transition:
    state: PanelState
    effects: tuple[Effect, ...] = ()


def mark_ready(state: PanelState) -> PanelState:
    """The shell is wired up: from now on the panel acts on events."""
    return replace(state, ready=True)


def receive_message(state: PanelState, config: PanelConfig, origin: str, from_parent: bool, data: object) -> Transition:
    """Handle one postMessage; only the parent window at an allow-listed origin is believed."""
    if not from_parent:
        return Transition(state, (Log("debug", "ignored a message from a window other than the parent"),))
    if not origin_allowed(origin, config.allowed_origins):
        return Transition(state, (Log("warning", f"ignored a message from origin {origin[:100]!r}: not allowed"),))
    if state.host_origin != origin:
        state = replace(state, host_origin=origin)
    effects: list[Effect] = []
    for event in parse_batch(data):
        state = _apply_event(state, config, event, effects)
    return Transition(state, tuple(effects))


def finish_lookup(
    state: PanelState, interaction_id: str, request_id: int, outcome: LookupOutcome, elapsed_ms: float
) -> Transition:
    """Record a lookup's outcome on its own interaction; answers to superseded requests are dropped."""
    context = state.contexts.get(interaction_id)
    if context is None or context.lookup is None or context.lookup.request_id != request_id:
        return Transition(state, (Log("debug", f"dropped a late lookup answer for {interaction_id}"),))
    if isinstance(outcome, LookupFound):
        status = LookupStatus.FOUND if outcome.matches else LookupStatus.NO_MATCH
        lookup = Lookup(status, request_id, outcome.matches)
        effects: tuple[Effect, ...] = ()
    else:
        lookup = Lookup(LookupStatus.FAILED, request_id, reason=outcome.reason)
        effects = (
            Log("warning", f"screen pop for {interaction_id} failed: {outcome.reason}"),
            Telemetry(
                "screen_pop_failed",
                {"interaction_id": interaction_id, "reason": outcome.reason, "elapsed_ms": round(elapsed_ms)},
            ),
        )
    contexts = dict(state.contexts)
    contexts[interaction_id] = replace(context, lookup=lookup)
    return Transition(replace(state, contexts=MappingProxyType(contexts)), effects)


def shown_context(state: PanelState) -> InteractionContext | None:
    """The interaction the agent is on: connected first, then ringing, held, wrapping up; newest wins."""
    if not state.contexts:
        return None
    return max(state.contexts.values(), key=lambda context: (_SHOW_PRIORITY[context.interaction.state], context.seq))


_SHOW_PRIORITY = {
    InteractionState.CONNECTED: 4,
    InteractionState.RINGING: 3,
    InteractionState.DIALING: 3,
    InteractionState.HELD: 2,
    InteractionState.DISCONNECTED: 1,
}


def _apply_event(state: PanelState, config: PanelConfig, event: HostEvent, effects: list[Effect]) -> PanelState:
    match event:
        case InteractionUpdated(interaction):
            return _apply_interaction(state, config, interaction, effects)
        case AgentStatusChanged(status):
            return replace(state, agent=status)
        case SubscriptionAcknowledged(ok, reason):
            if not ok:
                effects.append(Log("error", f"CXone refused the event subscription: {reason or 'no reason given'}"))
            return replace(state, subscribed=ok)
        case SessionAnnounced():
            return state
        case EventIgnored(reason):
            effects.append(Log("debug", f"ignored: {reason}"))
            return state
    return state


def _is_stale(current: Interaction, update: Interaction) -> bool:
    """An update older than what the panel already applied must not move the interaction back."""
    if current.changed_at is None or update.changed_at is None:
        return False
    return update.changed_at < current.changed_at


def _apply_interaction(
    state: PanelState, config: PanelConfig, interaction: Interaction, effects: list[Effect]
) -> PanelState:
    contexts = dict(state.contexts)
    current = contexts.get(interaction.id)
    if current is not None and _is_stale(current.interaction, interaction):
        effects.append(Log("debug", f"ignored a stale update for {interaction.id}"))
        return state
    if interaction.closed:
        if current is None:
            return state
        del contexts[interaction.id]
        return replace(state, contexts=MappingProxyType(contexts))
    if current is not None and current.interaction == interaction:
        return state  # a duplicate: nothing changes, nothing pops twice
    lookup = current.lookup if current else None
    next_request_id = state.next_request_id
    if _needs_lookup(current, interaction):
        key = lookup_key(interaction)
        if key is None:
            lookup = Lookup(LookupStatus.NO_MATCH, reason="no customer number")
        else:
            lookup = Lookup(LookupStatus.PENDING, next_request_id)
            effects.append(StartLookup(interaction.id, next_request_id, lookup_url(key), config.lookup_deadline_s))
            next_request_id += 1
    if current is None or current.interaction.state != interaction.state:
        seq = state.seq + 1  # a new state: this interaction is now the most recent
        context_seq = seq
    else:
        seq = state.seq
        context_seq = current.seq
    contexts[interaction.id] = InteractionContext(interaction, lookup, context_seq)
    if len(contexts) > MAX_CONTEXTS:
        oldest = min(contexts.values(), key=lambda context: (_SHOW_PRIORITY[context.interaction.state], context.seq))
        del contexts[oldest.interaction.id]
        effects.append(Log("warning", f"dropped the context of {oldest.interaction.id}: too many open interactions"))
    return replace(state, contexts=MappingProxyType(contexts), seq=seq, next_request_id=next_request_id)


def _needs_lookup(current: InteractionContext | None, interaction: Interaction) -> bool:
    """Pop once per interaction; a failed lookup gets one more try when the call changes state."""
    if interaction.state not in POP_STATES:
        return False
    if current is None or current.lookup is None:
        return True
    return current.lookup.status is LookupStatus.FAILED and current.interaction.state != interaction.state
