"""``/crm/drafts/{contact_id}``: the agent's unsent notes per interaction, kept by the proxy.

A cross-site frame gets no sessionStorage, localStorage or IndexedDB from Chromium, so notes that
must survive a panel reload live here, keyed by the signed-in agent and the ContactID, bounded in
count and age. Only the agent who wrote a draft can read it.
"""

import re
import time
from collections.abc import Callable

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


class DraftStore:
    def __init__(self, max_drafts: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._drafts: TTLCache[tuple[str, str], str] = TTLCache(max_drafts, ttl_s, timer=clock)

    def routes(self) -> list[Route]:
        return [
            Route("/drafts", self.list_drafts, methods=["GET"]),
            Route("/drafts/{contact_id}", self.endpoint, methods=["GET", "PUT"]),
        ]

    async def list_drafts(self, request: Request) -> Response:
        """Every draft of the signed-in agent: a (re)loading panel reads them before it handles any event."""
        agent_id = request.state.agent.agent_id
        self._drafts.expire()  # drop stale drafts first, so none expires while they are read
        drafts = {contact_id: notes for (owner, contact_id), notes in list(self._drafts.items()) if owner == agent_id}
        return JSONResponse({"drafts": drafts})

    async def endpoint(self, request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        if re.fullmatch(CONTACT_ID_PATTERN, contact_id) is None:
            return JSONResponse({"error": "contact id must be 1-64 letters, digits, '-' or '_'"}, status_code=422)
        key = (request.state.agent.agent_id, contact_id)
        if request.method == "GET":
            return JSONResponse({"notes": self._drafts.get(key, "")})  # no draft reads as empty notes
        try:
            draft = Draft.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_input=False)}, status_code=422)
        if draft.notes:
            self._drafts[key] = draft.notes
        else:
            self._drafts.pop(key, None)
        return Response(status_code=204)
