"""``POST /crm/actions/{type}``: CRM writes (call log, contact update, follow-up task), each exactly once.

Every request carries an ``Idempotency-Key`` (the panel derives it from the interaction, the action and
the record, so retries, reloads and second tabs send the same key). The key is claimed in the
idempotency store before the CRM is called; see ``proxy.idempotency`` for what a repeat gets.
"""

import json
import logging
import math
import re

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from panel.action_models import ACTION_TYPES, CallLog, ContactUpdate, FollowUpTask

from .crm.base import CrmAdapter, CrmError, CrmRateLimited, CrmRejected, CrmTimeout
from .idempotency import Claim, IdempotencyStore, fingerprint

KEY_PATTERN = re.compile(r"^[A-Za-z0-9:._-]{8,255}$")
log = logging.getLogger("proxy.actions")


class ActionRoutes:
    def __init__(self, crm: CrmAdapter, store: IdempotencyStore) -> None:
        self._crm = crm
        self._store = store

    def routes(self) -> list[Route]:
        return [Route("/actions/{action_type}", self.perform, methods=["POST"])]

    async def perform(self, request: Request) -> Response:
        action_type = request.path_params["action_type"]
        model = ACTION_TYPES.get(action_type)
        if model is None:
            return JSONResponse({"error": f"unknown action type; known: {sorted(ACTION_TYPES)}"}, status_code=404)
        key = request.headers.get("idempotency-key", "")
        if not KEY_PATTERN.match(key):
            return JSONResponse(
                {"error": "an Idempotency-Key header of 8-255 letters, digits or :._- is required"}, status_code=400
            )
        try:
            action = model.model_validate_json(await request.body())
        except ValidationError as error:
            problem = error.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in problem["loc"]) or "body"
            return JSONResponse({"error": f"{field}: {problem['msg']}", "field": field}, status_code=422)
        claim = self._store.claim(key, fingerprint(action_type, action.model_dump(mode="json")))
        if claim.claim is Claim.REPLAY:
            return Response(
                claim.body,
                status_code=claim.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        if claim.claim is Claim.MISMATCH:
            return JSONResponse(
                {"error": "this Idempotency-Key was already used with another payload"}, status_code=422
            )
        if claim.claim is Claim.IN_FLIGHT:
            return JSONResponse(
                {"error": "the same action is in flight; try again shortly"},
                status_code=409,
                headers={"Retry-After": "1"},
            )
        return await self._carry_out(action_type, action, key)

    async def _carry_out(self, action_type: str, action: BaseModel, key: str) -> Response:
        try:
            record_id = await self._dispatch(action, key)
        except CrmRateLimited as error:
            self._store.release(key)
            retry_after = str(max(1, math.ceil(error.retry_after_s)))
            return JSONResponse(
                {"error": "the CRM is rate limiting"}, status_code=429, headers={"Retry-After": retry_after}
            )
        except CrmTimeout:
            self._store.release(key)
            return JSONResponse({"error": "the CRM did not answer in time"}, status_code=504)
        except CrmRejected as error:
            body = json.dumps({"error": f"the CRM refused the {action_type}: {error}"})
            self._store.finish(key, 422, body)  # permanent: a retry would be refused the same way
            return Response(body, status_code=422, media_type="application/json")
        except CrmError as error:
            self._store.release(key)
            log.warning("crm action failed", extra={"action": action_type, "detail": str(error)})
            return JSONResponse({"error": "the CRM is unavailable"}, status_code=502)
        except BaseException:
            self._store.release(key)
            raise
        body = json.dumps({"action": action_type, "record_id": record_id, "idempotency_key": key})
        self._store.finish(key, 201, body)
        return Response(body, status_code=201, media_type="application/json")

    async def _dispatch(self, action: BaseModel, key: str) -> str:
        if isinstance(action, CallLog):
            return await self._crm.log_call(action)
        if isinstance(action, ContactUpdate):
            return await self._crm.update_contact(action)
        if isinstance(action, FollowUpTask):
            return await self._crm.create_task(action, external_id=key)
        raise TypeError(f"no CRM call for {type(action).__name__}")
