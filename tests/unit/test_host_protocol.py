from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.host_protocol import (
    AgentStatusChanged,
    EventIgnored,
    InteractionUpdated,
    SessionAnnounced,
    SubscriptionAcknowledged,
    parse_batch,
    parse_event,
)
from panel.models import Channel, Direction, InteractionState
from tests.raw_events import agent_state, batch, call_event


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Incoming", InteractionState.RINGING),
        ("Active", InteractionState.CONNECTED),
        ("Holding", InteractionState.HELD),
        ("Disconnected", InteractionState.DISCONNECTED),
        ("Dialing", InteractionState.DIALING),
        ("Joined", InteractionState.CONNECTED),
        ("CallBackDisconnected", InteractionState.DISCONNECTED),
    ],
)
def test_status_maps_to_the_panel_state(status: str, state: InteractionState) -> None:
    event = parse_event(call_event(status=status))
    assert isinstance(event, InteractionUpdated)
    assert event.interaction.state is state


def test_call_event_is_normalised() -> None:
    event = parse_event(call_event(contact_id="777", ANI="4155550123", DNIS="8005550100", Skill="12"))
    assert isinstance(event, InteractionUpdated)
    interaction = event.interaction
    assert (interaction.id, interaction.ani, interaction.dnis, interaction.skill) == (
        "777",
        "4155550123",
        "8005550100",
        "12",
    )
    assert interaction.channel is Channel.VOICE
    assert interaction.direction is Direction.INBOUND
    assert interaction.changed_at == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert interaction.closed is False


def test_outbound_direction_and_numeric_contact_id() -> None:
    event = parse_event(call_event(contact_id=123456, IsInbound="False", Status="Dialing"))  # type: ignore[arg-type]
    assert isinstance(event, InteractionUpdated)
    assert event.interaction.id == "123456"
    assert event.interaction.direction is Direction.OUTBOUND


def test_final_disconnect_closes_but_plain_disconnect_keeps_wrap_up_open() -> None:
    closing = parse_event(call_event(status="Disconnected", FinalState="True"))
    wrap_up = parse_event(call_event(status="Disconnected", FinalState="False"))
    assert isinstance(closing, InteractionUpdated) and closing.interaction.closed
    assert isinstance(wrap_up, InteractionUpdated) and not wrap_up.interaction.closed


def test_final_state_on_a_live_status_does_not_close() -> None:
    event = parse_event(call_event(status="Active", FinalState="True"))
    assert isinstance(event, InteractionUpdated) and not event.interaction.closed


def test_agent_state_acknowledge_and_session_info() -> None:
    events = parse_batch(
        batch(
            agent_state("Unavailable", "Lunch", acw="True"),
            {"messageType": "SessionInfo", "sessionToken": "abc"},
            {"messageType": "ClientEventSubscriptionAcknowledge", "contactId": None, "status": "OK", "reason": ""},
            {"messageType": "ClientEventSubscriptionAcknowledge", "status": "ERROR", "reason": "no session"},
        )
    )
    assert isinstance(events[0], AgentStatusChanged)
    assert (events[0].status.state, events[0].status.reason, events[0].status.in_acw) == ("Unavailable", "Lunch", True)
    assert events[1] == SessionAnnounced("abc")
    assert events[2] == SubscriptionAcknowledged(ok=True, reason="")
    assert events[3] == SubscriptionAcknowledged(ok=False, reason="no session")


@pytest.mark.parametrize(
    "raw",
    [
        {"Type": "DigitalContactEvent", "ContactID": "1"},
        {"Type": "WorkItemContactEvent"},
        {"Type": "AgentLeg", "Status": "Active"},
        {"messageType": "SomethingNew"},
        {"noType": True},
    ],
)
def test_unhandled_types_are_ignored(raw: dict[str, object]) -> None:
    assert isinstance(parse_event(raw), EventIgnored)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        5,
        "CallContactEvent",
        {"Type": "CallContactEvent"},
        call_event(contact_id=""),
        call_event(IsInbound="maybe"),
        call_event(LastStateChangeTimeUTC="yesterday"),
        call_event(ANI={"nested": "object"}),
        call_event(status="Exploded"),
    ],
)
def test_malformed_events_are_ignored_with_a_reason(raw: object) -> None:
    event = parse_event(raw)
    assert isinstance(event, EventIgnored)
    assert event.reason


@pytest.mark.parametrize("message", [None, "text", 42, [], {"events": "not a list"}, {"issuer": "CXA"}])
def test_messages_that_are_not_batches_are_ignored(message: object) -> None:
    (event,) = parse_batch(message)
    assert isinstance(event, EventIgnored)


def test_one_bad_event_does_not_cost_the_rest_of_its_batch() -> None:
    events = parse_batch(batch(None, {"Type": "Chat"}, call_event(contact_id="9")))
    assert isinstance(events[2], InteractionUpdated) and events[2].interaction.id == "9"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {"Type": st.sampled_from(["CallContactEvent", "AgentState", "Other"])},
    optional={
        key: json_values
        for key in ("ContactID", "Status", "ANI", "IsInbound", "FinalState", "LastStateChangeTimeUTC", "CurrentState")
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(json_values, st.fixed_dictionaries({"events": st.lists(st.one_of(event_like, json_values), max_size=5)}))
)
def test_parsing_never_raises_whatever_arrives(message: object) -> None:
    for event in parse_batch(message):
        assert isinstance(
            event, (InteractionUpdated, AgentStatusChanged, SubscriptionAcknowledged, SessionAnnounced, EventIgnored)
        )
