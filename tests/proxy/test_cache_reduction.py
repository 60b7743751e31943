"""How many CRM calls a hold/resume-heavy shift costs, against one CRM call per lookup.

A simulated four-hour shift: 40 agents, 600 calls from 200 callers (regulars call often), each
call answered and then held and resumed 3 times, one in four transferred to another agent, and one
agent in ten reloading the panel mid-call. Every agent runs the real panel core (``panel.state``);
its lookups go to the proxy's real ``CachedCrm`` in front of a counting CRM, on a simulated clock.

The baseline, "one CRM call per lookup", is the naive integration: a lookup on every
``interaction:updated`` a panel receives (ringing, answered, each hold and resume, hang-up, the end
of wrap-up, a transfer's arrival, a reload's snapshot). Printed beside it: the stricter count of
events that put the caller on screen (ringing, answering, resuming, arriving by transfer), the
lookups our panels asked the proxy for, and the CRM calls that reached the CRM; and the oldest
answer served, which must never be older than its TTL. TTLs are the proxy's defaults.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import unquote

import pytest

from panel.effects import StartLookup
from panel.lookup import LookupFound
from panel.models import CrmContact
from panel.origins import parse_allow_list
from panel.state import PanelConfig, PanelState, finish_lookup, mark_ready, receive_message
from proxy.crm.cached import CachedCrm
from proxy.crm.lookup_cache import MemoryLookupCache
from proxy.settings import Settings
from tests.raw_events import batch, call_event

from .conftest import FakeCrm

HOST = "https://na1.cxone.com"
CONFIG = PanelConfig(allowed_origins=parse_allow_list("https://*.cxone.com"))
HIT_TTL_S = float(Settings.model_fields["lookup_cache_hit_ttl_s"].default)
MISS_TTL_S = float(Settings.model_fields["lookup_cache_miss_ttl_s"].default)
SHIFT_START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingCrm(FakeCrm):
    """Answers every number; remembers when it last answered each, to age the cache's answers."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self.clock = clock
        self.fetched_at: dict[str, float] = {}

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        self.asked.append(e164)
        self.fetched_at[e164] = self.clock()
        return (CrmContact(id=f"c-{e164[-4:]}", name=f"Caller {e164[-4:]}", crm="fake"),) if e164[-1] != "9" else ()


@dataclass
class AgentPanel:
    state: PanelState = field(default_factory=lambda: mark_ready(PanelState()))


@dataclass
class Shift:
    crm: CountingCrm
    cached: CachedCrm
    clock: SimClock
    naive_lookups: int = 0  # one per interaction:updated delivered
    shown_lookups: int = 0  # one per event that puts the caller on screen
    panel_lookups: int = 0
    oldest_answer_s: float = 0.0
    oldest_allowed_s: float = 0.0

    async def deliver(self, agent: AgentPanel, event: dict[str, object], shows_caller: bool) -> None:
        self.naive_lookups += 1
        if shows_caller:
            self.shown_lookups += 1
        transition = receive_message(agent.state, CONFIG, HOST, True, batch(event))
        agent.state = transition.state
        await self._lookups(agent, transition.effects)

    async def reload(self, agent: AgentPanel, open_events: list[dict[str, object]]) -> None:
        """A fresh panel document gets CXone's snapshot of the agent's open contacts."""
        agent.state = mark_ready(PanelState())
        for event in open_events:
            await self.deliver(agent, event, shows_caller=True)

    async def _lookups(self, agent: AgentPanel, effects: tuple[object, ...]) -> None:
        for effect in effects:
            if not isinstance(effect, StartLookup):
                continue
            self.panel_lookups += 1
            number = unquote(effect.url.split("key=")[1])
            answer = await self.cached.find_contacts_by_phone(number)
            age = self.clock() - self.crm.fetched_at[number]
            self.oldest_answer_s = max(self.oldest_answer_s, age)
            self.oldest_allowed_s = max(self.oldest_allowed_s, age - (HIT_TTL_S if answer else MISS_TTL_S))
            agent.state = finish_lookup(
                agent.state, effect.interaction_id, effect.request_id, LookupFound(answer), 5
            ).state


def event_at(contact_id: str, number: str, status: str, seconds: float, **extra: str) -> dict[str, object]:
    """A raw CallContactEvent ``seconds`` into the shift."""
    at = (SHIFT_START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return call_event(contact_id, status, ANI=number, LastStateChangeTimeUTC=at, **extra)


@pytest.mark.benchmark
async def test_a_hold_heavy_shift_costs_at_least_90_percent_fewer_crm_calls(report: Callable[[str], None]) -> None:
    rng = random.Random(20261204)
    clock = SimClock()
    crm = CountingCrm(clock)
    shift = Shift(crm, CachedCrm(crm, MemoryLookupCache(HIT_TTL_S, MISS_TTL_S, 10_000, clock=clock)), clock)
    agents = [AgentPanel() for _ in range(40)]
    callers = [f"+1415555{1000 + n:04d}" for n in range(200)]
    weights = [1 / (rank + 1) for rank in range(len(callers))]  # a few regulars, a long tail
    calls, transfers, reloads = 600, 0, 0
    for call in range(calls):
        clock.now = call * (4 * 3600 / calls)  # calls spread over the shift
        number = rng.choices(callers, weights)[0]
        contact_id = str(800_000 + call)
        agent = rng.choice(agents)
        t = clock.now

        event = partial(event_at, contact_id, number)
        await shift.deliver(agent, event("Incoming", t), shows_caller=True)
        t += rng.uniform(3, 12)
        await shift.deliver(agent, event("Active", t), shows_caller=True)
        for _ in range(3):
            t += rng.uniform(20, 120)
            await shift.deliver(agent, event("Holding", t), shows_caller=False)
            t += rng.uniform(30, 90)
            await shift.deliver(agent, event("Active", t), shows_caller=True)
        if rng.random() < 0.1:
            reloads += 1
            await shift.reload(agent, [event("Active", t)])
        if rng.random() < 0.25:
            transfers += 1
            await shift.deliver(agent, event("Disconnected", t + 1, FinalState="True"), shows_caller=False)
            agent = rng.choice([other for other in agents if other is not agent])
            clock.now = t + 5
            await shift.deliver(agent, event("Incoming", t + 5), shows_caller=True)
            await shift.deliver(agent, event("Active", t + 8), shows_caller=True)
            t += 8
        await shift.deliver(agent, event("Disconnected", t + 60), shows_caller=False)
        await shift.deliver(agent, event("Disconnected", t + 90, FinalState="True"), shows_caller=False)
    crm_calls = len(crm.asked)
    reduction = 1 - crm_calls / shift.naive_lookups
    report(
        f"cache reduction: {calls} calls, 40 agents, 4 h simulated, 3 holds a call, {transfers} transfers, "
        f"{reloads} reloads; naive lookups (one per interaction:updated) {shift.naive_lookups}, events showing "
        f"the caller {shift.shown_lookups}, panel lookups to the proxy {shift.panel_lookups}, CRM calls "
        f"{crm_calls}: {reduction:.1%} fewer than one CRM call per lookup "
        f"({1 - crm_calls / shift.shown_lookups:.1%} fewer than one per event showing the caller, "
        f"{1 - crm_calls / shift.panel_lookups:.1%} fewer than the panels' own lookups); oldest answer served "
        f"{shift.oldest_answer_s:.0f} s (TTL {HIT_TTL_S:.0f} s hits, {MISS_TTL_S:.0f} s misses)"
    )
    assert shift.oldest_allowed_s <= 0, "an answer older than its TTL was served"
    assert reduction >= 0.9
