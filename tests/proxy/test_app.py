"""The proxy's routes, headers and auth, through Starlette's TestClient with a fake CRM adapter."""

import json

import pytest
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.crm.base import CrmError, CrmTimeout
from proxy.settings import Settings

from .conftest import SECRET, FakeCrm


def signed_in(client: TestClient) -> TestClient:
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    return client


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_panel_page_policy_and_placeholders(client: TestClient) -> None:
    response = client.get("/cxone-panel?panelId=crm-context")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors https://*.cxone.com http://localhost:8000" in csp
    assert "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval';" in csp
    assert "object-src 'none'" in csp and "default-src 'none'" in csp
    assert "https://" not in csp.split("frame-ancestors")[0]  # no third-party source anywhere else
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    body = response.text
    assert "${" not in body
    assert 'data-desktop-origins="https://*.cxone.com http://localhost:8000"' in body
    assert 'data-runtime-base="/runtime/abc123"' in body
    assert "set-cookie" not in response.headers  # sessions are only handed out in demo mode


def test_unknown_panel_id_is_404(client: TestClient) -> None:
    assert client.get("/cxone-panel?panelId=nope").status_code == 404
    assert client.get("/cxone-panel/registration?panelId=nope").status_code == 404


def test_registration_document_is_served_resolved(client: TestClient) -> None:
    document = client.get("/cxone-panel/registration?panelId=crm-context").json()
    assert document["url"] == "https://panel.example.com/cxone-panel?panelId=crm-context"
    assert document["sandbox"] == ["allow-scripts", "allow-same-origin", "allow-forms"]


def test_pyscript_config_points_at_hashed_urls(client: TestClient) -> None:
    config = client.get("/pyscript.toml").text
    assert 'interpreter = "/runtime/abc123/pyodide.mjs"' in config
    assert "${" not in config and 'packages_cache = "passthrough"' in config


def test_runtime_is_immutable_and_only_under_its_digest(client: TestClient) -> None:
    response = client.get("/runtime/abc123/pyodide.asm.wasm")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "application/wasm"
    assert client.get("/runtime/other/pyodide.asm.wasm").status_code == 404


def test_panel_sources_serve_only_code(client: TestClient) -> None:
    page = client.get("/cxone-panel").text
    base = page.split('data-runtime-base="')[0].rsplit('src="', 1)[1].split("/bridge.js")[0]
    assert client.get(f"{base}/state.py").status_code == 200
    assert client.get(f"{base}/bridge.js").headers["cache-control"].endswith("immutable")
    assert client.get(f"{base}/browser-wheels.txt").status_code == 404


def test_api_responses_get_the_strictest_policy(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors 'none'")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_crm_routes_need_a_signed_in_agent(client: TestClient, crm: FakeCrm) -> None:
    assert client.get("/crm/contact?key=%2B14155550123").status_code == 401
    client.cookies.set(SESSION_COOKIE, "forged.token.value")
    assert client.get("/crm/contact?key=%2B14155550123").status_code == 401
    client.cookies.set(SESSION_COOKIE, AgentSessions("another-secret-" * 3, 600).issue("agent-7"))
    assert client.get("/crm/contact?key=%2B14155550123").status_code == 401
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, -1).issue("agent-7"))  # already expired
    assert client.get("/crm/contact?key=%2B14155550123").status_code == 401
    assert crm.asked == []


def test_cross_site_requests_are_refused_even_with_a_session(client: TestClient, crm: FakeCrm) -> None:
    response = signed_in(client).get("/crm/contact?key=%2B14155550123", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403 and crm.asked == []


def test_lookup_normalises_to_e164(client: TestClient, crm: FakeCrm) -> None:
    response = signed_in(client).get("/crm/contact", params={"key": "(415) 555-0123"})
    assert response.status_code == 200
    assert response.json() == {
        "key": "+14155550123",
        "matches": [{"id": "c-1", "name": "Ada Lovelace", "company": "", "phone": "", "email": "", "crm": "fake"}],
    }
    signed_in(client).get("/crm/contact", params={"key": "+44 20 7946 0018"})
    assert crm.asked == ["+14155550123", "+442079460018"]


@pytest.mark.parametrize("key", ["", "anonymous", "123", "+1" + "9" * 70])
def test_bad_numbers_are_422_and_reach_no_crm(client: TestClient, crm: FakeCrm, key: str) -> None:
    response = signed_in(client).get("/crm/contact", params={"key": key})
    assert response.status_code == 422 and response.json()["field"] == "key"
    assert crm.asked == []


@pytest.mark.parametrize(("failure", "status"), [(CrmTimeout("slow"), 504), (CrmError("down"), 502)])
def test_crm_failures_map_to_gateway_errors(client: TestClient, crm: FakeCrm, failure: Exception, status: int) -> None:
    crm.failure = failure
    assert signed_in(client).get("/crm/contact", params={"key": "+14155550123"}).status_code == status


def test_telemetry_is_validated_and_needs_a_session(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    record = {"name": "screen_pop_failed", "fields": {"interaction_id": "1", "reason": "timeout", "elapsed_ms": 3001}}
    assert client.post("/telemetry", json=record).status_code == 401
    signed_in(client)
    with caplog.at_level("INFO", logger="proxy.telemetry"):
        assert client.post("/telemetry", json=record).status_code == 204
    assert caplog.records[-1].telemetry == {"agent": "agent-7", **record}  # type: ignore[attr-defined]
    assert client.post("/telemetry", json={"name": "Bad Name"}).status_code == 422
    assert client.post("/telemetry", json={"name": "x", "fields": {"nested": {"a": 1}}}).status_code == 422
    assert (
        client.post("/telemetry", content=json.dumps({"name": "x", "fields": {"pad": "a" * 5000}})).status_code == 413
    )


def test_demo_mode_hands_the_panel_a_partitioned_session(settings: Settings, crm: FakeCrm) -> None:
    demo = settings.model_copy(update={"demo": True, "crm_url": "http://127.0.0.1:9"})
    with TestClient(create_app(demo, crm=crm), base_url="https://127.0.0.1:8000") as client:
        response = client.get("/cxone-panel")
        cookie = response.headers["set-cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=none", "Partitioned", "Path=/"):
            assert attribute in cookie
        assert "http://localhost:8000" in response.headers["content-security-policy"]
        assert client.get("/crm/contact?key=%2B14155550123").status_code == 200
        assert client.get("/desktop").status_code == 200


def test_desktop_routes_exist_only_in_demo_mode(client: TestClient) -> None:
    assert client.get("/desktop").status_code == 404


def test_adapter_is_closed_on_shutdown(settings: Settings) -> None:
    crm = FakeCrm()
    with TestClient(create_app(settings, crm=crm)):
        assert not crm.closed
    assert crm.closed


def test_missing_runtime_stops_start_up(settings: Settings, crm: FakeCrm) -> None:
    from proxy.assets import RuntimeMissing

    with pytest.raises(RuntimeMissing, match="make runtime"):
        create_app(settings.model_copy(update={"runtime_dir": settings.runtime_dir / "nowhere"}), crm=crm)
