"""Salesforce REST: contacts found by phone search, call logs as Tasks, contact updates, follow-up tasks.

- Tokens come from the OAuth client-credentials or JWT-bearer flow (``credentials.py``), minted
  server-side; their ``instance_url`` is where the API calls go. A 401 (``INVALID_SESSION_ID``)
  re-mints once and retries once.
- Lookup: ``parameterizedSearch`` on the national digits in PHONE fields (``+`` and ``-`` are SOSL
  operators), then only the records whose Phone or MobilePhone is the number looked up.
- Call log: a Task (``TaskSubtype: Call``) with the call fields; ``CallObject`` holds the CXone
  ContactID, so a second log of the same call finds that Task and updates it.
- ``REQUEST_LIMIT_EXCEEDED`` (403) is a rate limit; ``Sforce-Limit-Info`` feeds a gauge and a warning.
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, Direction, NewContact

from ..metrics import ProxyMetrics
from ..phone import national_digits, same_number
from .base import CrmError, created_contact
from .mapping import FieldMap
from .transport import CrmTransport, rate_limited_429, record_id

DEFAULT_API_VERSION = "v62.0"
DEFAULT_FIELDS = {"first_name": "FirstName", "last_name": "LastName", "email": "Email"}  # Contact has no company
CONTACT_FIELDS = ["Id", "Name", "Phone", "MobilePhone", "Email", "Account.Name"]
DAILY_LIMIT_WAIT_S = 300.0
USAGE_WARNING = 0.9
log = logging.getLogger("proxy.crm.salesforce")


def rate_limited(response: httpx.Response) -> float | None:
    if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
        return DAILY_LIMIT_WAIT_S
    return rate_limited_429(response)


def api_usage(header: str) -> float | None:
    """``api-usage=18/5000`` -> 0.0036; None when the header is absent or odd."""
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "api-usage":
            used, _, limit = value.partition("/")
            if used.isdigit() and limit.isdigit() and int(limit) > 0:
                return int(used) / int(limit)
    return None


class LimitWatcher:
    """Reads ``Sforce-Limit-Info`` off every answer: a gauge, and a warning when the daily budget runs low."""

    def __init__(self, metrics: ProxyMetrics | None) -> None:
        self._metrics = metrics
        self.usage: float | None = None

    def __call__(self, response: httpx.Response) -> None:
        usage = api_usage(response.headers.get("sforce-limit-info", ""))
        if usage is None:
            return
        if usage >= USAGE_WARNING and (self.usage is None or self.usage < USAGE_WARNING):
            log.warning("salesforce daily API budget nearly spent", extra={"api_usage": round(usage, 3)})
        self.usage = usage
        if self._metrics is not None:
            self._metrics.crm_api_usage.labels("salesforce").set(usage)


class SalesforceAdapter:
    name = "salesforce"

    def __init__(
        self,
        transport: CrmTransport,
        field_map: Mapping[str, str],
        default_region: str,
        api_version: str = DEFAULT_API_VERSION,
    ) -> None:
        self._crm = transport
        self._fields = FieldMap(self.name, DEFAULT_FIELDS, field_map)
        self._region = default_region
        self._api = f"/services/data/{api_version}"

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        company_field = self._fields.name("company")
        fields = CONTACT_FIELDS + ([company_field] if company_field and company_field not in CONTACT_FIELDS else [])
        search = {
            "q": national_digits(e164),
            "in": "PHONE",
            "fields": ["Id"],
            "sobjects": [{"name": "Contact", "fields": fields}],
            "overallLimit": 10,
        }
        body = await self._crm.request_json("POST", f"{self._api}/parameterizedSearch/", json=search)
        try:
            return tuple(
                self._contact(record)
                for record in body["searchRecords"]
                if same_number(record.get("Phone"), e164, self._region)
                or same_number(record.get("MobilePhone"), e164, self._region)
            )
        except (KeyError, TypeError, AttributeError):
            raise CrmError("salesforce sent an unreadable search answer") from None

    async def create_contact(self, contact: NewContact) -> CrmContact:
        fields = {"FirstName": contact.first_name, "LastName": contact.last_name, "Phone": contact.phone}
        if contact.email:
            fields["Email"] = contact.email
        body = await self._crm.request_json("POST", f"{self._api}/sobjects/Contact/", json=fields)
        return created_contact(contact, record_id(body, self.name), self.name)

    async def log_call(self, call_log: CallLog) -> str:
        task = {
            "Subject": call_log.subject,
            "WhoId": call_log.crm_id,
            "TaskSubtype": "Call",
            "Status": "Completed",
            "ActivityDate": datetime.now(UTC).date().isoformat(),
            "CallType": "Inbound" if call_log.direction is Direction.INBOUND else "Outbound",
            "CallDurationInSeconds": call_log.duration_s,
            "CallObject": call_log.interaction_id,
            "CallDisposition": call_log.disposition,
            "Description": call_log.notes,
        }
        existing = await self._logged_call(call_log)
        if existing:
            await self._crm.request("PATCH", f"{self._api}/sobjects/Task/{existing}", json=task)
            return existing
        return record_id(await self._crm.request_json("POST", f"{self._api}/sobjects/Task/", json=task), self.name)

    async def update_contact(self, update: ContactUpdate) -> str:
        changes = self._fields.changes(update.fields)
        await self._crm.request("PATCH", f"{self._api}/sobjects/Contact/{update.crm_id}", json=changes)
        return update.crm_id

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        fields = {
            "Subject": task.title,
            "WhoId": task.crm_id,
            "ActivityDate": task.due_date.isoformat(),
            "Description": task.notes,
            "Status": "Not Started",
            "Priority": "Normal",
        }
        return record_id(await self._crm.request_json("POST", f"{self._api}/sobjects/Task/", json=fields), self.name)

    async def ready(self) -> None:
        await self._crm.request("GET", f"{self._api}/limits/")

    async def aclose(self) -> None:
        await self._crm.aclose()

    async def _logged_call(self, call_log: CallLog) -> str:
        """The Task this call was logged as before (its CallObject is the ContactID), if any."""
        soql = (
            "SELECT Id FROM Task WHERE CallObject = "
            f"'{_soql_literal(call_log.interaction_id)}' AND WhoId = '{_soql_literal(call_log.crm_id)}' LIMIT 1"
        )
        body = await self._crm.request_json("GET", f"{self._api}/query/", params={"q": soql})
        records = body.get("records") if isinstance(body, dict) else None
        return str(records[0]["Id"]) if records else ""

    def _contact(self, record: Mapping[str, Any]) -> CrmContact:
        account = record.get("Account") or {}
        company_field = self._fields.name("company")
        company = record.get(company_field) if company_field else account.get("Name")
        return CrmContact(
            id=str(record["Id"]),
            name=str(record.get("Name") or ""),
            company=str(company or ""),
            phone=str(record.get("Phone") or record.get("MobilePhone") or ""),
            email=str(record.get("Email") or ""),
            crm=self.name,
        )


def _soql_literal(value: str) -> str:
    """A SOQL string literal's content: backslash and quote escaped (ids are validated already)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
