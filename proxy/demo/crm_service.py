"""The demo CRM: a small separate HTTP service with its own SQLite file and seeded contacts.

The proxy reaches it over real HTTP, like any external CRM, so timeouts and errors travel the
real path. ``PUT /admin/behaviour`` makes it slow or failing, so the timeout path can be watched.
Run it with ``python -m proxy.demo.crm_service --port N --db FILE`` (token in DEMO_CRM_TOKEN).
"""

import argparse
import asyncio
import contextvars
import json
import os
import random
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

SEED_FILE = Path(__file__).with_name("contacts.json")
COLUMNS = ("id", "first_name", "last_name", "company", "phone_e164", "email")
MAX_RESULTS = 50


class Behaviour(BaseModel):
    """How the demo CRM misbehaves: a delay before answering, and/or an HTTP status to fail with."""

    model_config = ConfigDict(extra="forbid")

    delay_ms: int = Field(default=0, ge=0, le=30_000)
    fail_status: int = Field(default=0, description="0 = answer normally; otherwise 4xx/5xx")
    fail_times: int = Field(default=0, ge=0, le=1000, description="fail only the next N requests (0 = every one)")
    retry_after_s: int = Field(default=1, ge=0, le=3600, description="Retry-After sent with a 429")
    chaos_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share of requests that go wrong at random")
    chaos_delay_ms: int = Field(default=0, ge=0, le=30_000, description="how late a slow chaos request answers")
    chaos_seed: int = 0

    def model_post_init(self, context: object) -> None:
        if self.fail_status and not 400 <= self.fail_status <= 599:
            raise ValueError("fail_status must be 0 or an HTTP error status (400-599)")


@dataclass
class BehaviourBox:
    current: Behaviour
    contact_searches: int = 0  # how often the CRM was asked: tests count CRM calls with it
    failures_left: int = 0
    chaos: random.Random = field(default_factory=random.Random)
    chaos_counts: dict[str, int] = field(default_factory=dict)
    guard_hits: int = 0  # second writes the external id turned into an update or a no-op

    def chaos_pick(self) -> str:
        """Which fault (if any) this request suffers: "", "429", "500", "503" or "slow"."""
        if self.current.chaos_rate <= 0 or self.chaos.random() >= self.current.chaos_rate:
            return ""
        fault = self.chaos.choice(["429", "500", "503", "slow"])
        self.chaos_counts[fault] = self.chaos_counts.get(fault, 0) + 1
        return fault

    def misbehaviour(self) -> Response | None:
        """The failure to answer with now, if the CRM is told to fail."""
        current = self.current
        if not current.fail_status or (current.fail_times and self.failures_left <= 0):
            return None
        self.failures_left -= 1
        headers = {"Retry-After": str(current.retry_after_s)} if current.fail_status == 429 else {}
        return JSONResponse({"detail": "simulated failure"}, status_code=current.fail_status, headers=headers)


