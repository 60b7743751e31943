"""Readiness, metrics, request ids and logs without phone numbers."""

import json
import logging

import pytest
from starlette.testclient import TestClient

from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.crm.base import CrmError
from proxy.logs import JsonFormatter, RedactPhoneNumbers, RequestIdFilter, redact

from .conftest import SECRET, FakeCrm


def signed_in(client: TestClient) -> TestClient:
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    return client


def test_readyz_names_what_is_not_ready(client: TestClient, crm: FakeCrm) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "checks": {"crm": "ok"}}
    crm.failure = ConnectionError("down")
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["checks"]["crm"] == "failed: ConnectionError"
    assert client.get("/healthz").status_code == 200  # the process is still up


def test_metrics_count_lookups_cache_hits_and_replays(client: TestClient) -> None:
    signed_in(client)
    for _ in range(3):
        client.get("/crm/contact", params={"key": "+14155550123"})
    log = {
        "interaction_id": "712345",
        "crm_id": "c-1",
        "subject": "Inbound call",
        "notes": "",
        "disposition": "",
        "direction": "inbound",
        "duration_s": 5,
    }
    for _ in range(2):
        client.post("/crm/actions/call_log", json=log, headers={"Idempotency-Key": "712345:call_log:c-1:m1"})
    text = client.get("/metrics").text
    assert 'panel_lookups_total{outcome="found"} 3.0' in text
    assert 'panel_lookup_cache_total{result="hit"} 2.0' in text
    assert 'panel_lookup_cache_total{result="miss"} 1.0' in text
    assert 'panel_idempotent_replays_total{route="crm_action"} 1.0' in text
    assert "+1415" not in text and "4155550123" not in text


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) >= 16
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abcdef0123456789abcdef0123456789"}).headers["x-request-id"]
        == "abcdef0123456789abcdef0123456789"
    )


@pytest.mark.parametrize(
    "text",
    [
        'GET /crm/contact?key=%2B14155550123 HTTP/1.1" 200',
        "lookup for +1 415 555 0123 failed",
        "caller (415) 555-0123 not found",
        "digits 4155550123 only",
        "international +442079460018",
    ],
)
def test_phone_numbers_never_reach_the_logs(text: str) -> None:
    assert "555" not in redact(text) and "2079460018" not in redact(text)


def test_log_lines_are_json_with_request_id_and_contact_id_and_no_numbers() -> None:
    record = logging.makeLogRecord(
        {
            "name": "proxy.crm",
            "levelname": "WARNING",
            "levelno": 30,
            "msg": "lookup of %s failed",
            "args": ("+14155550123",),
            "contact_id": "712345",
            "detail": "bottlecrm refused +14155550123",
        }
    )
    for log_filter in (RequestIdFilter(), RedactPhoneNumbers()):
        log_filter.filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "lookup of [redacted] failed" and entry["detail"] == "bottlecrm refused [redacted]"
    assert entry["contact_id"] == "712345" and entry["request_id"] == "-" and entry["level"] == "warning"


def test_dates_and_contact_ids_survive_redaction() -> None:
    assert redact("call 712345 on 2026-12-04 at 10:00:00") == "call 712345 on 2026-12-04 at 10:00:00"


def test_a_lookup_logs_its_contact_id_and_never_the_number(
    client: TestClient, crm: FakeCrm, caplog: pytest.LogCaptureFixture
) -> None:
    signed_in(client)
    crm.failure = CrmError("down")
    caplog.handler.addFilter(RequestIdFilter())  # as configure_logging sets up the real handler
    caplog.handler.addFilter(RedactPhoneNumbers())
    with caplog.at_level(logging.WARNING, logger="proxy.crm"):
        answer = client.get("/crm/contact", params={"contact_id": "712345", "key": "+14155550123"})
    assert answer.status_code == 502
    (record,) = [record for record in caplog.records if record.name == "proxy.crm"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["contact_id"] == "712345" and entry["request_id"] == answer.headers["x-request-id"]
    assert "4155550123" not in json.dumps(entry)


def test_a_malformed_contact_id_is_refused(client: TestClient, crm: FakeCrm) -> None:
    signed_in(client)
    answer = client.get("/crm/contact", params={"contact_id": "71 23|45", "key": "+14155550123"})
    assert answer.status_code == 422 and crm.asked == []
