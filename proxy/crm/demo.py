"""Adapter for the demo CRM, spoken to over real HTTP like any external CRM."""

import httpx
from pydantic import BaseModel, ValidationError

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from .base import CrmError, CrmRateLimited, CrmRejected, CrmTimeout


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
        response = await self._send("GET", "/api/contacts", params={"phone": e164})
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
        response = await self._send("POST", "/api/contacts", json=body)
        try:
            return self._contact(DemoCrmRecord.model_validate(response.json()))
        except (ValueError, ValidationError):
            raise CrmError("demo CRM sent an unreadable answer") from None

    async def log_call(self, call_log: CallLog) -> str:
        body = {
            "external_id": call_log.interaction_id,
            "contact_id": call_log.crm_id,
            "subject": call_log.subject,
            "notes": call_log.notes,
            "disposition": call_log.disposition,
            "direction": call_log.direction.value,
            "duration_seconds": call_log.duration_s,
        }
        return self._record_id(await self._send("POST", "/api/call-logs", json=body))

    async def update_contact(self, update: ContactUpdate) -> str:
        fields = update.fields.model_dump(exclude_none=True)
        return self._record_id(await self._send("PATCH", f"/api/contacts/{update.crm_id}", json=fields))

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        body = {
            "external_id": external_id,
            "contact_id": task.crm_id,
            "title": task.title,
            "due_date": task.due_date.isoformat(),
            "notes": task.notes,
        }
        return self._record_id(await self._send("POST", "/api/tasks", json=body))

    def _record_id(self, response: httpx.Response) -> str:
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise CrmError("demo CRM sent an unreadable answer") from None

    async def _send(self, method: str, path: str, **options: object) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.TimeoutException as error:
            raise CrmTimeout(f"demo CRM timed out: {type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise CrmError(f"demo CRM unreachable: {type(error).__name__}") from None
        if response.status_code == 429:
            raise CrmRateLimited("demo CRM is rate limiting", _retry_after(response.headers.get("retry-after")))
        if 400 <= response.status_code < 500:
            raise CrmRejected(f"demo CRM refused: {response.status_code} {response.text[:200]}")
        if response.status_code >= 300:
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


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (an HTTP date is not used by the demo CRM); 1 s when absent or odd."""
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
