"""The panel's own vocabulary: normalised interactions, agent state and CRM contacts.

Raw CXone events are translated into these by ``host_protocol``; everything after that speaks
only this vocabulary, so a change in the host's wire format stays in one module. The proxy
uses ``CrmContact`` and ``ContactLookup`` as its response schema, so both sides share one contract.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class InteractionState(StrEnum):
    """Lifecycle of one interaction as the panel sees it."""

    RINGING = "ringing"
    DIALING = "dialing"
    CONNECTED = "connected"
    HELD = "held"
    DISCONNECTED = "disconnected"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Channel(StrEnum):
    """Interaction types the panel handles; everything else is filtered out before this."""

    VOICE = "voice"
    CALLBACK = "callback"


class Interaction(BaseModel):
    """One customer interaction, keyed by the CXone ContactID."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    channel: Channel
    direction: Direction
    state: InteractionState
    ani: str = ""
    dnis: str = ""
    skill: str = ""
    changed_at: datetime | None = None
    closed: bool = False  # CXone FinalState: the contact is gone, after-call work included

    @property
    def customer_number(self) -> str:
        """The customer's side of the call: the caller for inbound, the dialled number for outbound."""
        first, second = (self.ani, self.dnis) if self.direction is Direction.INBOUND else (self.dnis, self.ani)
        return first or second


class AgentStatus(BaseModel):
    """The agent's state as CXone reports it in AgentState events."""

    model_config = ConfigDict(frozen=True)

    state: str
    reason: str = ""
    in_acw: bool = False
    since: datetime | None = None


class CrmContact(BaseModel):
    """A CRM record as the proxy returns it, whatever CRM it came from."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    name: str
    company: str = ""
    phone: str = ""
    email: str = ""
    crm: str = ""


class ContactLookup(BaseModel):
    """The proxy's answer to ``GET /crm/contact``: the normalised key and every match."""

    model_config = ConfigDict(frozen=True)

    key: str
    matches: tuple[CrmContact, ...] = ()


class NewContact(BaseModel):
    """A contact the agent creates from the panel for a caller the CRM does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    phone: str = Field(min_length=1, max_length=64)
    email: str = Field(default="", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
