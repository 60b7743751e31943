"""Screen-pop lookups: which number to ask for, where, how long to wait, what the answer means."""

from dataclasses import dataclass
from urllib.parse import quote

from pydantic import ValidationError

from .models import ContactLookup, CrmContact, Interaction

LOOKUP_DEADLINE_S = 3.0
LOOKUP_PATH = "/crm/contact"


@dataclass(frozen=True)
class HttpReply:
    """What the shell's fetch returns: the status and the decoded JSON body (None if not JSON)."""

    status: int
    body: object
    retry_after: str = ""  # the Retry-After header, when the answer had one


@dataclass(frozen=True)
class LookupFound:
    matches: tuple[CrmContact, ...]


@dataclass(frozen=True)
class LookupFailed:
    """The CRM context could not be had; ``reason`` is short and goes to telemetry."""

    reason: str


LookupOutcome = LookupFound | LookupFailed


def lookup_key(interaction: Interaction) -> str | None:
    """The customer's number to search on, or None when there is nothing to search."""
    key = interaction.customer_number
    return key if any(char.isdigit() for char in key) else None


def lookup_url(key: str, contact_id: str = "") -> str:
    """The proxy URL for a key; the key is fully percent-encoded so a leading ``+`` survives.

    The ContactID rides along so the proxy's logs can name the interaction (never the number).
    """
    contact = f"contact_id={quote(contact_id, safe='')}&" if contact_id else ""
    return f"{LOOKUP_PATH}?{contact}key={quote(key, safe='')}"


def outcome_from_reply(reply: HttpReply) -> LookupOutcome:
    """Interpret the proxy's answer; a number the proxy cannot parse is simply no match."""
    if reply.status == 200:
        try:
            return LookupFound(ContactLookup.model_validate(reply.body).matches)
        except ValidationError:
            return LookupFailed("invalid response")
    if reply.status == 422:
        return LookupFound(())
    if reply.status == 401:
        return LookupFailed("not signed in")
    return LookupFailed(f"http {reply.status}")


def created_contact(reply: HttpReply) -> CrmContact | str:
    """The proxy's answer to creating a contact: the new record, or a reason to show the agent."""
    if reply.status == 201:
        try:
            return CrmContact.model_validate(reply.body)
        except ValidationError:
            return "the CRM proxy sent an unreadable answer"
    if reply.status == 422 and isinstance(reply.body, dict):
        return str(reply.body.get("error", "the CRM refused the contact"))
    return f"the CRM could not create the contact (http {reply.status})"
