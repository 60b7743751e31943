"""The panel's state and its transitions: host events, lookup results and agent actions in,
new state and effects out.

Pure functions over frozen values. Every interaction keeps its own context (lookup, matches,
the agent's choice, notes, state history), keyed by ContactID, so a late answer, a second call
or a switch never overwrites another's.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from pydantic import ValidationError

from .action_models import ContactUpdate, FollowUpTask
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
from .effects import CreateRecord, Effect, Log, PostToHost, ScheduleRetry, SendAction, StartLookup, Telemetry
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
from .models import AgentStatus, CrmContact, Direction, Interaction, InteractionState, NewContact
from .origins import OriginPattern, origin_allowed
from .outbox import MAX_ENTRIES, EntryKind, EntryStatus, OutboxEntry, action_key, after_failure
from .report_models import REPORT_KINDS

POP_STATES = frozenset({InteractionState.RINGING, InteractionState.DIALING, InteractionState.CONNECTED})
MAX_CONTEXTS = 32  # far above any agent's concurrent contacts; bounds memory if closes are missed
MAX_TOMBSTONES = 64  # closed ContactIDs remembered, so a late event cannot bring a call back
MAX_HISTORY = 16  # state changes kept per interaction
MAX_NOTES_CHARS = 20_000
WRAP_UP_IDLE_BOUND = timedelta(hours=1)  # a disconnected call nobody closed is dropped after this
IDLE_BOUND = timedelta(hours=12)  # any interaction without news for a whole shift

# CXone's call-control messages, and the states each makes sense in. HoldEvent toggles hold.
CALL_COMMANDS: dict[CallCommand, tuple[str, frozenset[InteractionState]]] = {
    "answer": ("AnswerEvent", frozenset({InteractionState.RINGING})),
    "hold": ("HoldEvent", frozenset({InteractionState.CONNECTED})),
    "resume": ("HoldEvent", frozenset({InteractionState.HELD})),
    "hangup": (
        "HangupEvent",
        frozenset(
            {InteractionState.RINGING, InteractionState.DIALING, InteractionState.CONNECTED, InteractionState.HELD}
        ),
    ),
}


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
class Creation:
    """A contact the agent asked to create: pending, or failed with a reason to show."""

    request_id: int
    failed: str = ""


@dataclass(frozen=True)
class InteractionContext:
    """Everything the panel knows about one interaction; ``seq`` orders recency across contexts."""

    interaction: Interaction
    lookup: Lookup | None
    seq: int
    chosen_crm_id: str = ""
    notes: str = ""
    history: tuple[tuple[InteractionState, datetime | None], ...] = ()
    creation: Creation | None = None
    ended: bool = False  # closed by CXone while its lookup was still out: kept, hidden, until it can be logged
    form_error: str = ""  # why the agent's last contact update or task was not accepted
    reported_crm_id: str = ""  # the record last attached to the CXone contact
    context_version: int = 0  # how many records have been attached to it

    @property
    def crm_id(self) -> str:
        """The record actions bind to: the agent's choice, or the only match."""
        if self.chosen_crm_id:
            return self.chosen_crm_id
        if self.lookup is not None and len(self.lookup.matches) == 1:
            return self.lookup.matches[0].id
        return ""


@dataclass(frozen=True)
class PanelConfig:
    allowed_origins: tuple[OriginPattern, ...]
    issuer: str = "crm-context"
    lookup_deadline_s: float = LOOKUP_DEADLINE_S


@dataclass(frozen=True)
class PanelState:
    ready: bool = False
    contexts: Mapping[str, InteractionContext] = field(default_factory=lambda: MappingProxyType({}))
    agent: AgentStatus | None = None
    host_origin: str = ""
    seq: int = 0
    next_request_id: int = 1
    focus_id: str = ""  # the interaction the agent switched to, until a call connects
    closed: tuple[tuple[str, datetime | None], ...] = ()  # tombstones, oldest first
    clock: datetime | None = None  # the newest host timestamp seen; the idle bounds' reference
    outbox: tuple[OutboxEntry, ...] = ()  # CRM actions, oldest first; sent ones are kept briefly for display
    saved_notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # drafts kept by the proxy
    cxone_session_id: str = ""  # the ACD agent session from SessionInfo; CXone's custom-data API is keyed by it


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
    state = _new_round(state, effects)
    return Transition(state, tuple(effects))


