"""``POST /crm/actions/{type}`` with idempotency keys, against a fake CRM adapter."""

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.crm.base import CrmError, CrmRateLimited, CrmRejected, CrmTimeout
from proxy.settings import Settings

from .conftest import SECRET, FakeCrm

CALL_LOG = {
    "interaction_id": "712345",
    "crm_id": "c-1",
    "subject": "Inbound call",
    "notes": "wants a refund",
    "disposition": "resolved",
    "direction": "inbound",
    "duration_s": 185,
}
KEY = "712345:call_log:c-1:r1"


@pytest.fixture
def agent(client: TestClient) -> TestClient:
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    return client


def post(client: TestClient, action: str, body: object, key: str = KEY) -> Any:
    return client.post(f"/crm/actions/{action}", json=body, headers={"Idempotency-Key": key})


def test_an_action_lands_once_and_repeats_replay_its_response(agent: TestClient, crm: FakeCrm) -> None:
    first = post(agent, "call_log", CALL_LOG)
    assert first.status_code == 201 and first.json()["record_id"] == "call_log-1"
    for _ in range(3):
        again = post(agent, "call_log", CALL_LOG)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
    assert crm.writes == [("call_log", "712345")]


def test_the_same_key_with_another_payload_is_refused(agent: TestClient, crm: FakeCrm) -> None:
    post(agent, "call_log", CALL_LOG)
    response = post(agent, "call_log", {**CALL_LOG, "notes": "something else"})
    assert response.status_code == 422 and "another payload" in response.json()["error"]
    assert len(crm.writes) == 1


@pytest.mark.parametrize(
    ("failure", "status", "retry_after"),
    [(CrmRateLimited("slow down", 2.2), 429, "3"), (CrmTimeout("slow"), 504, None), (CrmError("down"), 502, None)],
)
def test_retryable_failures_release_the_key(
    agent: TestClient, crm: FakeCrm, failure: Exception, status: int, retry_after: str | None
) -> None:
    crm.failure = failure
    response = post(
        agent, "task", {"interaction_id": "1", "crm_id": "c-1", "title": "Call back", "due_date": "2026-12-05"}
    )
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    crm.failure = None
    retried = post(
        agent, "task", {"interaction_id": "1", "crm_id": "c-1", "title": "Call back", "due_date": "2026-12-05"}
    )
    assert retried.status_code == 201 and crm.writes == [("task", KEY)]


def test_a_refusal_by_the_crm_is_final_and_replayed(agent: TestClient, crm: FakeCrm) -> None:
    crm.failure = CrmRejected("unknown contact")
    update = {"interaction_id": "1", "crm_id": "c-404", "fields": {"email": "a@example.com"}}
    assert post(agent, "contact_update", update).status_code == 422
    crm.failure = None
    replay = post(agent, "contact_update", update)
    assert replay.status_code == 422 and replay.headers["idempotent-replayed"] == "true"
    assert crm.writes == []


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        ("/crm/actions/delete_everything", CALL_LOG, {"Idempotency-Key": KEY}, 404),
        ("/crm/actions/call_log", CALL_LOG, {}, 400),
        ("/crm/actions/call_log", CALL_LOG, {"Idempotency-Key": "short"}, 400),
        ("/crm/actions/call_log", {**CALL_LOG, "duration_s": -1}, {"Idempotency-Key": KEY}, 422),
        ("/crm/actions/call_log", {**CALL_LOG, "extra": 1}, {"Idempotency-Key": KEY}, 422),
        (
            "/crm/actions/contact_update",
            {"interaction_id": "1", "crm_id": "c-1", "fields": {}},
            {"Idempotency-Key": KEY},
            422,
        ),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    agent: TestClient, crm: FakeCrm, path: str, body: object, headers: dict[str, str], status: int
) -> None:
    assert agent.post(path, json=body, headers=headers).status_code == status
    assert crm.writes == []
    assert post(agent, "call_log", CALL_LOG).status_code == 201  # the key was not spent


def test_actions_need_a_signed_in_agent(client: TestClient, crm: FakeCrm) -> None:
    assert post(client, "call_log", CALL_LOG).status_code == 401
    assert crm.writes == []


def test_records_survive_a_proxy_restart(settings: Settings) -> None:
    def restarted() -> Iterator[tuple[TestClient, FakeCrm]]:
        crm = FakeCrm()
        with TestClient(create_app(settings, crm=crm), base_url="https://panel.example.com") as client:
            client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
            yield client, crm

    for client, _crm in restarted():
        assert post(client, "call_log", CALL_LOG).status_code == 201
    for client, crm in restarted():
        replay = post(client, "call_log", CALL_LOG)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert crm.writes == []
