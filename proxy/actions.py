"""``POST /crm/actions/{type}``: CRM writes (call log, contact update, follow-up task), each exactly once.

Every request carries an ``Idempotency-Key`` (the panel derives it from the interaction, the action and
the record, so retries, reloads and second tabs send the same key). The key is claimed in the
idempotency store before the CRM is called (``proxy.idempotent_requests``); see ``proxy.idempotency``
for what a repeat gets.
"""

import json
import logging

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from panel.action_models import ACTION_TYPES, CallLog, ContactUpdate, FollowUpTask

from .crm.base import CrmAdapter, CrmError, CrmRateLimited, CrmRejected, CrmThrottled, CrmTimeout
from .crm_routes import throttled
from .idempotency import IdempotencyRecords
from .idempotent_requests import admit, try_again_later
from .logs import bind_contact_id
from .metrics import ProxyMetrics

log = logging.getLogger("proxy.actions")


class ActionRoutes:
    def __init__(self, crm: CrmAdapter, store: IdempotencyRecords, metrics: ProxyMetrics | None = None) -> None:
        self._crm = crm
        self._store = store
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [Route("/actions/{action_type}", self.perform, methods=["POST"])]

    async def perform(self, request: Request) -> Response:
        action_type = request.path_params["action_type"]
        model = ACTION_TYPES.get(action_type)
        if model is None:
            return JSONResponse({"error": f"unknown action type; known: {sorted(ACTION_TYPES)}"}, status_code=404)
        admitted = await admit(request, self._store, action_type, model)
        if isinstance(admitted, Response):
            if self._metrics is not None and "idempotent-replayed" in admitted.headers:
                self._metrics.replays.labels("crm_action").inc()
            return admitted
        bind_contact_id(_contact_id(admitted.body))
        return await self._carry_out(action_type, admitted.body, admitted.key)

    async def _carry_out(self, action_type: str, action: BaseModel, key: str) -> Response:
        try:
            record_id = await self._dispatch(action, key)
        except CrmRateLimited as error:
            await self._store.release(key)
            return try_again_later("the CRM is rate limiting", error.retry_after_s)
        except CrmThrottled as error:
            await self._store.release(key)
            if self._metrics is not None:
                self._metrics.throttled.labels(self._crm.name).inc()
            return throttled(error)
        except CrmTimeout:
            await self._store.release(key)
            return JSONResponse({"error": "the CRM did not answer in time"}, status_code=504)
        except CrmRejected as error:
            body = json.dumps({"error": f"the CRM refused the {action_type}: {error}"})
            await self._store.finish(key, 422, body)  # permanent: a retry would be refused the same way
            return Response(body, status_code=422, media_type="application/json")
        except CrmError as error:
            await self._store.release(key)
            log.warning(
                "crm action failed",
                extra={"action": action_type, "contact_id": _contact_id(action), "detail": str(error)},
            )
            return JSONResponse({"error": "the CRM is unavailable"}, status_code=502)
        except BaseException:
            await self._store.release(key)
            raise
        log.info("crm action done", extra={"action": action_type, "contact_id": _contact_id(action)})
        body = json.dumps({"action": action_type, "record_id": record_id, "idempotency_key": key})
        await self._store.finish(key, 201, body)
        return Response(body, status_code=201, media_type="application/json")

    async def _dispatch(self, action: BaseModel, key: str) -> str:
        if isinstance(action, CallLog):
            return await self._crm.log_call(action)
        if isinstance(action, ContactUpdate):
            return await self._crm.update_contact(action)
        if isinstance(action, FollowUpTask):
            return await self._crm.create_task(action, external_id=key)
        raise TypeError(f"no CRM call for {type(action).__name__}")


def _contact_id(action: BaseModel) -> str:
    """The CXone ContactID an action belongs to, for the logs."""
    return str(getattr(action, "interaction_id", ""))
