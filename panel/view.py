"""What the panel shows, as plain values: the shell copies these into the DOM as text only."""

from dataclasses import dataclass, replace

from .models import AgentStatus, CrmContact, Direction, InteractionState
from .state import InteractionContext, LookupStatus, PanelState, shown_context

_STATE_WORDS = {
    InteractionState.RINGING: "Incoming call",
    InteractionState.DIALING: "Dialling",
    InteractionState.CONNECTED: "On call",
    InteractionState.HELD: "On hold",
    InteractionState.DISCONNECTED: "Wrapping up",
}


# Failure reasons are short codes for telemetry; agents read these instead.
_FAILURE_WORDS = {
    "timeout": "the CRM did not answer in time",
    "http 504": "the CRM did not answer in time",
    "http 502": "the CRM is not reachable",
    "http 503": "the CRM proxy is busy",
    "network error": "no connection to the CRM proxy",
    "not signed in": "you are not signed in",
    "invalid response": "the CRM proxy sent an unreadable answer",
}


@dataclass(frozen=True)
class ContactCard:
    crm_id: str
    name: str
    company: str
    phone: str
    email: str


@dataclass(frozen=True)
class PanelView:
    """``state`` and the two ids are the test contract (``data-state``, ``data-interaction-id``, ``data-crm-id``)."""

    state: str
    interaction_id: str = ""
    crm_id: str = ""
    headline: str = ""
    detail: str = ""
    contact: ContactCard | None = None
    matches: tuple[ContactCard, ...] = ()
    agent: str = ""
    announcement: str = ""


def build_view(state: PanelState) -> PanelView:
    """Derive the whole screen from the state; equal states give equal views (so renders can be skipped)."""
    agent = _agent_text(state.agent)
    if not state.ready:
        return PanelView(state="booting", headline="Starting…", agent=agent)
    context = shown_context(state)
    if context is None:
        return PanelView(state="idle", headline="No active call", agent=agent)
    return _interaction_view(context, agent)


def _interaction_view(context: InteractionContext, agent: str) -> PanelView:
    interaction = context.interaction
    number = interaction.customer_number or "an unknown number"
    preposition = "from" if interaction.direction is Direction.INBOUND else "to"
    headline = f"{_STATE_WORDS[interaction.state]} {preposition} {number}"
    base = PanelView(state="loading", interaction_id=interaction.id, headline=headline, agent=agent)
    lookup = context.lookup
    if lookup is None or lookup.status is LookupStatus.PENDING:
        return replace(base, state="loading", detail="Looking up the caller…", announcement=headline)
    if lookup.status is LookupStatus.FAILED:
        return replace(
            base,
            state="error",
            detail=f"CRM context unavailable: {_FAILURE_WORDS.get(lookup.reason, lookup.reason)}",
            announcement=headline,
        )
    if lookup.status is LookupStatus.NO_MATCH:
        return replace(base, state="nomatch", detail="No match in the CRM", announcement=f"{headline}: no match")
    cards = tuple(_card(match) for match in lookup.matches)
    if len(cards) == 1:
        card = cards[0]
        return replace(base, state="loaded", crm_id=card.crm_id, contact=card, announcement=f"{headline}: {card.name}")
    return replace(
        base,
        state="loaded",
        detail=f"{len(cards)} matching records",
        matches=cards,
        announcement=f"{headline}: {len(cards)} matching records",
    )


def _card(contact: CrmContact) -> ContactCard:
    return ContactCard(
        crm_id=contact.id, name=contact.name, company=contact.company, phone=contact.phone, email=contact.email
    )


def _agent_text(agent: AgentStatus | None) -> str:
    if agent is None:
        return ""
    text = agent.state
    if agent.reason:
        text += f" ({agent.reason})"
    if agent.in_acw:
        text += " · after-call work"
    return text
