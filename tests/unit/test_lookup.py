import pytest

from panel.lookup import HttpReply, LookupFailed, LookupFound, lookup_key, lookup_url, outcome_from_reply
from panel.models import Channel, Direction, Interaction, InteractionState


def interaction(direction: Direction, ani: str, dnis: str) -> Interaction:
    return Interaction(
        id="1", channel=Channel.VOICE, direction=direction, state=InteractionState.RINGING, ani=ani, dnis=dnis
    )


def test_inbound_uses_ani_then_dnis() -> None:
    assert lookup_key(interaction(Direction.INBOUND, "+14155550123", "+18005550100")) == "+14155550123"
    assert lookup_key(interaction(Direction.INBOUND, "", "+18005550100")) == "+18005550100"


def test_outbound_uses_the_dialled_number() -> None:
    assert lookup_key(interaction(Direction.OUTBOUND, "+18005550100", "+14155550123")) == "+14155550123"


@pytest.mark.parametrize("ani", ["", "Anonymous", "Restricted"])
def test_no_digits_means_nothing_to_look_up(ani: str) -> None:
    assert lookup_key(interaction(Direction.INBOUND, ani, "")) is None


def test_url_keeps_the_plus_sign() -> None:
    assert lookup_url("+14155550123") == "/crm/contact?key=%2B14155550123"
    assert lookup_url("(415) 555 0123&x=1") == "/crm/contact?key=%28415%29%20555%200123%26x%3D1"
    assert lookup_url("+14155550123", "712345") == "/crm/contact?contact_id=712345&key=%2B14155550123"


def test_reply_interpretation() -> None:
    body = {"key": "+1", "matches": [{"id": "c1", "name": "Ada"}]}
    found = outcome_from_reply(HttpReply(200, body))
    assert isinstance(found, LookupFound) and found.matches[0].id == "c1"
    assert outcome_from_reply(HttpReply(200, {"key": "+1", "matches": []})) == LookupFound(())
    assert outcome_from_reply(HttpReply(422, {"error": "bad"})) == LookupFound(())
    assert outcome_from_reply(HttpReply(200, None)) == LookupFailed("invalid response")
    assert outcome_from_reply(HttpReply(401, {})) == LookupFailed("not signed in")
    assert outcome_from_reply(HttpReply(504, {})) == LookupFailed("http 504")