def finish_lookup(
    state: PanelState, interaction_id: str, request_id: int, outcome: LookupOutcome, elapsed_ms: float
) -> Transition:
    """Record a lookup's outcome on its own interaction; answers to superseded requests are dropped."""
    context = state.contexts.get(interaction_id)
    if context is None or context.lookup is None or context.lookup.request_id != request_id:
        return Transition(state, (Log("debug", f"dropped a late lookup answer for {interaction_id}"),))
    effects: tuple[Effect, ...] = ()
    if isinstance(outcome, LookupFound):
        status = LookupStatus.FOUND if outcome.matches else LookupStatus.NO_MATCH
        lookup = Lookup(status, request_id, outcome.matches)
    else:
        lookup = Lookup(LookupStatus.FAILED, request_id, reason=outcome.reason)
        effects = (
            Log("warning", f"screen pop for {interaction_id} failed: {outcome.reason}"),
            Telemetry(
                "screen_pop_failed",
                {"interaction_id": interaction_id, "reason": outcome.reason, "elapsed_ms": round(elapsed_ms)},
            ),
        )
    state = _with_context(state, replace(context, lookup=lookup))
    if lookup.status is LookupStatus.FOUND:
        found: list[Effect] = list(effects)
        state = _attach_context(state, interaction_id, found)
        if context.interaction.state is InteractionState.DISCONNECTED:
            state = _auto_log(state, state.contexts[interaction_id], found)  # the call ended before its record came
        effects = tuple(found)
    if context.ended:
        state = _forget(state, interaction_id)
    return Transition(state, effects)


def apply_action(state: PanelState, config: PanelConfig, action: AgentAction) -> Transition:
    """Handle something the agent did in the panel; actions on unknown interactions change nothing."""
    context = state.contexts.get(action.interaction_id)
    if context is None:
        return Transition(
            state, (Log("warning", f"ignored {type(action).__name__}: no open interaction {action.interaction_id}"),)
        )
    match action:
        case SwitchTo():
            return Transition(replace(state, focus_id=action.interaction_id))
        case ChooseRecord(_, crm_id):
            if context.lookup is None or crm_id not in {match.id for match in context.lookup.matches}:
                return Transition(state, (Log("warning", f"ignored a choice of {crm_id!r}: not among the matches"),))
            state = _with_context(state, replace(context, chosen_crm_id=crm_id))
            effects: list[Effect] = []
            state = _attach_context(state, action.interaction_id, effects)
            if context.interaction.state is InteractionState.DISCONNECTED:  # wrap-up waited for this choice
                state = _auto_log(state, state.contexts[action.interaction_id], effects)
            return Transition(state, tuple(effects))
        case EditNotes(_, text):
            return Transition(_with_context(state, replace(context, notes=text[:MAX_NOTES_CHARS])))
        case ControlCall(_, command):
            return _control_call(state, config, context, command)
        case CreateContact():
            return _create_contact(state, context, action)
        case LogCall():
            log_effects: list[Effect] = []
            state = _auto_log(state, context, log_effects)
            return Transition(state, tuple(log_effects))
        case UpdateContact() | CreateTask():
            return _record_action(state, context, action)
    return Transition(state)


def _record_action(state: PanelState, context: InteractionContext, action: UpdateContact | CreateTask) -> Transition:
    """A contact update or a task from the agent's forms: validated here, then sent through the outbox."""
    if not context.crm_id:
        return Transition(_with_context(state, replace(context, form_error="choose the caller's record first")))
    base = {"interaction_id": context.interaction.id, "crm_id": context.crm_id}
    try:
        if isinstance(action, UpdateContact):
            fields = {
                name: value for name, value in (("email", action.email), ("company", action.company)) if value.strip()
            }
            payload = ContactUpdate.model_validate({**base, "fields": fields}).model_dump(
                mode="json", exclude_none=True
            )
            action_type, label = "contact_update", "Contact update"
        else:
            task = {**base, "title": action.title, "due_date": action.due_date, "notes": action.notes}
            payload = FollowUpTask.model_validate(task).model_dump(mode="json")
            action_type, label = "task", f"Task “{action.title.strip()[:40]}”"
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"] if part != "fields") or "form"
        reason = f"{where.replace('_', ' ')}: {problem['msg']}"
        return Transition(_with_context(state, replace(context, form_error=reason)))
    state = _with_context(state, replace(context, form_error=""))
    effects: list[Effect] = []
    state = _enqueue(state, action_type, payload, label, effects)
    return Transition(state, tuple(effects))


