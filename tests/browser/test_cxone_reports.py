"""The panel reports to CXone through the proxy: the screen pop's CRM context, then each CRM action."""

from .conftest import Desktop

ADA = "+14155550123"


def test_a_screen_pop_and_a_call_log_reach_cxone_as_custom_data_once(ready_desktop: Desktop) -> None:
    call = ready_desktop.ring(ADA)
    ready_desktop.wait_shown(call)
    (context,) = ready_desktop.wait_custom_data(call, 1)
    session = ready_desktop.page.evaluate("desktop.sessionToken")
    assert context["session_id"] == session and context["indicator_name"] == "CRM context"
    assert context["fields"] == {
        "type": "crm_context",
        "crm_id": ready_desktop.attribute("data-crm-id"),
        "crm_system": "demo",
        "context_version": "1",
    }
    for command in ("answer", "hold", "resume"):  # no new record, no new context
        ready_desktop.call(command, call)
    ready_desktop.wait_panel("loaded", call)
    ready_desktop.call("hangup", call)  # the auto-log lands, then its telemetry
    ready_desktop.panel.locator('[data-field="actions"] li[data-status="sent"]').wait_for(timeout=15_000)
    context_again, action = ready_desktop.wait_custom_data(call, 2)
    assert context_again == context
    assert {name: action["fields"][name] for name in ("type", "action", "crm_id", "crm_system")} == {
        "type": "crm_action",
        "action": "call_log",
        "crm_id": "c-1001",
        "crm_system": "demo",
    }
    assert action["fields"]["timestamp"].endswith("Z")
    reports = [request for request in ready_desktop.requests if "/cxone/" in request.url]
    assert all(request.frame.name == "panel" for request in reports)  # the panel asked, the proxy called CXone
    assert not [request for request in ready_desktop.requests if "InContactAPI" in request.url]
