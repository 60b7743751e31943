"""The demo CRM: a small separate HTTP service with its own SQLite file and seeded contacts.

The proxy reaches it over real HTTP, like any external CRM, so timeouts and errors travel the
real path. ``PUT /admin/behaviour`` makes it slow or failing, so the timeout path can be watched.
Run it with ``python -m proxy.demo.crm_service --port N --db FILE`` (token in DEMO_CRM_TOKEN).
"""

import argparse
import asyncio
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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

    def model_post_init(self, context: object) -> None:
        if self.fail_status and not 400 <= self.fail_status <= 599:
            raise ValueError("fail_status must be 0 or an HTTP error status (400-599)")


@dataclass
class BehaviourBox:
    current: Behaviour
    contact_searches: int = 0  # how often the CRM was asked: tests count CRM calls with it


def seed_database(path: Path) -> None:
    """Recreate the SQLite file with the seeded contacts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE contacts ({', '.join(c + ' TEXT NOT NULL' for c in COLUMNS)}, PRIMARY KEY (id))")
        db.execute("CREATE INDEX contacts_phone ON contacts (phone_e164)")
        rows = [tuple(contact[c] for c in COLUMNS) for contact in json.loads(SEED_FILE.read_text())]
        db.executemany(f"INSERT INTO contacts VALUES ({', '.join('?' for _ in COLUMNS)})", rows)


class NewRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    company: str = Field(default="", max_length=120)
    phone_e164: str = Field(pattern=r"^\+[1-9][0-9]{4,14}$")
    email: str = Field(default="", max_length=254)


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

    async def contacts(request: Request) -> Response:
        behaviour.contact_searches += 1
        current = behaviour.current
        if current.delay_ms:
            await asyncio.sleep(current.delay_ms / 1000)  # the simulated slowness itself
        if current.fail_status:
            return JSONResponse({"detail": "simulated failure"}, status_code=current.fail_status)
        return JSONResponse({"results": query(request.query_params.get("phone"))})

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
        return JSONResponse(behaviour.current.model_dump())

    async def stats(request: Request) -> Response:
        return JSONResponse({"contact_searches": behaviour.contact_searches})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        seed_database(db_path)
        yield

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/contacts", contacts, methods=["GET"]),
            Route("/api/contacts", create_contact, methods=["POST"]),
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
