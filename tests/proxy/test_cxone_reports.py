"""Reports to CXone: the token cache, the custom-data client, and ``POST /cxone/reports/{kind}``.

CXone's side is the demo's simulated API (the same one ``make demo`` uses), reached over an ASGI
transport; failures CXone can give are injected with a wrapping transport.
"""

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from proxy.cxone import CxoneAccessKeyMinter, CxoneClient, CxoneError, custom_data
from proxy.cxone_reports import CxoneReportRoutes
from proxy.demo.cxone_api import SimulatedCxoneApi
from proxy.idempotency import IdempotencyStore
from proxy.tokens import IssuedToken, TokenCache

CONTEXT = {"interaction_id": "712345", "session_id": "4242", "crm_id": "c-1", "context_version": 1}
ACTION = {
    "interaction_id": "712345",
    "session_id": "4242",
    "action": "call_log",
    "crm_id": "c-1",
    "action_key": "712345:call_log:c-1:abcdef",
}
NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response | None]


class Cxone:
    """The simulated CXone API, and a way to make it answer something else for a while."""

    def __init__(self) -> None:
        self.api = SimulatedCxoneApi("panel-app", "app-secret", "key-id", "key-secret")
        self.inner = httpx.ASGITransport(app=Starlette(routes=self.api.routes()))
        self.override: Handler | None = None
        self.calls = 0

    def transport(self) -> httpx.AsyncBaseTransport:
        outer = self

        class Wrapped(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                if "/custom-data" in request.url.path:
                    outer.calls += 1
                if outer.override is not None:
                    answer = outer.override(request)
                    if answer is not None:
                        return answer
                return await outer.inner.handle_async_request(request)

        return Wrapped()

    def client(self) -> CxoneClient:
        http = httpx.AsyncClient(transport=self.transport(), base_url="https://cxone.test")
        minter = CxoneAccessKeyMinter(
            http, "https://cxone.test/auth/token", "panel-app", "app-secret", "key-id", "key-secret"
        )
        return CxoneClient(http, "https://api-c99.cxone.test", TokenCache(minter), "CRM context")

    def records(self) -> list[dict[str, object]]:
        return list(self.api._records)


@pytest.fixture
def cxone() -> Cxone:
    return Cxone()


def reports_app(client: CxoneClient | None, store: IdempotencyStore) -> TestClient:
    routes = CxoneReportRoutes(client, store, "salesforce", clock=lambda: NOW).routes()
    return TestClient(Starlette(routes=[Mount("/cxone", routes=routes)]))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IdempotencyStore]:
    opened = IdempotencyStore(tmp_path / "idempotency.sqlite3")
    yield opened
    asyncio.run(opened.close())


def post(app: TestClient, kind: str, body: object, key: str = "712345:crm_context:c-1:0001") -> httpx.Response:
    return app.post(f"/cxone/reports/{kind}", json=body, headers={"Idempotency-Key": key})


# ----- the token cache -----


def test_tokens_are_minted_once_shared_and_refreshed_before_they_expire() -> None:
    now = [0.0]
    minted: list[str] = []

    async def mint() -> IssuedToken:
        await asyncio.sleep(0)  # let the other callers pile up behind this one
        minted.append(f"t{len(minted) + 1}")
        return IssuedToken(minted[-1], lifetime_s=3600)

    cache = TokenCache(mint, refresh_margin_s=600, clock=lambda: now[0])

    async def burst() -> set[str]:
        return set(await asyncio.gather(*(cache.token() for _ in range(20))))

    assert asyncio.run(burst()) == {"t1"} and minted == ["t1"]  # single-flight: one mint for twenty callers
    now[0] = 2999.0
    assert asyncio.run(cache.token()) == "t1"
    now[0] = 3001.0  # inside the last 600 s of the hour: refreshed early
    assert asyncio.run(cache.token()) == "t2"
    cache.invalidate("t1")  # a stale refusal does not throw away the newer token
    assert asyncio.run(cache.token()) == "t2"
    cache.invalidate("t2")
    assert asyncio.run(cache.token()) == "t3" and cache.mints == 3


def test_custom_data_blanks_separators_inside_values() -> None:
    assert custom_data({"type": "crm_context", "note": "a|b=c\nd"}) == "type=crm_context|note=a b c d"


# ----- the client against the simulated CXone API -----


def test_the_client_signs_in_with_the_access_key_and_attaches_custom_data(cxone: Cxone) -> None:
    client = cxone.client()

    async def twice() -> None:
        await client.post_custom_data("4242", "712345", {"type": "crm_context", "crm_id": "c-1"})
        await client.post_custom_data("4242", "712345", {"type": "crm_action", "action": "task"})

    asyncio.run(twice())
    first, second = cxone.records()
    assert (first["session_id"], first["contact_id"], first["indicator_name"]) == ("4242", "712345", "CRM context")
    assert first["data"] == "type=crm_context|crm_id=c-1" and second["fields"] == {
        "type": "crm_action",
        "action": "task",
    }
    assert cxone.api.tokens_issued == 1


