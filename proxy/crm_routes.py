"""``/crm/*``: what the panel asks of the CRM. Every route here sits behind RequireAgent."""

import logging
import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from panel.models import ContactLookup, NewContact

from .crm.base import CrmAdapter, CrmError, CrmThrottled, CrmTimeout
from .drafts import CONTACT_ID_PATTERN
from .idempotent_requests import try_again_later
from .logs import bind_contact_id
from .metrics import ProxyMetrics
from .phone import InvalidPhoneNumber, to_e164

log = logging.getLogger("proxy.crm")


def throttled(error: CrmThrottled) -> Response:
    """503 with Retry-After: the proxy holds requests back rather than piling them on a CRM at its limit."""
    return try_again_later("the CRM is busy; try again shortly", error.retry_after_s, status_code=503)


class CrmRoutes:
    def __init__(self, crm: CrmAdapter, default_region: str, metrics: ProxyMetrics | None = None) -> None:
        self._crm = crm
        self._region = default_region
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [Route("/contact", self.contact, methods=["GET"]), Route("/contacts", self.create, methods=["POST"])]

    async def contact(self, request: Request) -> Response:
        """Look up the contacts for a caller number, normalised to E.164 first."""
        contact_id = request.query_params.get("contact_id", "")
        if contact_id and re.fullmatch(CONTACT_ID_PATTERN, contact_id) is None:
            return JSONResponse({"error": "contact_id must be 1-64 letters, digits, '-' or '_'"}, status_code=422)
        bind_contact_id(contact_id)
        try:
            key = to_e164(request.query_params.get("key", ""), self._region)
        except InvalidPhoneNumber as error:
            return JSONResponse({"error": str(error), "field": "key"}, status_code=422)
        try:
            matches = await self._crm.find_contacts_by_phone(key)
        except CrmError as error:
            return self._failed("lookup", error)
        self._count("found" if matches else "no_match")
        return JSONResponse(ContactLookup(key=key, matches=matches).model_dump(mode="json"))

    def _failed(self, what: str, error: CrmError) -> Response:
        """The CRM gave no answer: 504 for a time-out, 503 with Retry-After when throttled, else 502."""
        if isinstance(error, CrmThrottled):
            self._count("throttled")
            if self._metrics is not None:
                self._metrics.throttled.labels(self._crm.name).inc()
            return throttled(error)
        if isinstance(error, CrmTimeout):
            self._count("timeout")
            log.warning(f"crm {what} timed out", extra={"crm": self._crm.name, "detail": str(error)})
            return JSONResponse({"error": "the CRM did not answer in time"}, status_code=504)
        self._count("failed")
        log.warning(f"crm {what} failed", extra={"crm": self._crm.name, "detail": str(error)})
        return JSONResponse({"error": "the CRM is unavailable"}, status_code=502)

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.lookups.labels(outcome).inc()

    async def create(self, request: Request) -> Response:
        """Create a contact for a caller nobody matched; the phone is normalised like lookups."""
        try:
            contact = NewContact.model_validate_json(await request.body())
            contact = contact.model_copy(update={"phone": to_e164(contact.phone, self._region)})
        except ValidationError as error:
            problem = error.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in problem["loc"]) or "body"
            return JSONResponse(
                {"error": f"{field.replace('_', ' ')}: {problem['msg']}", "field": field}, status_code=422
            )
        except InvalidPhoneNumber as error:
            return JSONResponse({"error": f"phone: {error}", "field": "phone"}, status_code=422)
        try:
            created = await self._crm.create_contact(contact)
        except CrmError as error:
            return self._failed("create", error)
        return JSONResponse(created.model_dump(mode="json"), status_code=201)