def action_answered(
    state: PanelState, key: str, status: int | None, reason: str, retry_after: str, now_epoch_s: float, jitter: float
) -> Transition:
    """The proxy's answer to a CRM action (``status`` None: no answer at all)."""
    entry = next((item for item in state.outbox if item.key == key), None)
    if entry is None or entry.status is not EntryStatus.SENDING:
        return Transition(state)
    if status is not None and 200 <= status < 300:
        effects: list[Effect] = []
        if entry.kind is EntryKind.CRM_ACTION:
            state = _report_action(state, entry, effects)
        if entry.kind is EntryKind.CXONE_REPORT or entry.interaction_id not in state.contexts:
            return Transition(_drop_entry(state, key), tuple(effects))  # nothing will show it
        return Transition(_put_entry(state, replace(entry, status=EntryStatus.SENT, reason="")), tuple(effects))
    updated, delay = after_failure(entry, status, reason, retry_after, now_epoch_s, jitter)
    state = _put_entry(state, updated)
    if delay is None:
        return Transition(
            state, (Log("warning", f"{entry.label} for {entry.interaction_id} failed: {updated.reason}"),)
        )
    return Transition(state, (ScheduleRetry(key, delay),))


def retry_due(state: PanelState, key: str) -> Transition:
    """A scheduled retry's time has come."""
    entry = next((item for item in state.outbox if item.key == key), None)
    if entry is None or entry.status is not EntryStatus.WAITING:
        return Transition(state)
    return Transition(*_send(state, entry))


def _report_action(state: PanelState, entry: OutboxEntry, effects: list[Effect]) -> PanelState:
    """A CRM action landed: tell CXone (``type: crm_action``), once per action whoever sent it."""
    if not state.cxone_session_id:
        effects.append(Log("debug", f"{entry.label} not reported to CXone: no agent session announced yet"))
        return state
    report = {
        "interaction_id": entry.interaction_id,
        "session_id": state.cxone_session_id,
        "action": entry.action_type,
        "crm_id": entry.payload["crm_id"],
        "action_key": entry.key,
    }
    return _enqueue_report(state, "crm_action", report, "CXone telemetry", effects)


def _attach_context(state: PanelState, interaction_id: str, effects: list[Effect]) -> PanelState:
    """The interaction is bound to a record (popped, chosen or created): attach it to the CXone contact."""
    context = state.contexts[interaction_id]
    if not context.crm_id or context.crm_id == context.reported_crm_id:
        return state
    if not state.cxone_session_id:
        effects.append(Log("debug", f"CRM context of {interaction_id} not attached: no agent session announced yet"))
        return state
    version = context.context_version + 1
    state = _with_context(state, replace(context, reported_crm_id=context.crm_id, context_version=version))
    report = {
        "interaction_id": interaction_id,
        "session_id": state.cxone_session_id,
        "crm_id": context.crm_id,
        "context_version": version,
    }
    return _enqueue_report(state, "crm_context", report, "CXone context", effects)


def _enqueue_report(
    state: PanelState, kind: str, fields: dict[str, object], label: str, effects: list[Effect]
) -> PanelState:
    """Validate a report as the proxy will, then queue it; a report CXone could not take is only logged."""
    try:
        payload = REPORT_KINDS[kind].model_validate(fields).model_dump(mode="json")
    except ValidationError as error:
        effects.append(Log("warning", f"{label} for {fields['interaction_id']} not sent: {error.errors()[0]['msg']}"))
        return state
    return _enqueue(state, kind, payload, label, effects, EntryKind.CXONE_REPORT)


def _enqueue(
    state: PanelState,
    action_type: str,
    payload: dict[str, object],
    label: str,
    effects: list[Effect],
    kind: EntryKind = EntryKind.CRM_ACTION,
) -> PanelState:
    """Put a CRM action (or a report) in the outbox and send it; the same action twice is one action."""
    key = action_key(action_type, payload)
    if any(entry.key == key for entry in state.outbox):
        return state  # already queued, in flight or done
    outbox = state.outbox
    if len(outbox) >= MAX_ENTRIES:
        outbox = tuple(entry for entry in outbox if entry.status is not EntryStatus.SENT)  # make room: forget sent ones
    if len(outbox) >= MAX_ENTRIES:
        effects.append(Log("error", f"{label} not queued: {MAX_ENTRIES} CRM actions are still unsent"))
        return replace(state, outbox=outbox)
    entry = OutboxEntry(key, action_type, payload, str(payload["interaction_id"]), label, kind=kind)
    state, effect = _send(replace(state, outbox=(*outbox, entry)), entry)
    effects.extend(effect)
    return state


