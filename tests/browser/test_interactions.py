"""Interactions done right, in Chromium against the simulated desktop: concurrent and held calls,
switching, notes through switches and reloads, ordering, agent state, call control, event storms."""

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from tests.raw_events import call_event

from .conftest import Desktop

Report = Callable[[str], None]
ADA, ALAN, GRACE = "+14155550123", "+442079460018", "+14155550199"


def raw_call(contact_id: str, status: str, at: str, ani: str = ADA, final: str = "False") -> dict[str, Any]:
    return call_event(contact_id, status, ANI=ani, LastStateChangeTimeUTC=at, FinalState=final)


def two_calls(desktop: Desktop) -> tuple[str, str]:
    """A answered then held; B answered: B on screen."""
    first = desktop.ring(ADA)
    desktop.call("answer", first)
    desktop.wait_shown(first)
    desktop.call("hold", first)
    second = desktop.ring(ALAN)
    desktop.call("answer", second)
    desktop.wait_shown(second)
    return first, second


def test_two_calls_with_hold_and_resume_each_show_their_own_contact(ready_desktop: Desktop) -> None:
    searches_before = ready_desktop.server.crm_searches()
    first, second = two_calls(ready_desktop)
    assert ready_desktop.attribute("data-crm-id") == "c-1003"
    for _ in range(3):
        ready_desktop.call("hold", second)
        ready_desktop.call("resume", first)
        ready_desktop.wait_shown(first)
        assert ready_desktop.attribute("data-crm-id") == "c-1001"
        ready_desktop.call("hold", first)
        ready_desktop.call("resume", second)
        ready_desktop.wait_shown(second)
        assert ready_desktop.attribute("data-crm-id") == "c-1003"
    assert len(ready_desktop.lookups()) == 2  # one per call: every switch came from memory
    assert ready_desktop.server.crm_searches() - searches_before <= 2


def test_a_third_call_ringing_is_announced_without_taking_the_screen(ready_desktop: Desktop) -> None:
    first, second = two_calls(ready_desktop)
    third = ready_desktop.ring(GRACE)
    strip = ready_desktop.panel.locator(f'[data-field="others"] button[data-interaction-id="{third}"]')
    strip.wait_for(state="visible")
    assert strip.get_attribute("data-ringing") == "true"
    assert ready_desktop.attribute("data-interaction-id") == second
    announcement = ready_desktop.panel.locator('[data-field="announcement"]')
    assert announcement.get_attribute("aria-live") == "polite"
    assert announcement.text_content() == f"Incoming call from {GRACE}"
    strip.click()  # the agent looks at the ringing call
    ready_desktop.wait_shown(third)
    ready_desktop.panel.locator('[data-field="controls"] button[data-command="answer"]').click()
    ready_desktop.page.wait_for_function(
        "(id) => desktop.messages.some((m) => m.data.messageType === 'AnswerEvent' && m.data.contactId === Number(id))",
        arg=third,
    )
    ready_desktop.panel.wait_for_selector(
        f'#panel[data-interaction-id="{third}"] [data-command="hold"]', state="attached"
    )
    assert "On call" in ready_desktop.text("headline")


def test_notes_survive_a_switch(ready_desktop: Desktop) -> None:
    first, second = two_calls(ready_desktop)
    notes = ready_desktop.panel.locator('[data-field="notes"]')
    notes.fill("Address changed to 12 Elm St")
    ready_desktop.panel.locator(f'[data-field="others"] button[data-interaction-id="{first}"]').click()
    ready_desktop.wait_shown(first)
    assert notes.input_value() == ""
    notes.fill("Wants a refund")
    ready_desktop.panel.locator(f'[data-field="others"] button[data-interaction-id="{second}"]').click()
    ready_desktop.wait_shown(second)
    assert notes.input_value() == "Address changed to 12 Elm St"


