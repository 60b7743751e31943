"""What the panel tells CXone: the CRM context after a screen pop, telemetry after each CRM action."""

from panel.agent_actions import ChooseRecord, ControlCall, LogCall, SwitchTo
from panel.effects import Log, SendAction
from panel.outbox import EntryKind
from panel.state import action_answered
from panel.view import build_view
from tests.unit.test_interactions import Agent, event

SESSION = {"messageType": "SessionInfo", "sessionToken": "4242"}


def reports(agent: Agent) -> list[tuple[str, dict[str, object]]]:
    return [(entry.url, entry.payload) for entry in agent.state.outbox if entry.kind is EntryKind.CXONE_REPORT]


def signed_in() -> Agent:
    agent = Agent()
    agent.host(SESSION)
    return agent


def test_a_screen_pop_attaches_the_record_once_through_holds() -> None:
    agent = signed_in()
    agent.host(event("A", "Incoming", 0))
    agent.host(event("A", "Active", 1))
    agent.host(event("A", "Holding", 2))
    agent.host(event("A", "Active", 3))
    context = {"interaction_id": "A", "session_id": "4242", "crm_id": "c-a", "context_version": 1}
    assert reports(agent) == [("/cxone/reports/crm_context", context)]
    assert build_view(agent.state).actions == ()  # housekeeping, not the agent's work


def test_choosing_another_record_attaches_a_new_version() -> None:
    agent = signed_in()
    agent.host(event("B", "Incoming", 0))
    assert reports(agent) == []  # two matches: nothing popped yet
    agent.act(SwitchTo("B"))
    agent.act(ChooseRecord("B", "c-b1"))
    agent.act(ChooseRecord("B", "c-b1"))  # the same choice again is not news
    agent.act(ChooseRecord("B", "c-b2"))
    assert [(payload["crm_id"], payload["context_version"]) for _, payload in reports(agent)] == [
        ("c-b1", 1),
        ("c-b2", 2),
    ]


def test_a_landed_action_is_reported_once_and_then_forgotten() -> None:
    agent = signed_in()
    agent.host(event("A", "Active", 0))
    context_report = agent.state.outbox[0]
    agent.state = action_answered(agent.state, context_report.key, 202, "", "", 0.0, 0.5).state
    assert agent.state.outbox == ()  # a delivered report is not kept
    agent.act(LogCall("A"))
    (log,) = agent.state.outbox
    landed = action_answered(agent.state, log.key, 201, "", "", 0.0, 0.5)
    agent.state = landed.state
    (sent,) = [effect for effect in landed.effects if isinstance(effect, SendAction)]
    assert sent.url == "/cxone/reports/crm_action"
    assert sent.payload == {
        "interaction_id": "A",
        "session_id": "4242",
        "action": "call_log",
        "crm_id": "c-a",
        "action_key": log.key,
    }
    assert sent.key.startswith("A:crm_action:c-a:")
    # Failing to report retries like any outbox entry, and never touches the call log's state.
    retried = action_answered(agent.state, sent.key, 503, "http 503", "", 0.0, 0.5)
    assert [entry.status.value for entry in retried.state.outbox] == ["sent", "waiting"]


def test_a_refused_action_is_not_reported() -> None:
    agent = signed_in()
    agent.host(event("A", "Active", 0))
    agent.act(LogCall("A"))
    log = next(entry for entry in agent.state.outbox if entry.kind is EntryKind.CRM_ACTION)
    refused = action_answered(agent.state, log.key, 422, "bad", "", 0.0, 0.5)
    assert not [effect for effect in refused.effects if isinstance(effect, SendAction)]


def test_the_same_action_gets_the_same_report_key_in_another_tab() -> None:
    keys = []
    for _ in range(2):
        agent = signed_in()
        agent.host(event("A", "Active", 0), event("A", "Disconnected", 5))
        log = next(entry for entry in agent.state.outbox if entry.kind is EntryKind.CRM_ACTION)
        landed = action_answered(agent.state, log.key, 201, "", "", 0.0, 0.5)
        keys.append([effect.key for effect in landed.effects if isinstance(effect, SendAction)])
    assert keys[0] == keys[1] and len(keys[0]) == 1


def test_without_an_agent_session_nothing_is_reported() -> None:
    agent = Agent()
    agent.host(event("A", "Incoming", 0))
    agent.host(event("A", "Active", 1))
    agent.act(ControlCall("A", "hold"))
    agent.act(LogCall("A"))
    (log,) = agent.state.outbox
    landed = action_answered(agent.state, log.key, 201, "", "", 0.0, 0.5)
    assert [effect for effect in landed.effects if isinstance(effect, SendAction)] == []
    assert reports(agent) == []


def test_a_session_id_cxone_would_refuse_is_logged_not_sent() -> None:
    agent = Agent()
    agent.host({"messageType": "SessionInfo", "sessionToken": "has spaces/and|pipes"})
    agent.host(event("A", "Incoming", 0))
    assert reports(agent) == []
    assert build_view(agent.state).crm_id == "c-a"  # the pop itself is untouched


def test_log_lines_say_why_a_report_was_skipped() -> None:
    from panel.lookup import LookupFound
    from panel.models import CrmContact
    from panel.state import finish_lookup

    agent = Agent()
    agent.crm = {}  # answer the lookup by hand
    agent.host(event("A", "Incoming", 0))
    pending = agent.state.contexts["A"].lookup
    assert pending is not None
    found = finish_lookup(agent.state, "A", pending.request_id, LookupFound((CrmContact(id="c-a", name="Ada"),)), 5)
    assert any(isinstance(effect, Log) and "no agent session" in effect.message for effect in found.effects)
