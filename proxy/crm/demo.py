"""Adapter for the demo CRM, spoken to over real HTTP like any external CRM."""

import httpx
from pydantic import BaseModel, ValidationError

from panel.models import CrmContact, NewContact

from .base import CrmError, CrmTimeout


class DemoCrmRecord(BaseModel):
    id: str
    first_name: str
    last_name: str
    company: str = ""
    phone_e164: str = ""
    email: str = ""


class DemoCrmAdapter:
    name = "demo"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        response = await self._send("GET", "/api/contacts", expected=200, params={"phone": e164})
        try:
            records = [DemoCrmRecord.model_validate(item) for item in response.json()["results"]]
        except (ValueError, KeyError, TypeError, ValidationError):
            raise CrmError("demo CRM sent an unreadable answer") from None
        return tuple(self._contact(record) for record in records)

    async def create_contact(self, contact: NewContact) -> CrmContact:
        body = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone_e164": contact.phone,
            "email": contact.email,
        }
        response = await self._send("POST", "/api/contacts", expected=201, json=body)
        try:
            return self._contact(DemoCrmRecord.model_validate(response.json()))
        except (ValueError, ValidationError):
            raise CrmError("demo CRM sent an unreadable answer") from None

    async def _send(self, method: str, path: str, expected: int, **options: object) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.TimeoutException as error:
            raise CrmTimeout(f"demo CRM timed out: {type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise CrmError(f"demo CRM unreachable: {type(error).__name__}") from None
        if response.status_code != expected:
            raise CrmError(f"demo CRM answered {response.status_code}")
        return response

    def _contact(self, record: DemoCrmRecord) -> CrmContact:
        return CrmContact(
            id=record.id,
            name=f"{record.first_name} {record.last_name}".strip(),
            company=record.company,
            phone=record.phone_e164,
            email=record.email,
            crm=self.name,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