def test_reload_mid_call_rebuilds_both_calls_and_keeps_the_notes(ready_desktop: Desktop) -> None:
    first, second = two_calls(ready_desktop)
    notes = ready_desktop.panel.locator('[data-field="notes"]')
    notes.fill("Typed a while ago")
    ready_desktop.page.wait_for_event(
        "request", lambda request: request.method == "PUT" and f"/crm/drafts/{second}" in request.url
    )
    ready_desktop.panel.locator(f'[data-field="others"] button[data-interaction-id="{first}"]').click()
    ready_desktop.wait_shown(first)
    notes.fill("Typed just before the reload")  # saved by the keepalive request at page hide
    searches_before = ready_desktop.server.crm_searches()
    ready_desktop.reload_panel()
    ready_desktop.wait_shown(second)  # the connected call is on screen again
    assert ready_desktop.attribute("data-crm-id") == "c-1003"
    assert notes.input_value() == "Typed a while ago"
    ready_desktop.panel.locator(f'[data-field="others"] button[data-interaction-id="{first}"]').click()
    ready_desktop.wait_shown(first)
    assert ready_desktop.attribute("data-crm-id") == "c-1001"
    ready_desktop.panel.wait_for_function(
        "() => document.querySelector('[data-field=notes]').value === 'Typed just before the reload'"
    )
    assert ready_desktop.server.crm_searches() == searches_before  # the proxy still held both answers
    assert ready_desktop.call("subscriberCount") == 1


def test_out_of_order_and_duplicate_events_never_move_back_or_pop_twice(ready_desktop: Desktop) -> None:
    ringing = raw_call("880001", "Incoming", "2026-12-04T10:00:00.000Z")
    connected = raw_call("880001", "Active", "2026-12-04T10:00:05.000Z")
    ready_desktop.call("send", [connected])
    ready_desktop.call("send", [ringing])  # older: must not move the call back to ringing
    ready_desktop.call("send", [connected, connected])
    ready_desktop.call("send", [raw_call("880001", "Holding", "2026-12-04T10:00:02.000Z")])  # stale
    ready_desktop.call("setAgentState", "Unavailable", "Sentinel")
    ready_desktop.wait_agent_text("Unavailable (Sentinel)")
    ready_desktop.wait_shown("880001")
    assert ready_desktop.text("headline") == f"On call from {ADA}"
    assert len(ready_desktop.lookups()) == 1
    ready_desktop.call("send", [raw_call("880001", "Disconnected", "2026-12-04T10:01:00.000Z", final="True")])
    ready_desktop.call("send", [connected])  # late, after the close: must not bring the call back
    ready_desktop.call("setAgentState", "Available", "")
    ready_desktop.wait_agent_text("Available")
    assert ready_desktop.attribute("data-state") == "idle"


def test_agent_state_and_after_call_work_are_shown(ready_desktop: Desktop) -> None:
    contact_id = ready_desktop.ring(ADA)
    ready_desktop.call("answer", contact_id)
    ready_desktop.call("hangup", contact_id)
    ready_desktop.call(
        "send", [{"Type": "AgentState", "CurrentState": "InboundContact", "CurrentOutReason": "", "IsAcw": "True"}]
    )
    ready_desktop.wait_agent_text("InboundContact · after-call work")
    assert ready_desktop.text("headline") == f"After-call work from {ADA}"
    ready_desktop.call("close", contact_id)
    ready_desktop.call("setAgentState", "Unavailable", "Lunch")
    ready_desktop.wait_agent_text("Unavailable (Lunch)")
    ready_desktop.wait_panel("idle")


STORM = """(id) => {
    for (let index = 0; index < 10000; index += 1) {
      if (index === 2500 || index === 7500) { desktop.hold(id); continue; }
      if (index === 5000 || index === 9999) { desktop.resume(id); continue; }
      const noise = index % 3 === 0
        ? {Type: "Indicator", Name: "QueueDepth", Value: String(index)}
        : index % 3 === 1 ? {Type: "UpdateSkills", Skills: String(index % 7)}
        : {Type: "AgentLeg", AgentLegId: String(index), Status: "Active"};
      desktop.send([noise]);
    }
}"""


def _memory(desktop: Desktop) -> tuple[float, int]:
    """JS heap (MB; collected first where the renderer exposes gc) and live Python objects in the panel."""
    heap = desktop.panel.evaluate("() => { if (window.gc) window.gc(); return performance.memory.usedJSHeapSize; }")
    python = json.loads(desktop.panel.evaluate("() => window.panelDiagnostics()"))
    return heap / 1e6, int(python["python_objects"])


