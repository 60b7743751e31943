"""Interaction-scoped context: concurrent and held calls, switching, choices, notes, ordering."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from panel.agent_actions import ChooseRecord, ControlCall, EditNotes, SwitchTo
from panel.effects import Log, PostToHost, StartLookup
from panel.host_protocol import InteractionUpdated, parse_event
from panel.lookup import LookupFound
from panel.models import CrmContact, InteractionState
from panel.origins import parse_allow_list
from panel.state import (
    MAX_TOMBSTONES,
    PanelConfig,
    PanelState,
    Transition,
    apply_action,
    finish_lookup,
    mark_ready,
    receive_message,
)
from panel.view import build_view
from tests.raw_events import agent_state, batch, call_event

HOST = "https://na1.cxone.com"
CONFIG = PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com"))
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def event(contact_id: str, status: str, seconds: float, **overrides: str) -> dict[str, object]:
    ani = {"A": "+14155550123", "B": "+14155550199", "C": "+442079460018"}.get(contact_id, "+15555550000")
    return call_event(contact_id, status, ANI=ani, LastStateChangeTimeUTC=at(seconds), **overrides)


class Agent:
    """Drives the core like the shell does, answering every lookup from a small CRM."""

    def __init__(self) -> None:
        self.state = mark_ready(PanelState())
        self.lookups: list[StartLookup] = []
        self.posted: list[PostToHost] = []
        self.crm = {
            "%2B14155550123": (CrmContact(id="c-a", name="Ada"),),
            "%2B14155550199": (CrmContact(id="c-b1", name="Bea"), CrmContact(id="c-b2", name="Bob")),
        }

    def host(self, *events: object) -> Transition:
        return self._take(receive_message(self.state, CONFIG, HOST, True, batch(*events)))

    def act(self, action: object) -> Transition:
        return self._take(apply_action(self.state, CONFIG, action))  # type: ignore[arg-type]

    def _take(self, transition: Transition) -> Transition:
        self.state = transition.state
        for effect in transition.effects:
            if isinstance(effect, StartLookup):
                self.lookups.append(effect)
                matches = self.crm.get(effect.url.split("key=")[1], ())
                self.state = finish_lookup(
                    self.state, effect.interaction_id, effect.request_id, LookupFound(matches), 5
                ).state
            elif isinstance(effect, PostToHost):
                self.posted.append(effect)
        return transition

    @property
    def shown(self) -> str:
        return build_view(self.state).interaction_id


def test_hold_a_answer_b_resume_a_each_keeps_its_own_contact_without_new_lookups() -> None:
    agent = Agent()
    agent.host(event("A", "Incoming", 0))
    agent.host(event("A", "Active", 2))
    assert (agent.shown, build_view(agent.state).crm_id) == ("A", "c-a")
    agent.host(event("A", "Holding", 10), event("B", "Incoming", 11))
    agent.host(event("B", "Active", 12))
    assert agent.shown == "B" and len(build_view(agent.state).matches) == 2
    agent.host(event("B", "Holding", 20), event("A", "Active", 21))
    view = build_view(agent.state)
    assert (view.interaction_id, view.crm_id, view.contact and view.contact.name) == ("A", "c-a", "Ada")
    assert [lookup.interaction_id for lookup in agent.lookups] == ["A", "B"]
    agent.host(event("A", "Holding", 30), event("B", "Active", 31))
    assert agent.shown == "B" and len(agent.lookups) == 2


def test_a_third_call_ringing_is_announced_without_taking_the_screen() -> None:
    agent = Agent()
    agent.host(event("A", "Active", 0), event("B", "Holding", 1))
    agent.host(event("C", "Incoming", 5))
    view = build_view(agent.state)
    assert view.interaction_id == "A"
    assert [(tab.interaction_id, tab.ringing) for tab in view.others] == [("B", False), ("C", True)]
    assert view.announcement == "Incoming call from +442079460018"
    assert [lookup.interaction_id for lookup in agent.lookups] == ["A", "B", "C"]


def test_switching_shows_another_call_until_a_call_connects() -> None:
    agent = Agent()
    agent.host(event("A", "Active", 0), event("C", "Incoming", 5))
    agent.act(SwitchTo("C"))
    assert agent.shown == "C"
    agent.host(event("A", "Holding", 6))
    assert agent.shown == "C"  # the agent's switch holds through other changes
    agent.host(event("C", "Active", 7))
    assert agent.shown == "C"
    agent.act(SwitchTo("A"))
    assert agent.shown == "A"
    agent.host(event("C", "Holding", 8), event("A", "Active", 9))
    assert agent.shown == "A"
    agent.act(SwitchTo("nope"))
    assert agent.shown == "A"


def test_notes_belong_to_their_interaction_and_survive_switching() -> None:
    agent = Agent()
    agent.host(event("A", "Active", 0), event("B", "Holding", 1))
    agent.act(EditNotes("A", "wants a refund"))
    agent.act(SwitchTo("B"))
    agent.act(EditNotes("B", "address change"))
    assert build_view(agent.state).notes == "address change"
    agent.act(SwitchTo("A"))
    assert build_view(agent.state).notes == "wants a refund"
    agent.host(event("A", "Holding", 5), event("B", "Active", 6), event("B", "Disconnected", 9))
    assert agent.state.contexts["A"].notes == "wants a refund" and agent.state.contexts["B"].notes == "address change"


def test_the_chosen_match_is_what_actions_bind_to() -> None:
    agent = Agent()
    agent.host(event("B", "Incoming", 0))
    view = build_view(agent.state)
    assert view.crm_id == "" and "choose the caller" in view.detail
    agent.act(ChooseRecord("B", "c-b2"))
    view = build_view(agent.state)
    assert view.crm_id == "c-b2" and view.contact and view.contact.name == "Bob"
    transition = agent.act(ChooseRecord("B", "c-not-offered"))
    assert build_view(agent.state).crm_id == "c-b2" and isinstance(transition.effects[0], Log)


def test_call_control_only_where_the_state_allows() -> None:
    agent = Agent()
    agent.host(event("A", "Incoming", 0))
    assert build_view(agent.state).controls == ("answer", "hangup")
    agent.act(ControlCall("A", "hold"))
    agent.act(ControlCall("A", "answer"))
    agent.host(event("A", "Active", 1))
    assert build_view(agent.state).controls == ("hold", "hangup")
    agent.act(ControlCall("A", "hold"))
    agent.host(event("A", "Holding", 2))
    assert build_view(agent.state).controls == ("resume", "hangup")
    agent.act(ControlCall("A", "resume"))
    assert [(p.message["messageType"], p.target_origin) for p in agent.posted] == [
        ("AnswerEvent", HOST),
        ("HoldEvent", HOST),
        ("HoldEvent", HOST),
    ]
    agent.host(event("X", "Dialing", 3, IsInbound="False"))
    assert "answer" not in build_view(agent.state).controls or agent.shown != "X"
    assert agent.state.contexts["X"].interaction.direction.value == "outbound"


def test_call_control_needs_a_host_to_talk_to() -> None:
    state = mark_ready(PanelState())
    state = receive_message(state, CONFIG, HOST, True, batch(event("A", "Incoming", 0))).state
    without_host = type(state)(**{**state.__dict__, "host_origin": ""})
    transition = apply_action(without_host, CONFIG, ControlCall("A", "answer"))
    assert [effect.level for effect in transition.effects if isinstance(effect, Log)] == ["error"]


def test_a_closed_call_is_not_brought_back_by_a_late_event() -> None:
    agent = Agent()
    agent.host(event("A", "Disconnected", 10, FinalState="True"))
    agent.host(event("A", "Incoming", 0), event("A", "Active", 2))
    assert "A" not in agent.state.contexts and agent.lookups == [] and agent.shown == ""


def test_tombstones_are_bounded() -> None:
    agent = Agent()
    for index in range(MAX_TOMBSTONES + 20):
        agent.host(event(f"Z{index}", "Disconnected", index, FinalState="True"))
    assert len(agent.state.closed) == MAX_TOMBSTONES


def test_wrap_up_nobody_closed_is_dropped_after_the_idle_bound() -> None:
    agent = Agent()
    agent.host(event("A", "Disconnected", 0))
    agent.host(event("B", "Incoming", 30 * 60))
    assert set(agent.state.contexts) == {"A", "B"}
    agent.host(event("B", "Active", 61 * 60))
    assert set(agent.state.contexts) == {"B"}


def test_after_call_work_is_shown_for_the_call_being_wrapped_up() -> None:
    agent = Agent()
    agent.host(event("A", "Active", 0), event("A", "Disconnected", 60), agent_state("InboundContact", acw="True"))
    view = build_view(agent.state)
    assert view.headline == "After-call work from +14155550123" and view.controls == ()


def test_each_state_change_is_timestamped() -> None:
    agent = Agent()
    agent.host(event("A", "Incoming", 0), event("A", "Active", 3), event("A", "Holding", 9), event("A", "Active", 12))
    assert [(state.value, when.second if when else None) for state, when in agent.state.contexts["A"].history] == [
        ("ringing", 0),
        ("connected", 3),
        ("held", 9),
        ("connected", 12),
    ]


# ----- whatever the order, the newest event wins -----

LIFECYCLE = ["Incoming", "Active", "Holding", "Active", "Holding", "Active", "Disconnected"]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    """Events for up to three calls with increasing timestamps, delivered shuffled, some twice."""
    events: list[dict[str, object]] = []
    newest: dict[str, dict[str, object]] = {}
    clock = 0
    for contact_id in draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True)):
        length = draw(st.integers(min_value=1, max_value=len(LIFECYCLE)))
        closes = draw(st.booleans())
        for index, status in enumerate(LIFECYCLE[:length]):
            clock += draw(st.integers(min_value=1, max_value=5))
            final = "True" if closes and index == length - 1 and status == "Disconnected" else "False"
            raw = event(contact_id, status, clock, FinalState=final)
            events.append(raw)
            newest[contact_id] = raw
    delivered = draw(st.permutations(events))
    duplicates = draw(st.lists(st.sampled_from(events), max_size=4))
    return list(delivered) + duplicates, newest


@settings(max_examples=300, deadline=None)
@given(deliveries(), st.integers(min_value=1, max_value=4))
def test_final_state_is_the_state_of_the_newest_event(
    case: tuple[list[dict[str, object]], dict[str, dict[str, object]]], batch_size: int
) -> None:
    delivered, newest = case
    agent = Agent()
    for start in range(0, len(delivered), batch_size):
        agent.host(*delivered[start : start + batch_size])
    for contact_id, raw in newest.items():
        parsed = parse_event(raw)
        assert isinstance(parsed, InteractionUpdated)
        if parsed.interaction.closed:
            assert contact_id not in agent.state.contexts
        else:
            assert agent.state.contexts[contact_id].interaction == parsed.interaction
    for contact_id in newest:
        assert sum(lookup.interaction_id == contact_id for lookup in agent.lookups) <= 1  # never pops twice


@settings(max_examples=100, deadline=None)
@given(deliveries())
def test_a_connected_call_is_on_screen_whatever_the_order(
    case: tuple[list[dict[str, object]], dict[str, dict[str, object]]],
) -> None:
    delivered, newest = case
    agent = Agent()
    agent.host(*delivered)
    connected = [
        contact_id
        for contact_id, context in agent.state.contexts.items()
        if context.interaction.state is InteractionState.CONNECTED
    ]
    if connected:
        assert agent.shown in connected


def test_no_match_offers_a_contact_form_that_creates_the_callers_record() -> None:
    from panel.agent_actions import CreateContact
    from panel.effects import CreateRecord
    from panel.state import finish_create

    agent = Agent()
    agent.host(event("N", "Incoming", 0))
    view = build_view(agent.state)
    assert view.state == "nomatch" and view.create_form is not None and view.create_form.phone == "+15555550000"
    assert view.controls == ("answer", "hangup")  # the form does not stand in the way of the call
    refused = agent.act(CreateContact("N", first_name="  ", last_name="Lee"))
    assert refused.effects == () and build_view(agent.state).create_form.error.startswith("first name")  # type: ignore[union-attr]
    transition = agent.act(CreateContact("N", first_name="Kim", last_name="Lee", email="kim@example.com"))
    (effect,) = transition.effects
    assert isinstance(effect, CreateRecord)
    assert effect.body == {"first_name": "Kim", "last_name": "Lee", "phone": "+15555550000", "email": "kim@example.com"}
    assert build_view(agent.state).create_form.pending  # type: ignore[union-attr]
    assert agent.act(CreateContact("N", first_name="Kim", last_name="Lee")).effects == ()  # no second request
    failed = finish_create(agent.state, "N", effect.request_id, "the CRM is unavailable")
    assert build_view(failed.state).create_form.error == "the CRM is unavailable"  # type: ignore[union-attr]
    created = finish_create(agent.state, "N", effect.request_id, CrmContact(id="c-new", name="Kim Lee"))
    view = build_view(created.state)
    assert (view.state, view.crm_id, view.create_form) == ("loaded", "c-new", None)


def test_contact_updates_and_tasks_go_through_the_outbox_once() -> None:
    from panel.agent_actions import CreateTask, UpdateContact
    from panel.effects import SendAction

    agent = Agent()
    agent.host(event("A", "Active", 0))
    update = agent.act(UpdateContact("A", email="  ada@example.org ", company=""))
    (sent,) = [effect for effect in update.effects if isinstance(effect, SendAction)]
    assert sent.url == "/crm/actions/contact_update"
    assert sent.payload == {"interaction_id": "A", "crm_id": "c-a", "fields": {"email": "ada@example.org"}}
    task = agent.act(CreateTask("A", title="Send the refund form", due_date="2026-12-08", notes="by post"))
    (sent_task,) = [effect for effect in task.effects if isinstance(effect, SendAction)]
    assert sent_task.payload["due_date"] == "2026-12-08" and sent_task.key.startswith("A:task:c-a:")
    assert (
        agent.act(CreateTask("A", title="Send the refund form", due_date="2026-12-08", notes="by post")).effects == ()
    )
    assert [entry.label for entry in agent.state.outbox] == ["Contact update", "Task “Send the refund form”"]


def test_bad_form_input_is_explained_and_sends_nothing() -> None:
    from panel.agent_actions import CreateTask, UpdateContact

    agent = Agent()
    agent.host(event("A", "Active", 0))
    for action, message in (
        (UpdateContact("A"), "at least one field"),
        (UpdateContact("A", email="not an email"), "email"),
        (CreateTask("A", title="", due_date="2026-12-08"), "title"),
        (CreateTask("A", title="Call back", due_date="someday"), "due date"),
    ):
        transition = agent.act(action)
        assert transition.effects == () and message in build_view(agent.state).form_error
    agent.host(event("B", "Incoming", 1))
    agent.act(SwitchTo("B"))
    agent.act(UpdateContact("B", company="Acme"))  # two matches, none chosen yet
    assert build_view(agent.state).form_error == "choose the caller's record first"
    assert agent.state.outbox == ()


def test_actions_the_crm_has_are_forgotten_with_their_call() -> None:
    from panel.agent_actions import LogCall
    from panel.state import action_answered

    agent = Agent()
    agent.host(event("A", "Active", 0))
    (entry,) = (agent.act(LogCall("A")), agent.state.outbox[0])[1:]
    agent.state = action_answered(agent.state, entry.key, 201, "", "", 0.0, 0.5).state
    assert agent.state.outbox[0].status.value == "sent"
    agent.host(event("A", "Disconnected", 9, FinalState="True"))
    (final,) = agent.state.outbox
    assert final.status.value == "sending"  # the final log is in flight; the sent one is gone
    agent.state = action_answered(agent.state, final.key, 201, "", "", 0.0, 0.5).state
    assert agent.state.outbox == ()
