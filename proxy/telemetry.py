"""``POST /telemetry``: failures the panel reports (a screen pop that timed out), logged as JSON."""

import logging

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_BODY_BYTES = 4096
log = logging.getLogger("proxy.telemetry")

Scalar = str | int | float | bool | None


class TelemetryRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    fields: dict[str, Scalar] = Field(default_factory=dict, max_length=20)


async def receive_telemetry(request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"at most {MAX_BODY_BYTES} bytes"}, status_code=413)
    try:
        record = TelemetryRecord.model_validate_json(body)
    except ValidationError as error:
        return JSONResponse({"error": error.errors(include_url=False, include_input=False)}, status_code=422)
    agent = request.state.agent
    log.info("panel telemetry %s", record.name, extra={"telemetry": {"agent": agent.agent_id, **record.model_dump()}})
    return Response(status_code=204)