def test_an_expired_token_is_reminted_once_and_the_call_retried(cxone: Cxone) -> None:
    client = cxone.client()
    asyncio.run(client.post_custom_data("4242", "1", {"a": "1"}))
    cxone.api.expire_tokens()
    asyncio.run(client.post_custom_data("4242", "2", {"a": "2"}))
    assert [record["contact_id"] for record in cxone.records()] == ["1", "2"] and cxone.api.tokens_issued == 2


def test_a_401_after_a_fresh_token_stops_instead_of_looping(cxone: Cxone) -> None:
    cxone.override = lambda request: httpx.Response(401) if "/custom-data" in request.url.path else None
    with pytest.raises(CxoneError, match="freshly minted"):
        asyncio.run(cxone.client().post_custom_data("4242", "1", {"a": "1"}))
    assert cxone.calls == 2 and cxone.api.tokens_issued == 2


def test_wrong_credentials_are_an_error_not_a_token(cxone: Cxone) -> None:
    http = httpx.AsyncClient(transport=cxone.transport())
    minter = CxoneAccessKeyMinter(http, "https://cxone.test/auth/token", "panel-app", "app-secret", "key-id", "wrong")
    with pytest.raises(CxoneError, match="refused the credentials: 401"):
        asyncio.run(minter())


# ----- the route -----


def test_a_report_reaches_cxone_once_however_often_it_is_sent(cxone: Cxone, store: IdempotencyStore) -> None:
    app = reports_app(cxone.client(), store)
    answers = [post(app, "crm_context", CONTEXT) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert answers[1].headers["idempotent-replayed"] == "true"
    (record,) = cxone.records()
    assert record["fields"] == {
        "type": "crm_context",
        "crm_id": "c-1",
        "crm_system": "salesforce",
        "context_version": "1",
    }
    action = post(app, "crm_action", ACTION, key="712345:crm_action:c-1:0002")
    assert action.status_code == 202
    assert cxone.records()[-1]["fields"] == {
        "type": "crm_action",
        "action": "call_log",
        "crm_id": "c-1",
        "crm_system": "salesforce",
        "timestamp": "2026-12-04T18:30:00Z",
    }


@pytest.mark.parametrize(
    ("body", "kind", "status", "says"),
    [
        (CONTEXT, "crm_weather", 404, "unknown report kind"),
        ({**CONTEXT, "context_version": 0}, "crm_context", 422, "context_version"),
        ({**CONTEXT, "session_id": "a|b"}, "crm_context", 422, "session_id"),
        ({**ACTION, "action": "delete_everything"}, "crm_action", 422, "action"),
        ({**CONTEXT, "extra": 1}, "crm_context", 422, "extra"),
    ],
)
def test_bad_reports_are_refused_and_reach_nobody(
    cxone: Cxone, store: IdempotencyStore, body: object, kind: str, status: int, says: str
) -> None:
    answer = post(reports_app(cxone.client(), store), kind, body)
    assert answer.status_code == status and says in answer.json()["error"]
    assert cxone.calls == 0


def test_a_report_without_a_key_is_refused(cxone: Cxone, store: IdempotencyStore) -> None:
    answer = reports_app(cxone.client(), store).post("/cxone/reports/crm_context", json=CONTEXT)
    assert answer.status_code == 400 and cxone.calls == 0


@pytest.mark.parametrize(
    ("cxone_says", "status", "retry_after"),
    [(httpx.Response(429, headers={"Retry-After": "7"}), 429, "7"), (httpx.Response(503), 502, None)],
)
def test_a_passing_cxone_failure_releases_the_key_for_the_retry(
    cxone: Cxone, store: IdempotencyStore, cxone_says: httpx.Response, status: int, retry_after: str | None
) -> None:
    app = reports_app(cxone.client(), store)
    cxone.override = lambda request: cxone_says if "/custom-data" in request.url.path else None
    failed = post(app, "crm_context", CONTEXT)
    assert failed.status_code == status and failed.headers.get("retry-after") == retry_after
    cxone.override = None
    assert post(app, "crm_context", CONTEXT).status_code == 202 and len(cxone.records()) == 1


def test_a_contact_cxone_no_longer_has_is_a_final_answer(cxone: Cxone, store: IdempotencyStore) -> None:
    app = reports_app(cxone.client(), store)
    cxone.override = lambda request: httpx.Response(404) if "/custom-data" in request.url.path else None
    assert post(app, "crm_context", CONTEXT).status_code == 422
    cxone.override = None
    again = post(app, "crm_context", CONTEXT)
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true" and cxone.records() == []


def test_without_cxone_configured_reports_are_accepted_and_go_nowhere(store: IdempotencyStore) -> None:
    app = reports_app(None, store)
    answer = post(app, "crm_context", CONTEXT)
    assert answer.status_code == 202 and answer.json()["reported"] is False
    assert post(app, "crm_context", {**CONTEXT, "crm_id": "bad id!"}).status_code == 422
