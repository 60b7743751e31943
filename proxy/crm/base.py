"""The interface every CRM adapter implements, and the errors the routes translate to HTTP."""

from typing import Protocol

from panel.models import CrmContact, NewContact


class CrmError(Exception):
    """The CRM did not give a usable answer."""


class CrmTimeout(CrmError):
    """The CRM did not answer within the proxy's deadline."""


class CrmAdapter(Protocol):
    name: str

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        """Every contact whose phone numbers match ``e164``; empty when none does."""
        ...

    async def create_contact(self, contact: NewContact) -> CrmContact:
        """Create a contact (``contact.phone`` is E.164) and return it as the CRM stored it."""
        ...

    async def aclose(self) -> None: ...
