"""A local Salesforce that follows the REST API's documented shapes: just enough for the adapter suite.

OAuth token endpoint (client credentials, JWT bearer with an RS256 assertion), parameterizedSearch,
sObject create/update for Contact and Task, a SOQL query on Task by CallObject, limits. Error bodies
are Salesforce's (``[{"message", "errorCode"}]``), every API answer carries ``Sforce-Limit-Info``.
"""

import itertools
import re
import secrets
from typing import Any
from urllib.parse import parse_qs

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

INSTANCE_URL = "https://fake.my.salesforce.com"
API = "/services/data/{version}"
SOQL_TASK = re.compile(r"^SELECT Id FROM Task WHERE CallObject = '([^']*)' AND WhoId = '([^']*)' LIMIT 1$")
CONTACT_FIELDS = {"FirstName", "LastName", "Phone", "MobilePhone", "Email", "Title"}
TASK_FIELDS = {
    "Subject",
    "WhoId",
    "TaskSubtype",
    "Status",
    "ActivityDate",
    "CallType",
    "CallDurationInSeconds",
    "CallObject",
    "CallDisposition",
    "Description",
    "Priority",
}


def sf_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse([{"message": message, "errorCode": code, "fields": []}], status_code=status)


class FakeSalesforce:
    def __init__(self, client_id: str, client_secret: str, jwt_public_key: str = "", jwt_username: str = "") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.jwt_public_key, self.jwt_username = jwt_public_key, jwt_username
        self.tokens: set[str] = set()
        self.mints = 0
        self.api_calls = 0
        self.api_limit = 5000
        self.daily_limit_exceeded = False
        self.contacts: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def app(self) -> Starlette:
        api = API.replace("{version}", "{version:str}")
        return Starlette(
            routes=[
                Route("/services/oauth2/token", self.token, methods=["POST"]),
                Route(f"{api}/parameterizedSearch/", self.search, methods=["POST"]),
                Route(f"{api}/sobjects/{{sobject}}/", self.create, methods=["POST"]),
                Route(f"{api}/sobjects/{{sobject}}/{{record_id}}", self.update, methods=["PATCH"]),
                Route(f"{api}/query/", self.query, methods=["GET"]),
                Route(f"{api}/limits/", self.limits, methods=["GET"]),
            ]
        )

    def add_contact(self, first: str, last: str, phone: str, email: str = "", account: str = "") -> str:
        record_id = f"003{next(self._ids):015d}"
        self.contacts[record_id] = {
            "FirstName": first,
            "LastName": last,
            "Phone": phone,
            "MobilePhone": None,
            "Email": email,
            "Account": {"Name": account} if account else None,
        }
        return record_id

    def expire_sessions(self) -> None:
        self.tokens.clear()

    async def token(self, request: Request) -> Response:
        form = {name: values[0] for name, values in parse_qs((await request.body()).decode()).items()}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return JSONResponse({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(
                    form.get("assertion", ""),
                    self.jwt_public_key,
                    algorithms=["RS256"],
                    audience=INSTANCE_URL,
                    options={"require": ["iss", "sub", "aud", "exp"]},
                )
            except jwt.PyJWTError:
                return JSONResponse({"error": "invalid_grant", "error_description": "invalid assertion"}, 400)
            if claims["iss"] != self.client_id or claims["sub"] != self.jwt_username:
                return JSONResponse({"error": "invalid_grant", "error_description": "user hasn't approved"}, 400)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        token = "00D!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.mints += 1
        return JSONResponse(
            {"access_token": token, "instance_url": INSTANCE_URL, "token_type": "Bearer", "issued_at": "1796400000000"}
        )

    def _authorised(self, request: Request) -> Response | None:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.daily_limit_exceeded:
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.api_calls += 1
        return None

    def _answer(self, body: Any, status: int = 200) -> Response:
        response = JSONResponse(body, status_code=status) if body is not None else Response(status_code=status)
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{self.api_limit}"
        return response

    async def search(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        body = await request.json()
        if body.get("in") != "PHONE" or not any(s.get("name") == "Contact" for s in body.get("sobjects", [])):
            return sf_error(400, "INVALID_SEARCH", "search on PHONE fields of Contact only in this fake")
        query = str(body["q"])
        if re.search(r"[+\-]", query):
            return sf_error(400, "INVALID_SEARCH", "reserved characters in the search term")
        hits = [
            {
                "attributes": {"type": "Contact", "url": f"{API}/sobjects/Contact/{record_id}"},
                "Id": record_id,
                "Name": f"{record['FirstName']} {record['LastName']}",
                **record,
            }
            for record_id, record in self.contacts.items()
            if any(query in re.sub(r"\D", "", record.get(field) or "") for field in ("Phone", "MobilePhone"))
        ]
        return self._answer({"searchRecords": hits[: int(body.get("overallLimit", 2000))]})

    async def create(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        sobject, fields = request.path_params["sobject"], await request.json()
        allowed = CONTACT_FIELDS if sobject == "Contact" else TASK_FIELDS if sobject == "Task" else set()
        unknown = set(fields) - allowed
        if unknown:
            return sf_error(400, "INVALID_FIELD", f"No such column '{sorted(unknown)[0]}' on sobject of type {sobject}")
        if sobject == "Contact" and not fields.get("LastName"):
            return sf_error(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]")
        if sobject == "Task" and fields.get("WhoId") not in self.contacts:
            return sf_error(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        prefix, store = ("003", self.contacts) if sobject == "Contact" else ("00T", self.tasks)
        record_id = f"{prefix}{next(self._ids):015d}"
        store[record_id] = {"Account": None, **fields} if sobject == "Contact" else dict(fields)
        return self._answer({"id": record_id, "success": True, "errors": []}, 201)

    async def update(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        sobject, record_id, fields = (
            request.path_params["sobject"],
            request.path_params["record_id"],
            await request.json(),
        )
        store, allowed = (self.contacts, CONTACT_FIELDS) if sobject == "Contact" else (self.tasks, TASK_FIELDS)
        if record_id not in store:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        unknown = set(fields) - allowed
        if unknown:
            return sf_error(400, "INVALID_FIELD", f"No such column '{sorted(unknown)[0]}' on sobject of type {sobject}")
        store[record_id].update(fields)
        return self._answer(None, 204)

    async def query(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        match = SOQL_TASK.match(request.query_params.get("q", ""))
        if match is None:
            return sf_error(400, "MALFORMED_QUERY", "this fake knows one query")
        call_object, who_id = match.groups()
        records = [
            {"attributes": {"type": "Task"}, "Id": task_id}
            for task_id, task in self.tasks.items()
            if task.get("CallObject") == call_object and task.get("WhoId") == who_id
        ][:1]
        return self._answer({"totalSize": len(records), "done": True, "records": records})

    async def limits(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        return self._answer({"DailyApiRequests": {"Max": self.api_limit, "Remaining": self.api_limit - self.api_calls}})
