"""Screen-pop state transitions of the panel core, driven with raw host messages."""

from panel.effects import Log, StartLookup, Telemetry
from panel.lookup import LookupFailed, LookupFound
from panel.models import CrmContact, InteractionState
from panel.origins import parse_allow_list
from panel.state import (
    MAX_CONTEXTS,
    LookupStatus,
    PanelConfig,
    PanelState,
    Transition,
    finish_lookup,
    mark_ready,
    receive_message,
    shown_context,
)
from panel.view import build_view
from tests.raw_events import agent_state, batch, call_event

HOST = "https://na1.cxone.com"
CONFIG = PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com"))
ADA = CrmContact(id="c-1001", name="Ada Lovelace")


def receive(state: PanelState, *events: object, origin: str = HOST, from_parent: bool = True) -> Transition:
    return receive_message(state, CONFIG, origin, from_parent, batch(*events))


def lookups(transition: Transition) -> list[StartLookup]:
    return [effect for effect in transition.effects if isinstance(effect, StartLookup)]


def ready() -> PanelState:
    return mark_ready(PanelState())


def test_ringing_starts_one_lookup_and_shows_loading() -> None:
    transition = receive(ready(), call_event("1"))
    (lookup,) = lookups(transition)
    assert lookup.interaction_id == "1"
    assert lookup.url == "/crm/contact?contact_id=1&key=%2B14155550123"
    assert lookup.deadline_s == 3.0
    view = build_view(transition.state)
    assert (view.state, view.interaction_id) == ("loading", "1")


def test_found_shows_the_contact() -> None:
    started = receive(ready(), call_event("1"))
    (lookup,) = lookups(started)
    done = finish_lookup(started.state, "1", lookup.request_id, LookupFound((ADA,)), 120.0)
    view = build_view(done.state)
    assert (view.state, view.crm_id, view.contact and view.contact.name) == ("loaded", "c-1001", "Ada Lovelace")
    assert [effect for effect in done.effects if not (isinstance(effect, Log) and effect.level == "debug")] == []


def test_no_match() -> None:
    started = receive(ready(), call_event("1"))
    done = finish_lookup(started.state, "1", lookups(started)[0].request_id, LookupFound(()), 50.0)
    assert build_view(done.state).state == "nomatch"


def test_several_matches_are_listed_without_choosing_one() -> None:
    started = receive(ready(), call_event("1"))
    two = (ADA, CrmContact(id="c-2", name="Grace Hopper"))
    view = build_view(finish_lookup(started.state, "1", lookups(started)[0].request_id, LookupFound(two), 1.0).state)
    assert view.state == "loaded" and view.crm_id == "" and [card.crm_id for card in view.matches] == ["c-1001", "c-2"]


def test_failure_shows_error_and_reports_telemetry() -> None:
    started = receive(ready(), call_event("1"))
    done = finish_lookup(started.state, "1", lookups(started)[0].request_id, LookupFailed("timeout"), 3001.0)
    view = build_view(done.state)
    assert view.state == "error" and "unavailable" in view.detail
    (telemetry,) = [effect for effect in done.effects if isinstance(effect, Telemetry)]
    assert telemetry.name == "screen_pop_failed"
    assert telemetry.fields == {"interaction_id": "1", "reason": "timeout", "elapsed_ms": 3001}


def test_connected_after_ringing_does_not_pop_twice() -> None:
    first = receive(ready(), call_event("1"))
    second = receive(first.state, call_event("1", "Active", LastStateChangeTimeUTC="2026-12-04T10:00:05.000Z"))
    assert lookups(second) == []
    assert shown_context(second.state).interaction.state is InteractionState.CONNECTED  # type: ignore[union-attr]


def test_connected_first_pops_too() -> None:
    assert len(lookups(receive(ready(), call_event("1", "Active")))) == 1


def test_duplicate_batch_changes_nothing() -> None:
    first = receive(ready(), call_event("1"))
    again = receive(first.state, call_event("1"))
    assert again.state == first.state and lookups(again) == []


def test_stale_update_never_moves_an_interaction_back() -> None:
    connected = receive(ready(), call_event("1", "Active", LastStateChangeTimeUTC="2026-12-04T10:00:05.000Z"))
    stale = receive(connected.state, call_event("1", "Incoming", LastStateChangeTimeUTC="2026-12-04T10:00:00.000Z"))
    assert stale.state == connected.state


