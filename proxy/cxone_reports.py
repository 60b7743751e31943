"""``POST /cxone/reports/{kind}``: what the panel tells CXone about an interaction, sent with the proxy's credentials.

Two kinds (``panel.report_models``): ``crm_action`` telemetry after a CRM action landed, and
``crm_context`` after a screen pop bound the call to a record. Each becomes custom data on the CXone
contact. Reports carry an Idempotency-Key like CRM actions do, so a retry, a reload or a second tab
reports once; the proxy adds what only it knows (the CRM system, the time it reported).
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from panel.report_models import REPORT_KINDS, CrmActionReport, CrmContextReport

from .cxone import CxoneClient, CxoneError, CxoneRateLimited, CxoneRejected
from .idempotency import IdempotencyRecords
from .idempotent_requests import admit, try_again_later
from .logs import bind_contact_id

log = logging.getLogger("proxy.cxone")


def report_fields(report: CrmActionReport | CrmContextReport, crm_system: str, at: datetime) -> dict[str, str]:
    """The custom data a report becomes: flat keys, so a Studio script can read each one."""
    if isinstance(report, CrmActionReport):
        return {
            "type": "crm_action",
            "action": report.action,
            "crm_id": report.crm_id,
            "crm_system": crm_system,
            "timestamp": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
    return {
        "type": "crm_context",
        "crm_id": report.crm_id,
        "crm_system": crm_system,
        "context_version": str(report.context_version),
    }


class CxoneReportRoutes:
    def __init__(
        self,
        cxone: CxoneClient | None,
        store: IdempotencyRecords,
        crm_system: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._cxone = cxone
        self._store = store
        self._crm_system = crm_system
        self._clock = clock

    def routes(self) -> list[Route]:
        return [Route("/reports/{kind}", self.report, methods=["POST"])]

    async def report(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        model = REPORT_KINDS.get(kind)
        if model is None:
            return JSONResponse({"error": f"unknown report kind; known: {sorted(REPORT_KINDS)}"}, status_code=404)
        admitted = await admit(request, self._store, f"report:{kind}", model)
        if isinstance(admitted, Response):
            return admitted
        report, key = admitted.body, admitted.key
        assert isinstance(report, CrmActionReport | CrmContextReport)
        bind_contact_id(report.interaction_id)
        if self._cxone is None:
            return await self._answer(
                key, {"reported": False, "kind": kind, "reason": "CXone reporting is not configured"}
            )
        fields = report_fields(report, self._crm_system, self._clock())
        try:
            await self._cxone.post_custom_data(report.session_id, report.interaction_id, fields)
        except CxoneRateLimited as error:
            await self._store.release(key)
            return try_again_later("CXone is rate limiting", error.retry_after_s)
        except CxoneRejected as error:
            body = json.dumps({"error": str(error)})
            await self._store.finish(key, 422, body)  # the contact or session is gone: a retry gets the same answer
            log.info("cxone refused a report", extra={"kind": kind, "contact_id": report.interaction_id})
            return Response(body, status_code=422, media_type="application/json")
        except CxoneError as error:
            await self._store.release(key)
            log.warning("cxone report failed", extra={"kind": kind, "detail": str(error)})
            return JSONResponse({"error": "CXone is unavailable"}, status_code=502)
        except BaseException:
            await self._store.release(key)
            raise
        return await self._answer(key, {"reported": True, "kind": kind, "data": fields})

    async def _answer(self, key: str, outcome: dict[str, object]) -> Response:
        body = json.dumps(outcome)
        await self._store.finish(key, 202, body)
        return Response(body, status_code=202, media_type="application/json")
