"""CXone Agent's postMessage protocol: raw wire messages in, the panel's own events out.

The parent posts ``{issuer, contactId, events: [...]}`` batches whose events use PascalCase keys
and string values ("True"/"False" for booleans). Each event is parsed on its own, so one
malformed or unknown event never costs the rest of its batch.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from .filters import channel_for_call_type
from .models import AgentStatus, Direction, Interaction, InteractionState

STATUS_TO_STATE = {
    "incoming": InteractionState.RINGING,
    "active": InteractionState.CONNECTED,
    "joined": InteractionState.CONNECTED,
    "masking": InteractionState.CONNECTED,
    "holding": InteractionState.HELD,
    "disconnected": InteractionState.DISCONNECTED,
    "callbackdisconnected": InteractionState.DISCONNECTED,
    "dialing": InteractionState.DIALING,
    "naturalcalldialing": InteractionState.DIALING,
    "naturalcallringing": InteractionState.DIALING,
    "naturalcallamd": InteractionState.DIALING,
}


def _text(value: object) -> str:
    """Host values are strings, but numbers and nulls occur; keep them as text."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError("expected a scalar value")
    return str(value).strip()


def _flag(value: object) -> bool:
    """CXone sends booleans as "True"/"False" strings."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise ValueError(f"expected 'True' or 'False', got {value!r}")


def _timestamp(value: object) -> object:
    return None if value in (None, "") else value


Text = Annotated[str, BeforeValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]


class RawCallContactEvent(BaseModel):
    """A voice contact event as CXone sends it (only the fields the panel uses)."""

    model_config = ConfigDict(extra="ignore")

    Type: Literal["CallContactEvent"]
    ContactID: Text
    Status: Text
    CallType: Text = ""
    ANI: Text = ""
    DNIS: Text = ""
    Skill: Text = ""
    IsInbound: Flag = True
    LastStateChangeTimeUTC: Timestamp = None
    FinalState: Flag = False


class RawAgentState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Type: Literal["AgentState"]
    CurrentState: Text
    CurrentOutReason: Text = ""
    IsAcw: Flag = False
    StartTimeUTC: Timestamp = None


class RawAcknowledge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messageType: Literal["ClientEventSubscriptionAcknowledge"]
    status: Text = ""
    reason: Text = ""


class RawSessionInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messageType: Literal["SessionInfo"]
    sessionToken: Text = ""


class RawBatch(BaseModel):
    """The envelope of every parent -> panel message."""

    model_config = ConfigDict(extra="ignore")

    issuer: Text = ""
    events: list[Any]


@dataclass(frozen=True)
class InteractionUpdated:
    interaction: Interaction


@dataclass(frozen=True)
class AgentStatusChanged:
    status: AgentStatus


@dataclass(frozen=True)
class SubscriptionAcknowledged:
    ok: bool
    reason: str


@dataclass(frozen=True)
class SessionAnnounced:
    """CXone's ACD agent session id: not a credential; the proxy's custom-data calls to CXone name it."""

    session_id: str


@dataclass(frozen=True)
class EventIgnored:
    """An event the panel does not act on, with the reason for the log."""

    reason: str


HostEvent = InteractionUpdated | AgentStatusChanged | SubscriptionAcknowledged | SessionAnnounced | EventIgnored


def parse_batch(data: object) -> tuple[HostEvent, ...]:
    """Translate one parent message into the panel's events; never raises."""
    try:
        batch = RawBatch.model_validate(data)
    except ValidationError:
        return (EventIgnored("malformed message: not a CXone event batch"),)
    return tuple(parse_event(event) for event in batch.events)


def parse_event(raw: object) -> HostEvent:
    """Translate one raw event; anything unknown or malformed becomes EventIgnored."""
    if not isinstance(raw, dict):
        return EventIgnored("malformed event: not an object")
    kind = raw.get("Type") or raw.get("messageType")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return EventIgnored(f"unhandled event type {str(kind)[:40]!r}")
    try:
        return parser(raw)
    except (ValidationError, ValueError) as error:
        return EventIgnored(f"malformed {kind}: {_first_error(error)}")


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        detail = error.errors()[0]
        return f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
    return str(error)


def _call_contact(raw: dict[str, Any]) -> HostEvent:
    event = RawCallContactEvent.model_validate(raw)
    channel = channel_for_call_type(event.CallType)
    if channel is None:
        return EventIgnored(f"not a customer interaction (CallType {event.CallType!r})")
    state = STATUS_TO_STATE.get(event.Status.lower())
    if state is None:
        return EventIgnored(f"unhandled call status {event.Status!r}")
    interaction = Interaction(
        id=event.ContactID,
        channel=channel,
        direction=Direction.INBOUND if event.IsInbound else Direction.OUTBOUND,
        state=state,
        ani=event.ANI,
        dnis=event.DNIS,
        skill=event.Skill,
        changed_at=event.LastStateChangeTimeUTC,
        closed=state is InteractionState.DISCONNECTED and event.FinalState,
    )
    return InteractionUpdated(interaction)


def _agent_state(raw: dict[str, Any]) -> HostEvent:
    event = RawAgentState.model_validate(raw)
    status = AgentStatus(
        state=event.CurrentState, reason=event.CurrentOutReason, in_acw=event.IsAcw, since=event.StartTimeUTC
    )
    return AgentStatusChanged(status)


def _acknowledge(raw: dict[str, Any]) -> HostEvent:
    event = RawAcknowledge.model_validate(raw)
    return SubscriptionAcknowledged(ok=event.status.upper() == "OK", reason=event.reason)


def _session_info(raw: dict[str, Any]) -> HostEvent:
    return SessionAnnounced(RawSessionInfo.model_validate(raw).sessionToken)


_PARSERS = {
    "CallContactEvent": _call_contact,
    "AgentState": _agent_state,
    "ClientEventSubscriptionAcknowledge": _acknowledge,
    "SessionInfo": _session_info,
}