def test_a_storm_of_10000_events_keeps_the_panel_responsive(ready_desktop: Desktop, report: Report) -> None:
    call = ready_desktop.ring(ADA)
    ready_desktop.call("answer", call)
    ready_desktop.wait_shown(call)
    memory = [_memory(ready_desktop)]
    handled: list[float] = []
    renders: list[int] = []
    for storm in range(2):
        # 10,000 host messages, posted as one burst: queue updates, skill updates, other agents' legs,
        # with hold/resume transitions of the live call buried among them.
        renders_before = ready_desktop.render_count()
        started = time.monotonic()
        ready_desktop.page.evaluate(STORM, call)
        ready_desktop.call("setAgentState", "Unavailable", f"After storm {storm}")
        ready_desktop.wait_agent_text(f"Unavailable (After storm {storm})", timeout_ms=60_000)
        handled.append(time.monotonic() - started)
        renders.append(ready_desktop.render_count() - renders_before)
        assert ready_desktop.attribute("data-interaction-id") == call
        assert "On call" in ready_desktop.text("headline")  # the last lifecycle change, a resume, applied
        memory.append(_memory(ready_desktop))
    next_call = ready_desktop.ring(GRACE)
    ready_desktop.call("hold", call)
    ready_desktop.call("answer", next_call)
    ready_desktop.wait_shown(next_call)  # still responsive
    assert max(renders) <= 40
    assert json.loads(ready_desktop.panel.evaluate("() => window.panelDiagnostics()"))["contexts"] == 2
    report(
        f"10,000-event storm (x2): handled in {handled[0]:.1f} s and {handled[1]:.1f} s, {renders[0]} and {renders[1]} renders; "
        f"JS heap {memory[0][0]:.1f} -> {memory[1][0]:.1f} -> {memory[2][0]:.1f} MB; "
        f"live Python objects {memory[0][1]} -> {memory[1][1]} -> {memory[2][1]}"
    )


def test_hold_resume_switch_latency(ready_desktop: Desktop, report: Report) -> None:
    first, second = two_calls(ready_desktop)
    ready_desktop.panel.evaluate(
        """() => {
            window.__shown = [];
            const root = document.getElementById("panel");
            new MutationObserver(() => window.__shown.push(
                [root.dataset.interactionId, performance.timeOrigin + performance.now()])
            ).observe(root, {attributes: true, attributeFilter: ["data-interaction-id"]});
        }"""
    )
    samples: list[float] = []
    showing, other = second, first
    for _ in range(40):
        sent_at = ready_desktop.page.evaluate(
            """([showing, other]) => {
                desktop.hold(showing);
                const sentAt = performance.timeOrigin + performance.now();
                desktop.resume(other);
                return sentAt;
            }""",
            [showing, other],
        )
        ready_desktop.wait_shown(other)
        shown_at = ready_desktop.panel.evaluate(
            "(id) => window.__shown.filter(([shown]) => shown === id).pop()[1]", other
        )
        samples.append(shown_at - sent_at)
        showing, other = other, showing
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    assert all(sample > 0 for sample in samples)
    report(
        f"hold/resume switch, host posts resume -> panel DOM shows the other call: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(samples)} switches)"
    )


def test_no_match_offers_a_create_form_that_does_not_block_answering(ready_desktop: Desktop) -> None:
    unknown = "+12125550123"
    call = ready_desktop.ring(unknown)
    ready_desktop.wait_shown(call, "nomatch")
    form = ready_desktop.panel.locator('[data-field="create"]')
    assert form.is_visible() and ready_desktop.text("create-phone") == unknown
    form.locator('input[name="first_name"]').fill("Kim")
    ready_desktop.panel.locator('[data-field="controls"] button[data-command="answer"]').click()  # mid-typing
    ready_desktop.panel.wait_for_selector('[data-field="controls"] button[data-command="hold"]', state="attached")
    assert form.locator('input[name="first_name"]').input_value() == "Kim"  # nothing typed was lost
    form.locator('input[name="last_name"]').fill("Lee")
    form.locator('button[type="submit"]').click()
    ready_desktop.wait_shown(call, "loaded")
    assert ready_desktop.attribute("data-crm-id").startswith("c-")
    assert ready_desktop.panel.locator('[data-contact="name"]').text_content() == "Kim Lee"
    ready_desktop.call("close", call)
    second = ready_desktop.ring(unknown)  # the next call from that number finds the new record
    ready_desktop.wait_shown(second, "loaded")
    assert ready_desktop.panel.locator('[data-contact="name"]').text_content() == "Kim Lee"
