"""``/crm/drafts/{contact_id}``: the agent's unsent notes per interaction, kept by the proxy.

A cross-site frame gets no sessionStorage, localStorage or IndexedDB from Chromium, so notes that
must survive a panel reload live here, keyed by the signed-in agent and the ContactID, bounded in
count and age. Only the agent who wrote a draft can read it.
"""

import re
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_NOTES_CHARS = 20_000
CONTACT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str = Field(max_length=MAX_NOTES_CHARS)


class DraftLimitReached(Exception):
    """The agent already keeps as many drafts as the store allows."""


class DraftStorage(Protocol):
    """Where drafts live: this process (one instance) or Redis (several replicas)."""

    async def list(self, agent_id: str) -> dict[str, str]: ...

    async def get(self, agent_id: str, contact_id: str) -> str: ...

    async def put(self, agent_id: str, contact_id: str, notes: str) -> None:
        """Keep ``notes``; empty notes delete the draft."""
        ...


class MemoryDrafts:
    def __init__(self, max_drafts: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._drafts: TTLCache[tuple[str, str], str] = TTLCache(max_drafts, ttl_s, timer=clock)

    async def list(self, agent_id: str) -> dict[str, str]:
        self._drafts.expire()  # drop stale drafts first, so none expires while they are read
        return {contact: notes for (owner, contact), notes in list(self._drafts.items()) if owner == agent_id}

    async def get(self, agent_id: str, contact_id: str) -> str:
        return self._drafts.get((agent_id, contact_id), "")

    async def put(self, agent_id: str, contact_id: str, notes: str) -> None:
        if notes:
            self._drafts[(agent_id, contact_id)] = notes
        else:
            self._drafts.pop((agent_id, contact_id), None)


class DraftRoutes:
    def __init__(self, storage: DraftStorage) -> None:
        self._storage = storage

    def routes(self) -> list[Route]:
        return [
            Route("/drafts", self.list_drafts, methods=["GET"]),
            Route("/drafts/{contact_id}", self.endpoint, methods=["GET", "PUT"]),
        ]

    async def list_drafts(self, request: Request) -> Response:
        """Every draft of the signed-in agent: a (re)loading panel reads them before it handles any event."""
        return JSONResponse({"drafts": await self._storage.list(request.state.agent.agent_id)})

    async def endpoint(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        if re.fullmatch(CONTACT_ID_PATTERN, contact_id) is None:
            return JSONResponse({"error": "contact id must be 1-64 letters, digits, '-' or '_'"}, status_code=422)
        agent_id = request.state.agent.agent_id
        if request.method == "GET":  # no draft reads as empty notes
            return JSONResponse({"notes": await self._storage.get(agent_id, contact_id)})
        try:
            draft = Draft.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_input=False)}, status_code=422)
        try:
            await self._storage.put(agent_id, contact_id, draft.notes)
        except DraftLimitReached as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        return Response(status_code=204)