def _send(state: PanelState, entry: OutboxEntry) -> tuple[PanelState, tuple[Effect, ...]]:
    sending = replace(entry, status=EntryStatus.SENDING, attempts=entry.attempts + 1)
    return _put_entry(state, sending), (SendAction(entry.key, entry.url, entry.payload),)


def _put_entry(state: PanelState, entry: OutboxEntry) -> PanelState:
    return replace(state, outbox=tuple(entry if item.key == entry.key else item for item in state.outbox))


def _drop_entry(state: PanelState, key: str) -> PanelState:
    return replace(state, outbox=tuple(item for item in state.outbox if item.key != key))


def _new_round(state: PanelState, effects: list[Effect]) -> PanelState:
    """Each host event gives actions that failed for now (out of attempts, signed out) another round;
    not ones the CRM refused."""
    for entry in state.outbox:
        if entry.status is EntryStatus.FAILED and entry.next_round:
            state, sent = _send(state, replace(entry, attempts=0, next_round=False))
            effects.extend(sent)
    return state


def _call_log(context: InteractionContext) -> dict[str, object] | None:
    """The call log for an interaction as it stands, or None while there is no record to log it to."""
    interaction = context.interaction
    if not context.crm_id:
        return None
    connected = next((at for state_, at in context.history if state_ is InteractionState.CONNECTED), None)
    ended = next((at for state_, at in reversed(context.history) if state_ is InteractionState.DISCONNECTED), None)
    duration = int((ended - connected).total_seconds()) if connected and ended and ended > connected else 0
    number = interaction.customer_number or "unknown number"
    kind = "Inbound" if interaction.direction is Direction.INBOUND else "Outbound"
    return {
        "interaction_id": interaction.id,
        "crm_id": context.crm_id,
        "subject": f"{kind} call {number}",
        "notes": context.notes,
        "disposition": "",
        "direction": interaction.direction.value,
        "duration_s": min(duration, 86_400),
    }


def _auto_log(state: PanelState, context: InteractionContext, effects: list[Effect]) -> PanelState:
    payload = _call_log(context)
    if payload is None:
        effects.append(Log("info", f"call {context.interaction.id} not logged yet: no CRM record chosen"))
        return state
    return _enqueue(state, "call_log", payload, "Call log", effects)


def finish_create(state: PanelState, interaction_id: str, request_id: int, outcome: CrmContact | str) -> Transition:
    """The proxy created the contact (it becomes the call's record) or says why it could not."""
    context = state.contexts.get(interaction_id)
    if context is None or context.creation is None or context.creation.request_id != request_id:
        return Transition(state, (Log("debug", f"dropped a late create answer for {interaction_id}"),))
    if isinstance(outcome, str):
        failed = replace(context, creation=Creation(request_id, failed=outcome))
        return Transition(_with_context(state, failed), (Log("warning", f"contact not created: {outcome}"),))
    created = replace(
        context,
        lookup=Lookup(LookupStatus.FOUND, context.lookup.request_id if context.lookup else 0, (outcome,)),
        chosen_crm_id=outcome.id,
        creation=None,
    )
    effects: list[Effect] = []
    state = _attach_context(_with_context(state, created), interaction_id, effects)
    return Transition(state, tuple(effects))


def _create_contact(state: PanelState, context: InteractionContext, action: CreateContact) -> Transition:
    number = lookup_key(context.interaction)
    if context.lookup is None or context.lookup.status is not LookupStatus.NO_MATCH or number is None:
        return Transition(state, (Log("warning", "ignored a new contact: the call already has a record or no number"),))
    if context.creation is not None and not context.creation.failed:
        return Transition(state)  # one request in flight is enough
    try:
        contact = NewContact(first_name=action.first_name, last_name=action.last_name, phone=number, email=action.email)
    except ValidationError as error:
        problem = error.errors()[0]
        reason = f"{str(problem['loc'][0]).replace('_', ' ')}: {problem['msg']}"
        return Transition(_with_context(state, replace(context, creation=Creation(0, failed=reason))))
    request_id = state.next_request_id
    pending = replace(context, creation=Creation(request_id))
    state = replace(_with_context(state, pending), next_request_id=request_id + 1)
    return Transition(state, (CreateRecord(context.interaction.id, request_id, contact.model_dump()),))


MAX_SAVED_NOTES = 200