def test_failed_lookup_is_retried_once_when_the_call_is_answered() -> None:
    started = receive(ready(), call_event("1"))
    failed = finish_lookup(started.state, "1", lookups(started)[0].request_id, LookupFailed("http 502"), 10.0)
    answered = receive(failed.state, call_event("1", "Active", LastStateChangeTimeUTC="2026-12-04T10:00:05.000Z"))
    (retry,) = lookups(answered)
    assert retry.request_id != lookups(started)[0].request_id
    held = receive(answered.state, call_event("1", "Holding", LastStateChangeTimeUTC="2026-12-04T10:00:09.000Z"))
    assert lookups(held) == []  # held is not a pop state


def test_late_answer_for_a_superseded_request_is_dropped() -> None:
    started = receive(ready(), call_event("1"))
    old_request = lookups(started)[0].request_id
    failed = finish_lookup(started.state, "1", old_request, LookupFailed("timeout"), 3000.0)
    answered = receive(failed.state, call_event("1", "Active", LastStateChangeTimeUTC="2026-12-04T10:00:05.000Z"))
    late = finish_lookup(answered.state, "1", old_request, LookupFound((ADA,)), 4000.0)
    assert late.state == answered.state
    assert all(isinstance(effect, Log) for effect in late.effects)


def test_late_answer_for_another_call_never_overwrites_what_is_shown() -> None:
    first = receive(ready(), call_event("1"))
    second = receive(first.state, call_event("2", ANI="+14155550199"))
    assert build_view(second.state).interaction_id == "2"
    late = finish_lookup(second.state, "1", lookups(first)[0].request_id, LookupFound((ADA,)), 2500.0)
    view = build_view(late.state)
    assert (view.interaction_id, view.state) == ("2", "loading")
    assert late.state.contexts["1"].lookup.status is LookupStatus.FOUND  # type: ignore[union-attr]


def test_a_call_closed_while_its_lookup_is_out_is_logged_when_the_answer_comes_then_forgotten() -> None:
    started = receive(ready(), call_event("1"))
    closed = receive(
        started.state,
        call_event("1", "Disconnected", FinalState="True", LastStateChangeTimeUTC="2026-12-04T10:01:00.000Z"),
    )
    assert build_view(closed.state).state == "idle"  # gone from the screen at once
    late = finish_lookup(closed.state, "1", lookups(started)[0].request_id, LookupFound((ADA,)), 100.0)
    assert "1" not in late.state.contexts
    assert [entry.payload["crm_id"] for entry in late.state.outbox] == ["c-1001"]
    assert receive(late.state, call_event("1", "Active")).state.contexts == late.state.contexts  # stays closed


def test_call_without_a_number_is_no_match_without_a_lookup() -> None:
    transition = receive(ready(), call_event("1", ANI="Anonymous", DNIS=""))
    assert lookups(transition) == [] and build_view(transition.state).state == "nomatch"


def test_connected_call_stays_shown_when_another_rings() -> None:
    connected = receive(ready(), call_event("1", "Active"))
    ringing = receive(connected.state, call_event("2", ANI="+14155550199"))
    assert build_view(ringing.state).interaction_id == "1"
    assert len(lookups(ringing)) == 1  # the ringing call is still looked up


def test_messages_from_other_windows_or_origins_are_ignored() -> None:
    state = ready()
    for transition in (
        receive(state, call_event("1"), from_parent=False),
        receive(state, call_event("1"), origin="https://evil.example"),
        receive(state, call_event("1"), origin="https://cxone.com.evil.example"),
    ):
        assert transition.state == state and lookups(transition) == []
        assert [effect.level for effect in transition.effects] in (["debug"], ["warning"])


def test_agent_state_is_shown() -> None:
    transition = receive(ready(), agent_state("Unavailable", "Lunch"))
    assert build_view(transition.state).agent == "Unavailable (Lunch)"
    assert (
        build_view(receive(ready(), agent_state("Available", acw="True")).state).agent == "Available · after-call work"
    )


def test_ignored_and_malformed_events_change_nothing_but_log() -> None:
    state = ready()
    transition = receive(state, {"Type": "DigitalContactEvent"}, call_event("9", CallType="AgentLeg"), None)
    assert transition.state.contexts == state.contexts
    assert len(transition.effects) == 3 and all(isinstance(effect, Log) for effect in transition.effects)


def test_events_before_ready_are_kept_and_shown_once_ready() -> None:
    booting = receive(PanelState(), call_event("1"))
    assert build_view(booting.state).state == "booting" and len(lookups(booting)) == 1
    assert build_view(mark_ready(booting.state)).state == "loading"


def test_open_contexts_are_bounded() -> None:
    state = ready()
    for index in range(MAX_CONTEXTS + 10):
        state = receive(state, call_event(str(index), "Holding", ANI=f"+1415555{index:04d}")).state
    assert len(state.contexts) == MAX_CONTEXTS
