"""A local HubSpot CRM v3 that follows the documented shapes: just enough for the adapter suite.

Contacts (search with ORed filter groups, create, update), calls and tasks with associations, a
private-app token, HubSpot's error bodies (``status, message, category``) and rate-limit headers,
and 429s on demand.
"""

import itertools
import re
from typing import Any

import phonenumbers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

OBJECTS = ("contacts", "calls", "tasks")
KNOWN_PROPERTIES = {
    "contacts": {"firstname", "lastname", "email", "phone", "mobilephone", "company"},
    "calls": {
        "hs_timestamp",
        "hs_call_title",
        "hs_call_body",
        "hs_call_direction",
        "hs_call_duration",
        "hs_call_status",
        "hs_call_disposition",
    },
    "tasks": {"hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_type", "hs_task_priority"},
}
REQUIRED = {"calls": {"hs_timestamp"}, "tasks": {"hs_timestamp"}}
WINDOW_MS, WINDOW_MAX = 10_000, 100
MAX_FILTER_GROUPS = 5


def calculated(properties: dict[str, Any]) -> dict[str, str]:
    """HubSpot's searchable phone properties: the digits of the number without its country code."""
    values = {}
    for source, target in (
        ("phone", "hs_searchable_calculated_phone_number"),
        ("mobilephone", "hs_searchable_calculated_mobile_number"),
    ):
        raw = str(properties.get(source) or "")
        if raw:
            try:
                values[target] = str(phonenumbers.parse(raw, "US").national_number)
            except phonenumbers.NumberParseException:
                values[target] = re.sub(r"\D", "", raw)
    return values


def hs_error(status: int, category: str, message: str) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message, "category": category}, status_code=status)


class FakeHubSpot:
    def __init__(self, token: str) -> None:
        self.token = token
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in OBJECTS}
        self.associations: list[tuple[str, str, str, int]] = []  # (object, id, contact id, type id)
        self.rate_limit_next = 0
        self.requests = 0
        self._ids = itertools.count(501)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/crm/v3/objects/{object}/search", self.search, methods=["POST"]),
                Route("/crm/v3/objects/{object}", self.create, methods=["POST"]),
                Route("/crm/v3/objects/{object}", self.list, methods=["GET"]),
                Route("/crm/v3/objects/{object}/{record_id}", self.update, methods=["PATCH"]),
            ]
        )

    def add_contact(self, first: str, last: str, phone: str, email: str = "", company: str = "") -> str:
        record_id = str(next(self._ids))
        self.records["contacts"][record_id] = {
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "email": email,
            "company": company,
        }
        return record_id

    def _checked(self, request: Request) -> Response | None:
        self.requests += 1
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return hs_error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
        if request.path_params.get("object") not in OBJECTS:
            return hs_error(404, "OBJECT_NOT_FOUND", "Unknown object type")
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            response = JSONResponse(
                {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
                status_code=429,
            )
            response.headers.update(self._limit_headers(remaining=0))
            return response
        return None

    def _limit_headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(WINDOW_MS),
            "X-HubSpot-RateLimit-Max": str(WINDOW_MAX),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
        }

    def _answer(self, body: Any, status: int = 200) -> Response:
        response = JSONResponse(body, status_code=status)
        response.headers.update(self._limit_headers(remaining=WINDOW_MAX - 1))
        return response

    def _object(self, record_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": record_id,
            "properties": {**properties, "hs_object_id": record_id},
            "archived": False,
            "createdAt": "2026-12-04T10:00:00.000Z",
            "updatedAt": "2026-12-04T10:00:00.000Z",
        }

    async def search(self, request: Request) -> Response:
        if (refused := self._checked(request)) is not None:
            return refused
        body = await request.json()
        store = self.records[request.path_params["object"]]

        def matches(properties: dict[str, Any], group: dict[str, Any]) -> bool:
            searchable = {**properties, **calculated(properties)}
            for rule in group.get("filters", []):
                if rule.get("operator") != "EQ":
                    return False
                if str(searchable.get(rule["propertyName"]) or "") != str(rule["value"]):
                    return False
            return True

        if len(body.get("filterGroups", [])) > MAX_FILTER_GROUPS:
            return hs_error(400, "VALIDATION_ERROR", f"at most {MAX_FILTER_GROUPS} filterGroups")

        hits = [
            self._object(record_id, {name: properties.get(name) for name in body.get("properties", [])})
            for record_id, properties in store.items()
            if any(matches(properties, group) for group in body.get("filterGroups", []))
        ][: int(body.get("limit", 10))]
        return self._answer({"total": len(hits), "results": hits})

    async def create(self, request: Request) -> Response:
        if (refused := self._checked(request)) is not None:
            return refused
        kind, body = request.path_params["object"], await request.json()
        properties = body.get("properties", {})
        unknown = set(properties) - KNOWN_PROPERTIES[kind]
        if unknown:
            return hs_error(400, "VALIDATION_ERROR", f"Property values were not valid: {sorted(unknown)}")
        missing = REQUIRED.get(kind, set()) - set(properties)
        if missing:
            return hs_error(400, "VALIDATION_ERROR", f"Missing required properties: {sorted(missing)}")
        for association in body.get("associations", []):
            target = str(association["to"]["id"])
            if target not in self.records["contacts"]:
                return hs_error(400, "VALIDATION_ERROR", "association target not found")
        record_id = str(next(self._ids))
        self.records[kind][record_id] = dict(properties)
        for association in body.get("associations", []):
            type_id = association["types"][0]["associationTypeId"]
            self.associations.append((kind, record_id, str(association["to"]["id"]), type_id))
        return self._answer(self._object(record_id, properties), 201)

    async def list(self, request: Request) -> Response:
        if (refused := self._checked(request)) is not None:
            return refused
        store = self.records[request.path_params["object"]]
        limit = int(request.query_params.get("limit", "10"))
        return self._answer({"results": [self._object(key, value) for key, value in list(store.items())[:limit]]})

    async def update(self, request: Request) -> Response:
        if (refused := self._checked(request)) is not None:
            return refused
        kind, record_id = request.path_params["object"], request.path_params["record_id"]
        if record_id not in self.records[kind]:
            return hs_error(404, "OBJECT_NOT_FOUND", "resource not found")
        properties = (await request.json()).get("properties", {})
        unknown = set(properties) - KNOWN_PROPERTIES[kind]
        if unknown:
            return hs_error(400, "VALIDATION_ERROR", f"Property values were not valid: {sorted(unknown)}")
        self.records[kind][record_id].update(properties)
        return self._answer(self._object(record_id, self.records[kind][record_id]))
