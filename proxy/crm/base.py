"""The interface every CRM adapter implements, and the errors the routes translate to HTTP."""

from typing import Protocol

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact


class CrmError(Exception):
    """The CRM did not give a usable answer."""


class CrmTimeout(CrmError):
    """The CRM did not answer within the proxy's deadline."""


class CrmRateLimited(CrmError):
    """The CRM said 429: try again after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CrmRejected(CrmError):
    """The CRM refused the request itself (4xx other than 429): retrying will not help."""


class CrmThrottled(CrmError):
    """The proxy's own limiter held the request back: the CRM's budget is spent and the queue is full."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CrmAdapter(Protocol):
    name: str

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        """Every contact whose phone numbers match ``e164``; empty when none does."""
        ...

    async def create_contact(self, contact: NewContact) -> CrmContact:
        """Create a contact (``contact.phone`` is E.164) and return it as the CRM stored it."""
        ...

    async def log_call(self, call_log: CallLog) -> str:
        """Write the call's log; the interaction id is the external id, so a second write updates it."""
        ...

    async def update_contact(self, update: ContactUpdate) -> str: ...

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        """Create a follow-up task once: a CRM that keeps external ids refuses a second with the same id."""
        ...

    async def ready(self) -> None:
        """Raise CrmError unless the CRM answers (and accepts the proxy's credentials) right now."""
        ...

    async def aclose(self) -> None: ...


def created_contact(contact: NewContact, record_id: str, crm: str) -> CrmContact:
    """The contact a CRM just created, as the panel shows it (for CRMs whose answer is only the new id)."""
    return CrmContact(
        id=record_id,
        name=f"{contact.first_name} {contact.last_name}",
        phone=contact.phone,
        email=contact.email,
        crm=crm,
    )
