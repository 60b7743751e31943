"""Which host events describe a customer interaction the panel should act on.

CXone forwards every leg of the agent session: the agent's own phone leg, consults with other
agents, proxy legs. Only calls with a customer on the other end get a screen pop.
"""

from .models import Channel

# CallType values that carry a customer on the other end of the line.
CUSTOMER_VOICE_CALL_TYPES = frozenset(
    {"regular", "personalqueue", "dialer", "naturalcalling", "takeover", "conference", ""}
)
# Legs that never describe a customer: the agent's phone, agent-to-agent consults, proxy legs.
NON_CUSTOMER_CALL_TYPES = frozenset({"agentleg", "consult", "reskillproxy"})


def channel_for_call_type(call_type: str) -> Channel | None:
    """The channel of a CallContactEvent, or None when it is not a customer interaction.

    CXone has no separate callback event type; queued callbacks are voice contacts whose
    CallType names a callback, so any CallType containing "callback" counts as one.
    """
    normalised = call_type.strip().lower()
    if normalised in NON_CUSTOMER_CALL_TYPES:
        return None
    if "callback" in normalised:
        return Channel.CALLBACK
    if normalised in CUSTOMER_VOICE_CALL_TYPES:
        return Channel.VOICE
    return None
