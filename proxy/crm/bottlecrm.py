"""BottleCRM (PyPI ``django-crm``, open source): contacts, call interactions, tasks; personal access token.

- Lookup: ``POST /api/contacts/duplicates/`` matches on the normalised phone, whatever its formatting.
- Call log: an interaction (``kind: call``). BottleCRM's API cannot set ``external_id``, so the ContactID
  goes in the subject (``[CXone 712345]``) and a second log of the same call updates that interaction.
- Contact update: ``PATCH /api/contacts/{id}/``. Task: ``POST /api/tasks/`` (the answer carries no id).
- A bad token is 403 there, not 401.
"""

from collections.abc import Mapping

import httpx

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from ..phone import same_number
from .base import CrmError, created_contact
from .mapping import FieldMap
from .transport import CrmTransport, record_id

DEFAULT_FIELDS = {"first_name": "first_name", "last_name": "last_name", "email": "email", "company": "organization"}
INTERACTION_PAGE = 50


def call_marker(interaction_id: str) -> str:
    return f"[CXone {interaction_id}]"


def refused_credentials(response: httpx.Response) -> bool:
    """BottleCRM answers an unknown token with 403 "... Please login again.", not 401."""
    return response.status_code == 401 or (response.status_code == 403 and "login again" in response.text.lower())


class BottleCrmAdapter:
    name = "bottlecrm"

    def __init__(self, transport: CrmTransport, field_map: Mapping[str, str], default_region: str) -> None:
        self._crm = transport
        self._fields = FieldMap(self.name, DEFAULT_FIELDS, field_map)
        self._region = default_region

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        body = await self._crm.request_json("POST", "/api/contacts/duplicates/", json={"phone": e164})
        try:
            found = [item for item in body["duplicates"] if same_number(item.get("phone"), e164, self._region)]
            return tuple(
                CrmContact(
                    id=str(item["id"]),
                    name=str(item.get("name") or ""),
                    phone=e164,
                    email=str(item.get("email") or ""),
                    crm=self.name,
                )
                for item in found
            )
        except (KeyError, TypeError, AttributeError):
            raise CrmError("bottlecrm sent an unreadable lookup answer") from None

    async def create_contact(self, contact: NewContact) -> CrmContact:
        payload = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone": contact.phone,
            **({"email": contact.email} if contact.email else {}),
        }
        body = await self._crm.request_json("POST", "/api/contacts/", json=payload)
        return created_contact(contact, record_id(body, self.name), self.name)

    async def log_call(self, call_log: CallLog) -> str:
        marker = call_marker(call_log.interaction_id)
        payload = {
            "kind": "call",
            "direction": call_log.direction.value,
            "contact": call_log.crm_id,
            "duration_seconds": call_log.duration_s,
            "outcome": "connected",
            "subject": f"{call_log.subject} {marker}"[:255],
            "body": call_log.notes,
            "origin": "phone_tap",
        }
        existing = await self._logged_call(call_log.crm_id, marker)
        if existing:
            await self._crm.request("PATCH", f"/api/interactions/{existing}/", json=payload)
            return existing
        return record_id(await self._crm.request_json("POST", "/api/interactions/", json=payload), self.name)

    async def update_contact(self, update: ContactUpdate) -> str:
        await self._crm.request("PATCH", f"/api/contacts/{update.crm_id}/", json=self._fields.changes(update.fields))
        return update.crm_id

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        payload = {
            "title": task.title,
            "status": "New",
            "priority": "Medium",
            "due_date": task.due_date.isoformat(),
            "description": task.notes,
            "contacts": [task.crm_id],
        }
        await self._crm.request("POST", "/api/tasks/", json=payload)
        return external_id  # BottleCRM answers without the task's id

    async def ready(self) -> None:
        await self._crm.request("GET", "/api/contacts/", params={"limit": "1"})

    async def aclose(self) -> None:
        await self._crm.aclose()

    async def _logged_call(self, crm_id: str, marker: str) -> str:
        """The interaction this call was already logged as, if any (the second guard after the proxy's keys)."""
        params = {"contact": crm_id, "limit": str(INTERACTION_PAGE)}
        body = await self._crm.request_json("GET", "/api/interactions/", params=params)
        for item in body.get("interactions", []) if isinstance(body, dict) else []:
            if item.get("kind") == "call" and marker in str(item.get("subject", "")):
                return str(item["id"])
        return ""
