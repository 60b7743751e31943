"""Admitting a write that carries an ``Idempotency-Key``: the checks every such route makes first.

A request is validated (400 without a usable key, 422 naming the bad field), then its key is
claimed in the idempotency store. Only a new claim is admitted; a repeat gets the stored answer
(replayed), a reused key with another payload 422, a duplicate in flight 409 with Retry-After.
"""

import math
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .idempotency import Claim, IdempotencyRecords, fingerprint

KEY_PATTERN = re.compile(r"^[A-Za-z0-9:._-]{8,255}$")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Admitted(Generic[M]):
    """A validated body whose key this request now owns: finish() or release() it in the store."""

    body: M
    key: str


async def admit(request: Request, store: IdempotencyRecords, kind: str, model: type[M]) -> Admitted[M] | Response:
    """The validated body and its claimed key, or the response that ends the request here."""
    key = request.headers.get("idempotency-key", "")
    if not KEY_PATTERN.match(key):
        return JSONResponse(
            {"error": "an Idempotency-Key header of 8-255 letters, digits or :._- is required"}, status_code=400
        )
    try:
        body = model.model_validate_json(await request.body())
    except ValidationError as error:
        problem = error.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        return JSONResponse({"error": f"{field}: {problem['msg']}", "field": field}, status_code=422)
    claim = await store.claim(key, fingerprint(kind, body.model_dump(mode="json")))
    if claim.claim is Claim.REPLAY:
        return Response(
            claim.body, status_code=claim.status, media_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    if claim.claim is Claim.MISMATCH:
        return JSONResponse({"error": "this Idempotency-Key was already used with another payload"}, status_code=422)
    if claim.claim is Claim.IN_FLIGHT:
        return JSONResponse(
            {"error": "the same request is in flight; try again shortly"}, status_code=409, headers={"Retry-After": "1"}
        )
    return Admitted(body, key)


def try_again_later(message: str, retry_after_s: float, status_code: int = 429) -> Response:
    """429 (or 503) with a whole-second ``Retry-After`` (at least 1), passing on an upstream's limit."""
    return JSONResponse(
        {"error": message}, status_code=status_code, headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))}
    )
