"""CRM actions from the panel, exactly once, in Chromium against the demo: 429s, two tabs."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from proxy.demo.launcher import free_port, stop_group
from tests.raw_events import call_event

from .conftest import DemoServer, Desktop, start_demo

ADA = "+14155550123"


def call_logs_for(server: DemoServer, contact_id: str) -> list[dict[str, Any]]:
    return [log for log in server.crm_records()["call_logs"] if log["external_id"] == contact_id]


def test_a_call_logged_while_the_crm_says_429_twice_lands_once_after_retry_after(ready_desktop: Desktop) -> None:
    call = ready_desktop.ring(ADA)
    ready_desktop.call("answer", call)
    ready_desktop.wait_shown(call)
    ready_desktop.panel.locator('[data-field="notes"]').fill("Refund agreed")
    ready_desktop.server.set_crm_behaviour(fail_status=429, fail_times=2, retry_after_s=1)
    attempts = []
    ready_desktop.page.on(
        "request", lambda request: attempts.append(request) if "/crm/actions/" in request.url else None
    )
    ready_desktop.call("hangup", call)
    item = ready_desktop.panel.locator('[data-field="actions"] li[data-status="sent"]')
    item.wait_for(timeout=15_000)
    assert item.text_content() == "Call log: saved in the CRM"
    (log,) = call_logs_for(ready_desktop.server, call)
    assert (log["contact_id"], log["notes"], log["revisions"]) == ("c-1001", "Refund agreed", 1)
    keys = {request.headers["idempotency-key"] for request in attempts}
    assert len(attempts) == 3 and len(keys) == 1  # two 429s, then the write, all under one key


def test_two_tabs_auto_logging_the_same_call_make_one_crm_record(desktop: Desktop, page: Page) -> None:
    second_tab = Desktop(page.context.new_page(), desktop.server)
    one_agent = "?session=agent-session-two-tabs"  # both desktops belong to one CXone agent session
    tabs = [desktop.open(one_agent).wait_ready(), second_tab.open(one_agent).wait_ready()]
    contact_id = "555001"
    events = [
        call_event(contact_id, "Incoming", ANI=ADA, LastStateChangeTimeUTC="2026-12-04T11:00:00.000Z"),
        call_event(contact_id, "Active", ANI=ADA, LastStateChangeTimeUTC="2026-12-04T11:00:04.000Z"),
    ]
    for tab in tabs:  # CXone forwards the same contact to every panel the agent has open
        tab.call("send", events)
        tab.wait_shown(contact_id)
    hangup = [call_event(contact_id, "Disconnected", ANI=ADA, LastStateChangeTimeUTC="2026-12-04T11:02:00.000Z")]
    reported = "**/cxone/reports/crm_action"
    with tabs[0].page.expect_response(reported, timeout=15_000), tabs[1].page.expect_response(reported, timeout=15_000):
        for tab in tabs:
            tab.call("send", hangup)
    for tab in tabs:
        tab.panel.locator('[data-field="actions"] li[data-status="sent"]').wait_for(timeout=15_000)
    (log,) = call_logs_for(desktop.server, contact_id)
    assert log["revisions"] == 1 and log["duration_seconds"] == 116
    # Both tabs reported the call log and the screen pop; CXone heard each once.
    kinds = sorted(record["fields"]["type"] for record in desktop.custom_data(contact_id))
    assert kinds == ["crm_action", "crm_context"]


def test_a_proxy_restart_mid_flush_loses_nothing(page: Page, tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    process = start_demo(port, tmp_path)
    server = DemoServer(port=port, log=tmp_path / "demo.log")
    try:
        desktop = Desktop(page, server).open().wait_ready()
        call = desktop.ring(ADA)
        desktop.call("answer", call)
        desktop.wait_shown(call)
        server.set_crm_behaviour(delay_ms=5_000)  # the call log will still be in flight when the proxy goes
        with page.expect_request("**/crm/actions/call_log"):
            desktop.call("hangup", call)
        stop_group(process)  # the proxy (and the demo CRM behind it) go down mid-flush
        process = start_demo(port, tmp_path)  # same port, same data: as a deploy or a crash would
        desktop.panel.locator('[data-field="actions"] li[data-status="sent"]').wait_for(timeout=60_000)
        (log,) = call_logs_for(server, call)
        assert log["contact_id"] == "c-1001"
    finally:
        stop_group(process)


def test_contact_update_and_follow_up_task_from_the_panel_land_once(ready_desktop: Desktop) -> None:
    call = ready_desktop.ring("+442079460018")
    ready_desktop.call("answer", call)
    ready_desktop.wait_shown(call)
    panel = ready_desktop.panel
    panel.locator("summary", has_text="Update the contact").click()
    panel.locator('[data-field="update-form"] input[name="company"]').fill("Bletchley Park Trust")
    panel.locator('[data-field="update-form"] button[type="submit"]').click()
    panel.locator("summary", has_text="Follow-up task").click()
    task_form = panel.locator('[data-field="task-form"]')
    task_form.locator('input[name="title"]').fill("Send the enigma manual")
    task_form.locator('input[name="due_date"]').fill("2026-12-11")
    task_form.locator('button[type="submit"]').click()
    task_form.locator('button[type="submit"]').click()  # a double click is still one task
    sent = panel.locator('[data-field="actions"] li[data-status="sent"]')
    sent.nth(1).wait_for(timeout=15_000)
    assert sorted(sent.all_text_contents()) == [
        "Contact update: saved in the CRM",
        "Task “Send the enigma manual”: saved in the CRM",
    ]
    tasks = [task for task in ready_desktop.server.crm_records()["tasks"] if task["title"] == "Send the enigma manual"]
    assert len(tasks) == 1 and tasks[0]["contact_id"] == "c-1003" and tasks[0]["due_date"] == "2026-12-11"
    ready_desktop.call("close", call)
    again = ready_desktop.ring("+442079460018")  # the proxy forgot its cached answer for the changed record
    ready_desktop.wait_shown(again)
    assert panel.locator('[data-contact="company"]').text_content() == "Bletchley Park Trust"


def test_a_reload_between_the_outbox_write_and_the_send_still_lands_it_once(ready_desktop: Desktop) -> None:
    call = ready_desktop.ring(ADA)
    ready_desktop.call("answer", call)
    ready_desktop.wait_shown(call)
    ready_desktop.panel.locator('[data-field="notes"]').fill("Refund agreed, form by post")
    ready_desktop.server.set_crm_behaviour(fail_status=503)  # every CRM write fails for now
    ready_desktop.call("hangup", call)
    ready_desktop.panel.locator('[data-field="actions"] li[data-status="waiting"]').wait_for(timeout=15_000)
    ready_desktop.start_panel_reload()  # the call log was written to the outbox, never to the CRM
    ready_desktop.server.set_crm_behaviour()  # the CRM recovers while the panel reloads
    ready_desktop.wait_panel_reloaded()
    ready_desktop.wait_shown(call)
    ready_desktop.panel.locator('[data-field="actions"] li[data-status="sent"]').wait_for(timeout=30_000)
    (log,) = call_logs_for(ready_desktop.server, call)
    assert (log["notes"], log["revisions"]) == ("Refund agreed, form by post", 1)
