"""Reverse-proxy mode: an upstream page that forbids framing, relayed with the panel's framing policy."""

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.relay import reframe_policy
from proxy.settings import Settings

from .conftest import SECRET, FakeCrm

seen: list[Request] = []


bodies: list[bytes] = []


async def crm_page(request: Request) -> HTMLResponse:
    seen.append(request)
    bodies.append(await request.body())
    return HTMLResponse(
        "<h1>Case 42</h1>",
        headers={
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; img-src https://cdn.example.com",
            "Set-Cookie": "sid=abc; Secure; HttpOnly",
            "Cache-Control": "private, max-age=60",
        },
    )


@pytest.fixture
def relay_client(settings: Settings, crm: FakeCrm) -> Iterator[TestClient]:
    upstream = httpx.ASGITransport(app=Starlette(routes=[Route("/cases/{case_id}", crm_page, methods=["GET", "POST"])]))
    relay_settings = settings.model_copy(update={"relay_upstreams": {"saas": "https://saas-crm.example.com"}})
    seen.clear()
    bodies.clear()
    with TestClient(
        create_app(relay_settings, crm=crm, upstream_transport=upstream), base_url="https://panel.example.com"
    ) as client:
        yield client


def test_framing_headers_are_replaced_and_nothing_else_is_touched(relay_client: TestClient) -> None:
    relay_client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    relay_client.cookies.set("crm_sso", "s1")  # the CRM's own sign-in, for the same origin
    relay_client.cookies.set("other", "2")
    response = relay_client.get(
        "/relay/saas/cases/42",
        params={"tab": "notes"},
        headers={"Authorization": "Bearer crm-user-token"},
    )
    assert response.status_code == 200 and response.text == "<h1>Case 42</h1>"
    assert "x-frame-options" not in response.headers
    assert response.headers["content-security-policy"] == (
        "default-src 'self'; img-src https://cdn.example.com; frame-ancestors https://*.cxone.com http://localhost:8000"
    )
    assert response.headers["set-cookie"] == "sid=abc; Secure; HttpOnly"
    assert response.headers["cache-control"] == "private, max-age=60"
    assert "x-content-type-options" not in response.headers  # the upstream's headers, not ours
    (upstream_request,) = seen
    assert upstream_request.headers["authorization"] == "Bearer crm-user-token"
    assert upstream_request.cookies == {"crm_sso": "s1", "other": "2"}  # the panel's own session stays here
    assert upstream_request.url.path == "/cases/42" and upstream_request.url.query == "tab=notes"


def test_a_form_posted_through_the_relay_arrives_as_sent(relay_client: TestClient) -> None:
    relay_client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    response = relay_client.post(
        "/relay/saas/cases/42",
        content=b"status=closed&note=a%20b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and bodies == [b"status=closed&note=a%20b"]
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"


def test_the_relay_needs_an_agent_and_a_known_upstream(relay_client: TestClient) -> None:
    assert relay_client.get("/relay/saas/cases/42").status_code == 401
    relay_client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    assert relay_client.get("/relay/elsewhere/x").status_code == 404
    assert seen == []


def test_reframe_policy_adds_frame_ancestors_when_there_was_none() -> None:
    assert reframe_policy("", ["https://*.cxone.com"]) == "frame-ancestors https://*.cxone.com"
    assert reframe_policy("script-src 'self'; FRAME-ANCESTORS 'none'", ["a"]) == "script-src 'self'; frame-ancestors a"
