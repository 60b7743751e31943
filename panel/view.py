"""What the panel shows, as plain values: the shell copies these into the DOM as text only."""

from dataclasses import dataclass, replace

from .agent_actions import CallCommand
from .models import AgentStatus, CrmContact, Direction, Interaction, InteractionState
from .outbox import EntryKind, EntryStatus, OutboxEntry
from .state import InteractionContext, LookupStatus, PanelState, available_commands, shown_context

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
class InteractionTab:
    """Another open interaction the agent can switch to."""

    interaction_id: str
    label: str
    ringing: bool


@dataclass(frozen=True)
class CreateForm:
    """The new-contact form offered when nobody matches; it never blocks the call controls."""

    phone: str
    pending: bool = False
    error: str = ""


@dataclass(frozen=True)
class ActionView:
    """One CRM action of the interaction on screen, as the agent sees its progress."""

    label: str
    status: str
    text: str


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
    others: tuple[InteractionTab, ...] = ()
    controls: tuple[CallCommand, ...] = ()
    notes: str = ""
    create_form: CreateForm | None = None
    actions: tuple[ActionView, ...] = ()
    can_log: bool = False  # a record is chosen: the log, update and task forms apply
    form_error: str = ""


def build_view(state: PanelState) -> PanelView:
    """Derive the whole screen from the state; equal states give equal views (so renders can be skipped)."""
    agent = _agent_text(state.agent)
    if not state.ready:
        return PanelView(state="booting", headline="Starting…", agent=agent)
    context = shown_context(state)
    if context is None:
        return PanelView(state="idle", headline="No active call", agent=agent)
    others = tuple(
        _tab(other.interaction)
        for other in sorted(state.contexts.values(), key=lambda other: other.seq)
        if other.interaction.id != context.interaction.id and not other.ended
    )
    view = _interaction_view(context, state.agent)
    ringing = [tab for tab in others if tab.ringing]
    announcement = ringing[-1].label if ringing else view.announcement
    actions = tuple(
        _action_view(entry)
        for entry in state.outbox
        if entry.interaction_id == context.interaction.id and entry.kind is EntryKind.CRM_ACTION
    )
    return replace(
        view,
        agent=agent,
        others=others,
        announcement=announcement,
        actions=actions,
        can_log=bool(context.crm_id),
        form_error=context.form_error,
    )


_ACTION_WORDS = {
    EntryStatus.QUEUED: "waiting to be sent",
    EntryStatus.SENDING: "sending…",
    EntryStatus.WAITING: "will retry",
    EntryStatus.SENT: "saved in the CRM",
    EntryStatus.FAILED: "not saved",
}


def _action_view(entry: OutboxEntry) -> ActionView:
    text = _ACTION_WORDS[entry.status]
    if entry.reason and entry.status in (EntryStatus.WAITING, EntryStatus.FAILED):
        text += f": {entry.reason}"
    return ActionView(label=entry.label, status=entry.status.value, text=f"{entry.label}: {text}")


def _headline(interaction: Interaction, agent: AgentStatus | None) -> str:
    words = _STATE_WORDS[interaction.state]
    if interaction.state is InteractionState.DISCONNECTED and agent is not None and agent.in_acw:
        words = "After-call work"
    preposition = "from" if interaction.direction is Direction.INBOUND else "to"
    return f"{words} {preposition} {interaction.customer_number or 'an unknown number'}"


def _tab(interaction: Interaction) -> InteractionTab:
    return InteractionTab(
        interaction_id=interaction.id,
        label=_headline(interaction, None),
        ringing=interaction.state is InteractionState.RINGING,
    )


def _interaction_view(context: InteractionContext, agent: AgentStatus | None) -> PanelView:
    interaction = context.interaction
    headline = _headline(interaction, agent)
    base = PanelView(
        state="loading",
        interaction_id=interaction.id,
        headline=headline,
        controls=available_commands(interaction),
        notes=context.notes,
    )
    lookup = context.lookup
    if lookup is None or lookup.status is LookupStatus.PENDING:
        return replace(base, detail="Looking up the caller…", announcement=headline)
    if lookup.status is LookupStatus.FAILED:
        reason = _FAILURE_WORDS.get(lookup.reason, lookup.reason)
        return replace(base, state="error", detail=f"CRM context unavailable: {reason}", announcement=headline)
    if lookup.status is LookupStatus.NO_MATCH:
        form = None
        if interaction.customer_number and any(char.isdigit() for char in interaction.customer_number):
            creation = context.creation
            form = CreateForm(
                phone=interaction.customer_number,
                pending=creation is not None and not creation.failed,
                error=creation.failed if creation is not None else "",
            )
        return replace(
            base, state="nomatch", detail="No match in the CRM", announcement=f"{headline}: no match", create_form=form
        )
    cards = tuple(_card(match) for match in lookup.matches)
    chosen = next((card for card in cards if card.crm_id == context.crm_id), None)
    if len(cards) == 1 and chosen is not None:
        return replace(
            base, state="loaded", crm_id=chosen.crm_id, contact=chosen, announcement=f"{headline}: {chosen.name}"
        )
    detail = f"{len(cards)} matching records: " + (
        "this call is logged to the one chosen" if chosen else "choose the caller"
    )
    return replace(
        base,
        state="loaded",
        crm_id=context.crm_id,
        detail=detail,
        contact=chosen,
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
