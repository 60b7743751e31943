"""``/healthz``: the process is up. ``/readyz``: it can do its work (the CRM and Redis answer)."""

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

READY_DEADLINE_S = 2.0

Check = Callable[[], Awaitable[object]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class Readiness:
    """Runs every dependency's check at once, each with a deadline; 503 names what is not ready."""

    def __init__(self, checks: dict[str, Check]) -> None:
        self._checks = checks

    async def readyz(self, request: Request) -> JSONResponse:
        names = list(self._checks)
        outcomes = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
        report = dict(zip(names, outcomes, strict=True))
        ready = all(outcome == "ok" for outcome in outcomes)
        return JSONResponse({"ready": ready, "checks": report}, status_code=200 if ready else 503)

    @staticmethod
    async def _run(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), READY_DEADLINE_S)
        except TimeoutError:
            return "timed out"
        except Exception as error:  # any failure means "not ready"; the name says which dependency
            return f"failed: {type(error).__name__}"
        return "ok"