def load_saved_notes(state: PanelState, drafts: Mapping[str, str]) -> PanelState:
    """Notes the agent left before a reload, read before any event is handled: a call rebuilt from
    CXone's snapshot starts with them, so nothing (an auto-log included) ever sees it without them."""
    kept = list(drafts.items())[:MAX_SAVED_NOTES]
    return replace(state, saved_notes=MappingProxyType({key: notes[:MAX_NOTES_CHARS] for key, notes in kept}))


def available_commands(interaction: Interaction) -> tuple[CallCommand, ...]:
    """The call-control commands that make sense for an interaction's current state."""
    return tuple(
        command
        for command, (_, states) in CALL_COMMANDS.items()
        if interaction.state in states and not (command == "answer" and interaction.direction is Direction.OUTBOUND)
    )


def shown_context(state: PanelState) -> InteractionContext | None:
    """The interaction on screen: the agent's switch if any; else connected first (the most recently
    connected or resumed), then ringing, held, wrapping up; newest first within each."""
    focused = state.contexts.get(state.focus_id)
    if focused is not None and not focused.ended:
        return focused
    visible = [context for context in state.contexts.values() if not context.ended]
    return max(visible, key=_auto_rank) if visible else None


def _auto_rank(context: InteractionContext) -> tuple[int, int]:
    return (_SHOW_PRIORITY[context.interaction.state], context.seq)


_SHOW_PRIORITY = {
    InteractionState.CONNECTED: 4,
    InteractionState.RINGING: 3,
    InteractionState.DIALING: 3,
    InteractionState.HELD: 2,
    InteractionState.DISCONNECTED: 1,
}


def _with_context(state: PanelState, context: InteractionContext) -> PanelState:
    contexts = dict(state.contexts)
    contexts[context.interaction.id] = context
    return replace(state, contexts=MappingProxyType(contexts))


def _control_call(
    state: PanelState, config: PanelConfig, context: InteractionContext, command: CallCommand
) -> Transition:
    interaction = context.interaction
    if command not in available_commands(interaction):
        return Transition(
            state, (Log("warning", f"ignored {command}: the call {interaction.id} is {interaction.state}"),)
        )
    if not state.host_origin:
        return Transition(state, (Log("error", f"cannot {command}: no message from CXone Agent yet"),))
    message_type, _ = CALL_COMMANDS[command]
    contact_id: object = int(interaction.id) if interaction.id.isdigit() else interaction.id
    message = {"issuer": config.issuer, "messageType": message_type, "contactId": contact_id}
    return Transition(state, (PostToHost(message, state.host_origin),))


def _apply_event(state: PanelState, config: PanelConfig, event: HostEvent, effects: list[Effect]) -> PanelState:
    match event:
        case InteractionUpdated(interaction):
            return _apply_interaction(state, config, interaction, effects)
        case AgentStatusChanged(status):
            return replace(state, agent=status)
        case SubscriptionAcknowledged(ok, reason):
            if not ok:
                effects.append(Log("error", f"CXone refused the event subscription: {reason or 'no reason given'}"))
            return state
        case SessionAnnounced(session_id):
            return replace(state, cxone_session_id=session_id)
        case EventIgnored(reason):
            effects.append(Log("debug", f"ignored: {reason}"))
            return state
    return state


def _is_stale(current: datetime | None, update: datetime | None) -> bool:
    """An update older than what the panel already applied must not move the interaction back."""
    return current is not None and update is not None and update < current


def _closed_at(state: PanelState, interaction_id: str) -> tuple[bool, datetime | None]:
    for closed_id, at in reversed(state.closed):
        if closed_id == interaction_id:
            return True, at
    return False, None


