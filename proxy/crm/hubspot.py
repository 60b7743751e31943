"""HubSpot CRM v3: contacts searched by phone and mobile phone, calls and tasks associated to the contact.

- Private-app token as a bearer token (static: a 401 means the configuration needs a new one).
- Lookup: ``POST /crm/v3/objects/contacts/search``, ORed filter groups: ``phone`` and ``mobilephone``
  EQ the E.164 number, and HubSpot's calculated ``hs_searchable_calculated_phone_number`` /
  ``..._mobile_number`` (digits without the country code) EQ the national digits, so a number typed
  as "(415) 555-0123" is found too. Results are checked again after normalising what HubSpot stored.
- Call log: ``POST /crm/v3/objects/calls`` associated to the contact (type 194). The title carries the
  ContactID, and a second log of the same call finds it by title and updates it.
- 429: ``Retry-After`` when present, otherwise the ``X-HubSpot-RateLimit-Interval-Milliseconds`` window.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

import httpx

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from ..phone import national_digits, same_number
from .base import CrmError
from .mapping import FieldMap
from .transport import DEFAULT_RETRY_AFTER_S, CrmTransport, record_id, retry_after_header

DEFAULT_FIELDS = {"first_name": "firstname", "last_name": "lastname", "email": "email", "company": "company"}
CONTACT_PROPERTIES = ["firstname", "lastname", "email", "phone", "mobilephone", "company"]
CALL_TO_CONTACT = 194  # HUBSPOT_DEFINED association types
TASK_TO_CONTACT = 204
SEARCH_LIMIT = 10


def rate_limited(response: httpx.Response) -> float | None:
    if response.status_code != 429:
        return None
    wait = retry_after_header(response)
    if wait is not None:
        return wait
    interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")
    return int(interval) / 1000 if interval.isdigit() else DEFAULT_RETRY_AFTER_S


def call_title(call_log: CallLog) -> str:
    return f"{call_log.subject} [CXone {call_log.interaction_id}]"[:255]


class HubSpotAdapter:
    name = "hubspot"

    def __init__(self, transport: CrmTransport, field_map: Mapping[str, str], default_region: str) -> None:
        self._crm = transport
        self._fields = FieldMap(self.name, DEFAULT_FIELDS, field_map)
        self._region = default_region

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}
                for name, value in (
                    ("phone", e164),
                    ("mobilephone", e164),
                    ("hs_searchable_calculated_phone_number", national_digits(e164)),
                    ("hs_searchable_calculated_mobile_number", national_digits(e164)),
                )
            ],
            "properties": CONTACT_PROPERTIES,
            "limit": SEARCH_LIMIT,
        }
        body = await self._crm.request_json("POST", "/crm/v3/objects/contacts/search", json=search)
        try:
            return tuple(
                self._contact(str(item["id"]), item.get("properties") or {})
                for item in body["results"]
                if any(
                    same_number((item.get("properties") or {}).get(name), e164, self._region)
                    for name in ("phone", "mobilephone")
                )
            )
        except (KeyError, TypeError, AttributeError):
            raise CrmError("hubspot sent an unreadable search answer") from None

    async def create_contact(self, contact: NewContact) -> CrmContact:
        properties = {"firstname": contact.first_name, "lastname": contact.last_name, "phone": contact.phone}
        if contact.email:
            properties["email"] = contact.email
        body = await self._crm.request_json("POST", "/crm/v3/objects/contacts", json={"properties": properties})
        return self._contact(record_id(body, self.name), body.get("properties") or properties)

    async def log_call(self, call_log: CallLog) -> str:
        title = call_title(call_log)
        properties = {
            "hs_timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "hs_call_title": title,
            "hs_call_body": call_log.notes,
            "hs_call_direction": call_log.direction.value.upper(),
            "hs_call_duration": str(call_log.duration_s * 1000),
            "hs_call_status": "COMPLETED",
        }
        existing = await self._logged_call(title)
        if existing:
            del properties["hs_timestamp"]  # keep the call where it sits on the timeline
            await self._crm.request("PATCH", f"/crm/v3/objects/calls/{existing}", json={"properties": properties})
            return existing
        payload = {"properties": properties, "associations": [_association(call_log.crm_id, CALL_TO_CONTACT)]}
        return record_id(await self._crm.request_json("POST", "/crm/v3/objects/calls", json=payload), self.name)

    async def update_contact(self, update: ContactUpdate) -> str:
        changes = {"properties": self._fields.changes(update.fields)}
        await self._crm.request("PATCH", f"/crm/v3/objects/contacts/{update.crm_id}", json=changes)
        return update.crm_id

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        due = datetime.combine(task.due_date, time(9, 0), tzinfo=UTC)
        properties = {
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_subject": task.title,
            "hs_task_body": task.notes,
            "hs_task_status": "NOT_STARTED",
            "hs_task_type": "CALL",
        }
        payload = {"properties": properties, "associations": [_association(task.crm_id, TASK_TO_CONTACT)]}
        return record_id(await self._crm.request_json("POST", "/crm/v3/objects/tasks", json=payload), self.name)

    async def ready(self) -> None:
        await self._crm.request("GET", "/crm/v3/objects/contacts", params={"limit": "1"})

    async def aclose(self) -> None:
        await self._crm.aclose()

    async def _logged_call(self, title: str) -> str:
        search = {
            "filterGroups": [{"filters": [{"propertyName": "hs_call_title", "operator": "EQ", "value": title}]}],
            "properties": ["hs_call_title"],
            "limit": 1,
        }
        body = await self._crm.request_json("POST", "/crm/v3/objects/calls/search", json=search)
        results = body.get("results") if isinstance(body, dict) else None
        return str(results[0]["id"]) if results else ""

    def _contact(self, contact_id: str, properties: Mapping[str, Any]) -> CrmContact:
        name = f"{properties.get('firstname') or ''} {properties.get('lastname') or ''}".strip()
        return CrmContact(
            id=contact_id,
            name=name,
            company=str(properties.get(self._fields.name("company")) or ""),
            phone=str(properties.get("phone") or properties.get("mobilephone") or ""),
            email=str(properties.get("email") or ""),
            crm=self.name,
        )


def _association(contact_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": contact_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }
