"""``/crm/*``: what the panel asks of the CRM. Every route here sits behind RequireAgent."""

import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from panel.models import ContactLookup, NewContact

from .crm.base import CrmAdapter, CrmError, CrmTimeout
from .phone import InvalidPhoneNumber, to_e164

log = logging.getLogger("proxy.crm")


class CrmRoutes:
    def __init__(self, crm: CrmAdapter, default_region: str) -> None:
        self._crm = crm
        self._region = default_region

    def routes(self) -> list[Route]:
        return [Route("/contact", self.contact, methods=["GET"]), Route("/contacts", self.create, methods=["POST"])]

    async def contact(self, request: Request) -> JSONResponse:
        """Look up the contacts for a caller number, normalised to E.164 first."""
        try:
            key = to_e164(request.query_params.get("key", ""), self._region)
        except InvalidPhoneNumber as error:
            return JSONResponse({"error": str(error), "field": "key"}, status_code=422)
        try:
            matches = await self._crm.find_contacts_by_phone(key)
        except CrmTimeout as error:
            log.warning("crm lookup timed out", extra={"crm": self._crm.name, "detail": str(error)})
            return JSONResponse({"error": "the CRM did not answer in time"}, status_code=504)
        except CrmError as error:
            log.warning("crm lookup failed", extra={"crm": self._crm.name, "detail": str(error)})
            return JSONResponse({"error": "the CRM is unavailable"}, status_code=502)
        return JSONResponse(ContactLookup(key=key, matches=matches).model_dump(mode="json"))

    async def create(self, request: Request) -> JSONResponse:
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
        except CrmTimeout:
            return JSONResponse({"error": "the CRM did not answer in time"}, status_code=504)
        except CrmError as error:
            log.warning("crm create failed", extra={"crm": self._crm.name, "detail": str(error)})
            return JSONResponse({"error": "the CRM is unavailable"}, status_code=502)
        return JSONResponse(created.model_dump(mode="json"), status_code=201)