def _apply_interaction(
    state: PanelState, config: PanelConfig, interaction: Interaction, effects: list[Effect]
) -> PanelState:
    was_closed, closed_at = _closed_at(state, interaction.id)
    if was_closed and not (
        closed_at is not None and interaction.changed_at is not None and interaction.changed_at > closed_at
    ):
        effects.append(Log("debug", f"ignored an update for {interaction.id}: it is closed"))
        return state
    current = state.contexts.get(interaction.id)
    if current is not None and _is_stale(current.interaction.changed_at, interaction.changed_at):
        effects.append(Log("debug", f"ignored a stale update for {interaction.id}"))
        return state
    state = _advance_clock(state, interaction.changed_at)
    if interaction.closed:
        if current is not None:  # the end of wrap-up: log with the final notes (unchanged: the same key, no new write)
            ending = current
            if current.interaction.state is not InteractionState.DISCONNECTED:
                ending = replace(
                    current, history=(*current.history, (InteractionState.DISCONNECTED, interaction.changed_at))
                )
            state = _auto_log(state, ending, effects)
            if current.lookup is not None and current.lookup.status is LookupStatus.PENDING:
                ended = replace(
                    ending,
                    interaction=ending.interaction.model_copy(update={"state": InteractionState.DISCONNECTED}),
                    ended=True,
                )
                state = _with_context(state, ended)  # logged when its lookup answers, then forgotten
                return _tombstone(state, interaction.id, interaction.changed_at)
        return _close(state, interaction.id, interaction.changed_at)
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
            effects.append(
                StartLookup(interaction.id, next_request_id, lookup_url(key, interaction.id), config.lookup_deadline_s)
            )
            next_request_id += 1
    focus_id = state.focus_id
    if current is None or current.interaction.state != interaction.state:
        seq = state.seq + 1  # a new state: this interaction is now the most recent
        history = ((current.history if current else ()) + ((interaction.state, interaction.changed_at),))[-MAX_HISTORY:]
        context = InteractionContext(
            interaction,
            lookup,
            seq,
            current.chosen_crm_id if current else "",
            current.notes if current else state.saved_notes.get(interaction.id, ""),
            history,
        )
        if interaction.state is InteractionState.CONNECTED:
            focus_id = ""  # answering or resuming a call puts it on screen, whatever the agent looked at
    else:
        seq = state.seq
        context = replace(current, interaction=interaction, lookup=lookup)
    state = replace(state, seq=seq, next_request_id=next_request_id, focus_id=focus_id)
    state = _with_context(state, context)
    if interaction.state is InteractionState.DISCONNECTED and (
        current is None or current.interaction.state is not InteractionState.DISCONNECTED
    ):
        state = _auto_log(state, context, effects)  # the call ended: log it now, with the notes so far
    return _bound(state, effects)


def _advance_clock(state: PanelState, at: datetime | None) -> PanelState:
    if at is None or (state.clock is not None and at <= state.clock):
        return state
    return replace(state, clock=at)


def _close(state: PanelState, interaction_id: str, at: datetime | None) -> PanelState:
    return _tombstone(_forget(state, interaction_id), interaction_id, at)


def _forget(state: PanelState, interaction_id: str) -> PanelState:
    """Drop an interaction's context, and its actions the CRM already has (nobody will look at them again)."""
    contexts = dict(state.contexts)
    contexts.pop(interaction_id, None)
    focus_id = "" if state.focus_id == interaction_id else state.focus_id
    outbox = tuple(
        entry
        for entry in state.outbox
        if entry.interaction_id != interaction_id or entry.status is not EntryStatus.SENT
    )
    return replace(state, contexts=MappingProxyType(contexts), focus_id=focus_id, outbox=outbox)


def _tombstone(state: PanelState, interaction_id: str, at: datetime | None) -> PanelState:
    """Remember a closed ContactID, so no later event can bring the call back."""
    closed = (*(entry for entry in state.closed if entry[0] != interaction_id), (interaction_id, at))[-MAX_TOMBSTONES:]
    focus_id = "" if state.focus_id == interaction_id else state.focus_id
    return replace(state, closed=closed, focus_id=focus_id)


def _bound(state: PanelState, effects: list[Effect]) -> PanelState:
    """Drop contexts idle past their bound, then the least relevant ones beyond MAX_CONTEXTS."""
    clock = state.clock
    if clock is not None:
        for context in list(state.contexts.values()):
            changed = context.interaction.changed_at
            limit = WRAP_UP_IDLE_BOUND if context.interaction.state is InteractionState.DISCONNECTED else IDLE_BOUND
            if changed is not None and clock - changed > limit:
                effects.append(Log("info", f"dropped the context of {context.interaction.id}: idle since {changed}"))
                state = _close(state, context.interaction.id, changed)
    while len(state.contexts) > MAX_CONTEXTS:
        oldest = min(state.contexts.values(), key=_auto_rank)
        effects.append(Log("warning", f"dropped the context of {oldest.interaction.id}: too many open interactions"))
        state = _close(state, oldest.interaction.id, oldest.interaction.changed_at)
    return state


def _needs_lookup(current: InteractionContext | None, interaction: Interaction) -> bool:
    """Pop once per interaction, whatever state it is first seen in (a reload's snapshot brings held
    and wrapping-up calls too); a failed lookup gets one more try when the call rings or connects again."""
    if current is None or current.lookup is None:
        return True
    return (
        current.lookup.status is LookupStatus.FAILED
        and current.interaction.state != interaction.state
        and interaction.state in POP_STATES
    )