def seed_database(path: Path) -> None:
    """Recreate the SQLite file with the seeded contacts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE contacts ({', '.join(c + ' TEXT NOT NULL' for c in COLUMNS)}, PRIMARY KEY (id))")
        db.execute("CREATE INDEX contacts_phone ON contacts (phone_e164)")
        db.execute(
            "CREATE TABLE call_logs (id TEXT PRIMARY KEY, external_id TEXT NOT NULL UNIQUE, contact_id TEXT NOT NULL, "
            "subject TEXT NOT NULL, notes TEXT NOT NULL, disposition TEXT NOT NULL, direction TEXT NOT NULL, "
            "duration_seconds INTEGER NOT NULL, revisions INTEGER NOT NULL)"
        )
        db.execute(
            "CREATE TABLE tasks (id TEXT PRIMARY KEY, external_id TEXT NOT NULL UNIQUE, contact_id TEXT NOT NULL, "
            "title TEXT NOT NULL, due_date TEXT NOT NULL, notes TEXT NOT NULL)"
        )
        rows = [tuple(contact[c] for c in COLUMNS) for contact in json.loads(SEED_FILE.read_text())]
        db.executemany(f"INSERT INTO contacts VALUES ({', '.join('?' for _ in COLUMNS)})", rows)


class NewRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    company: str = Field(default="", max_length=120)
    phone_e164: str = Field(pattern=r"^\+[1-9][0-9]{4,14}$")
    email: str = Field(default="", max_length=254)


class CallLogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=255)
    contact_id: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=255)
    notes: str = Field(default="", max_length=20_000)
    disposition: str = Field(default="", max_length=80)
    direction: str = Field(pattern=r"^(inbound|outbound)$")
    duration_seconds: int = Field(ge=0)


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=255)
    contact_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=255)
    due_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    notes: str = Field(default="", max_length=20_000)


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, min_length=1, max_length=80)
    last_name: str | None = Field(default=None, min_length=1, max_length=80)
    email: str | None = Field(default=None, max_length=254)
    company: str | None = Field(default=None, max_length=120)


class RequireToken:
    """Bearer-token check; like BottleCRM, a bad credential gets 403."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            supplied = dict(scope["headers"]).get(b"authorization", b"")
            if not secrets.compare_digest(supplied, self.expected):
                await JSONResponse({"detail": "invalid token"}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_crm_app(db_path: Path, token: str) -> Starlette:
    behaviour = BehaviourBox(Behaviour())
    request_is_slow: contextvars.ContextVar[bool] = contextvars.ContextVar("request_is_slow", default=False)

    def query(phone: str | None) -> list[dict[str, str]]:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            if phone:
                rows = db.execute(
                    "SELECT * FROM contacts WHERE phone_e164 = ? ORDER BY id LIMIT ?", (phone, MAX_RESULTS)
                )
            else:
                rows = db.execute("SELECT * FROM contacts ORDER BY id LIMIT ?", (MAX_RESULTS,))
            return [dict(row) for row in rows]

    async def misbehave() -> Response | None:
        """A failure to answer with instead of doing the work, if the CRM is told to fail."""
        if behaviour.current.delay_ms:
            await asyncio.sleep(behaviour.current.delay_ms / 1000)  # the simulated slowness itself
        fault = behaviour.chaos_pick()
        if fault == "slow":
            request_is_slow.set(True)
        elif fault:
            headers = {"Retry-After": "0"} if fault == "429" else {}
            return JSONResponse({"detail": f"chaos {fault}"}, status_code=int(fault), headers=headers)
        return behaviour.misbehaviour()

    async def answer(response: Response) -> Response:
        """A "slow" request has done its work; it answers so late that the caller may have given up,
        which is how a retried write meets a record that already exists."""
        if request_is_slow.get():
            request_is_slow.set(False)
            await asyncio.sleep(behaviour.current.chaos_delay_ms / 1000)
        return response

    async def contacts(request: Request) -> Response:
        behaviour.contact_searches += 1
        return await misbehave() or await answer(JSONResponse({"results": query(request.query_params.get("phone"))}))

    async def log_call(request: Request) -> Response:
        """Upsert by external id: a second log for the same call updates the first."""
        failure = await misbehave()
        if failure is not None:
            return failure
        try:
            log = CallLogIn.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"detail": error.errors(include_url=False, include_input=False)}, status_code=400)
        with sqlite3.connect(db_path) as db:
            if db.execute("SELECT 1 FROM contacts WHERE id = ?", (log.contact_id,)).fetchone() is None:
                return JSONResponse({"detail": "unknown contact"}, status_code=404)
            existing = db.execute("SELECT id FROM call_logs WHERE external_id = ?", (log.external_id,)).fetchone()
            fields = (log.contact_id, log.subject, log.notes, log.disposition, log.direction, log.duration_seconds)
            if existing is not None:
                behaviour.guard_hits += 1
                db.execute(
                    "UPDATE call_logs SET contact_id = ?, subject = ?, notes = ?, disposition = ?, direction = ?, "
                    "duration_seconds = ?, revisions = revisions + 1 WHERE id = ?",
                    (*fields, existing[0]),
                )
                response = JSONResponse({"id": existing[0], "updated": True}, status_code=200)
            else:
                record_id = f"L-{uuid.uuid4().hex[:10]}"
                db.execute(
                    "INSERT INTO call_logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)", (record_id, log.external_id, *fields)
                )
                response = JSONResponse({"id": record_id, "updated": False}, status_code=201)
        return await answer(response)  # committed first: a late answer never holds the database

    async def create_task(request: Request) -> Response:
        failure = await misbehave()
        if failure is not None:
            return failure
        try:
            task = TaskIn.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"detail": error.errors(include_url=False, include_input=False)}, status_code=400)
        with sqlite3.connect(db_path) as db:
            existing = db.execute("SELECT id FROM tasks WHERE external_id = ?", (task.external_id,)).fetchone()
            if existing is not None:  # the external id guard: the same task twice is one task
                behaviour.guard_hits += 1
                response = JSONResponse({"id": existing[0], "duplicate": True}, status_code=200)
            else:
                record_id = f"T-{uuid.uuid4().hex[:10]}"
                db.execute(
                    "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)",
                    (record_id, task.external_id, task.contact_id, task.title, task.due_date, task.notes),
                )
                response = JSONResponse({"id": record_id, "duplicate": False}, status_code=201)
        return await answer(response)

    async def update_contact(request: Request) -> Response:
        failure = await misbehave()
        if failure is not None:
            return failure
        try:
            patch = ContactPatch.model_validate_json(await request.body()).model_dump(exclude_none=True)
        except ValidationError as error:
            return JSONResponse({"detail": error.errors(include_url=False, include_input=False)}, status_code=400)
        contact_id = request.path_params["contact_id"]
        with sqlite3.connect(db_path) as db:
            if patch:
                assignments = ", ".join(f"{column} = ?" for column in patch)  # columns from the model only
                db.execute(f"UPDATE contacts SET {assignments} WHERE id = ?", (*patch.values(), contact_id))
            known = db.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is not None
        if not known:
            return JSONResponse({"detail": "unknown contact"}, status_code=404)
        return await answer(JSONResponse({"id": contact_id}, status_code=200))

    async def records(request: Request) -> Response:
        """Every call log and task, for tests that count what landed."""
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            logs = [dict(row) for row in db.execute("SELECT * FROM call_logs ORDER BY id")]
            tasks = [dict(row) for row in db.execute("SELECT * FROM tasks ORDER BY id")]
        return JSONResponse({"call_logs": logs, "tasks": tasks})

    async def create_contact(request: Request) -> Response:
        try:
            record = NewRecord.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"detail": error.errors(include_url=False, include_input=False)}, status_code=400)
        row = {"id": f"c-{uuid.uuid4().hex[:10]}", **record.model_dump()}
        with sqlite3.connect(db_path) as db:
            db.execute(
                f"INSERT INTO contacts VALUES ({', '.join('?' for _ in COLUMNS)})", tuple(row[c] for c in COLUMNS)
            )
        return JSONResponse(row, status_code=201)

    async def get_behaviour(request: Request) -> Response:
        return JSONResponse(behaviour.current.model_dump())

    async def put_behaviour(request: Request) -> Response:
        try:
            behaviour.current = Behaviour.model_validate_json(await request.body())
        except (ValidationError, ValueError) as error:
            return JSONResponse({"detail": str(error)}, status_code=422)
        behaviour.failures_left = behaviour.current.fail_times
        behaviour.chaos = random.Random(behaviour.current.chaos_seed)
        return JSONResponse(behaviour.current.model_dump())

    async def stats(request: Request) -> Response:
        return JSONResponse(
            {
                "contact_searches": behaviour.contact_searches,
                "chaos": behaviour.chaos_counts,
                "guard_hits": behaviour.guard_hits,
            }
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not db_path.exists():  # a restart keeps what was written; delete the file to start afresh
            seed_database(db_path)
        yield

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/contacts", contacts, methods=["GET"]),
            Route("/api/contacts", create_contact, methods=["POST"]),
            Route("/api/contacts/{contact_id}", update_contact, methods=["PATCH"]),
            Route("/api/call-logs", log_call, methods=["POST"]),
            Route("/api/tasks", create_task, methods=["POST"]),
            Route("/admin/records", records, methods=["GET"]),
            Route("/admin/behaviour", get_behaviour, methods=["GET"]),
            Route("/admin/behaviour", put_behaviour, methods=["PUT"]),
            Route("/admin/stats", stats, methods=["GET"]),
        ],
        middleware=[Middleware(RequireToken, token=token)],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The demo CRM service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args(argv)
    token = os.environ.get("DEMO_CRM_TOKEN", "")
    if len(token) < 16:
        raise SystemExit("DEMO_CRM_TOKEN must be set (at least 16 characters)")
    uvicorn.run(create_crm_app(args.db, token), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
