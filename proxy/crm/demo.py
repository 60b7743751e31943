"""Adapter for the demo CRM, spoken to over real HTTP like any external CRM."""

import httpx
from pydantic import BaseModel, ValidationError

from panel.models import CrmContact

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
        try:
            response = await self._client.get("/api/contacts", params={"phone": e164})
        except httpx.TimeoutException as error:
            raise CrmTimeout(f"demo CRM timed out: {type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise CrmError(f"demo CRM unreachable: {type(error).__name__}") from None
        if response.status_code != 200:
            raise CrmError(f"demo CRM answered {response.status_code}")
        try:
            records = [DemoCrmRecord.model_validate(item) for item in response.json()["results"]]
        except (ValueError, KeyError, TypeError, ValidationError):
            raise CrmError("demo CRM sent an unreadable answer") from None
        return tuple(
            CrmContact(
                id=record.id,
                name=f"{record.first_name} {record.last_name}".strip(),
                company=record.company,
                phone=record.phone_e164,
                email=record.email,
                crm=self.name,
            )
            for record in records
        )

    async def aclose(self) -> None:
        await self._client.aclose()
