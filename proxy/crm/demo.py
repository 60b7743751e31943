"""Adapter for the demo CRM, spoken to over real HTTP like any external CRM."""

from pydantic import BaseModel, ValidationError

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from .base import CrmError
from .transport import CrmTransport, record_id


class DemoCrmRecord(BaseModel):
    id: str
    first_name: str
    last_name: str
    company: str = ""
    phone_e164: str = ""
    email: str = ""


class DemoCrmAdapter:
    name = "demo"

    def __init__(self, transport: CrmTransport) -> None:
        self._crm = transport

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        body = await self._crm.request_json("GET", "/api/contacts", params={"phone": e164})
        try:
            records = [DemoCrmRecord.model_validate(item) for item in body["results"]]
        except (KeyError, TypeError, ValidationError):
            raise CrmError("demo CRM sent an unreadable answer") from None
        return tuple(self._contact(record) for record in records)

    async def create_contact(self, contact: NewContact) -> CrmContact:
        body = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone_e164": contact.phone,
            "email": contact.email,
        }
        try:
            return self._contact(
                DemoCrmRecord.model_validate(await self._crm.request_json("POST", "/api/contacts", json=body))
            )
        except ValidationError:
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
        return record_id(await self._crm.request_json("POST", "/api/call-logs", json=body), self.name)

    async def update_contact(self, update: ContactUpdate) -> str:
        fields = update.fields.model_dump(exclude_none=True)
        return record_id(
            await self._crm.request_json("PATCH", f"/api/contacts/{update.crm_id}", json=fields), self.name
        )

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        body = {
            "external_id": external_id,
            "contact_id": task.crm_id,
            "title": task.title,
            "due_date": task.due_date.isoformat(),
            "notes": task.notes,
        }
        return record_id(await self._crm.request_json("POST", "/api/tasks", json=body), self.name)

    async def ready(self) -> None:
        await self._crm.request("GET", "/api/contacts", params={"phone": "+10000000000"})

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
        await self._crm.aclose()
