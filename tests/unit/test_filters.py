import pytest

from panel.filters import channel_for_call_type
from panel.host_protocol import EventIgnored, InteractionUpdated, parse_event
from panel.models import Channel
from tests.raw_events import call_event


@pytest.mark.parametrize("call_type", ["Regular", "PersonalQueue", "Dialer", "NaturalCalling", "regular", ""])
def test_customer_voice_calls_count(call_type: str) -> None:
    assert channel_for_call_type(call_type) is Channel.VOICE


@pytest.mark.parametrize("call_type", ["AgentLeg", "Consult", "ReskillProxy", "SomethingUnknown"])
def test_non_customer_legs_are_filtered(call_type: str) -> None:
    assert channel_for_call_type(call_type) is None
    assert isinstance(parse_event(call_event(CallType=call_type)), EventIgnored)


def test_callbacks_count_as_callback_channel() -> None:
    event = parse_event(call_event(CallType="QueuedCallback"))
    assert isinstance(event, InteractionUpdated) and event.interaction.channel is Channel.CALLBACK
