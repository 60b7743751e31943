"""The lookup cache in front of the CRM, and the drafts the proxy keeps for panel reloads."""

import asyncio
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from panel.models import CrmContact
from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.crm.cached import CachedCrm
from proxy.crm.lookup_cache import MemoryLookupCache
from proxy.drafts import DraftRoutes, MemoryDrafts

from .conftest import SECRET, FakeCrm


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_hits_and_misses_are_cached_for_their_own_time() -> None:
    inner, clock = FakeCrm(), Clock()
    crm = CachedCrm(inner, MemoryLookupCache(hit_ttl_s=300, miss_ttl_s=60, max_entries=100, clock=clock))
    for _ in range(3):
        assert (await crm.find_contacts_by_phone("+14155550123"))[0].id == "c-1"
        assert await crm.find_contacts_by_phone("+15555550000") == ()
    assert inner.asked == ["+14155550123", "+15555550000"]
    clock.now = 61  # the miss has expired, the hit has not
    await crm.find_contacts_by_phone("+14155550123")
    await crm.find_contacts_by_phone("+15555550000")
    assert inner.asked == ["+14155550123", "+15555550000", "+15555550000"]
    clock.now = 400
    await crm.find_contacts_by_phone("+14155550123")
    assert inner.asked[-1] == "+14155550123" and len(inner.asked) == 4


async def test_the_cache_is_bounded_and_failures_are_not_cached() -> None:
    inner = FakeCrm()
    crm = CachedCrm(inner, MemoryLookupCache(hit_ttl_s=300, miss_ttl_s=60, max_entries=2))
    for number in ("+1", "+2", "+3", "+1"):
        await crm.find_contacts_by_phone(number)
    assert inner.asked == ["+1", "+2", "+3", "+1"]  # +1 was evicted to stay within 2 entries
    inner.failure = RuntimeError("down")
    with pytest.raises(RuntimeError):
        await crm.find_contacts_by_phone("+4")
    inner.failure = None
    inner.contacts["+4"] = (CrmContact(id="c-4", name="Four"),)
    assert (await crm.find_contacts_by_phone("+4"))[0].id == "c-4"


def test_lookups_through_the_app_hit_the_crm_once(client: TestClient, crm: FakeCrm) -> None:
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue("agent-7"))
    for _ in range(5):
        assert client.get("/crm/contact", params={"key": "+1 415 555 0123"}).status_code == 200
    assert crm.asked == ["+14155550123"]


def as_agent(client: TestClient, agent_id: str) -> TestClient:
    client.cookies.set(SESSION_COOKIE, AgentSessions(SECRET, 600).issue(agent_id))
    return client


def test_drafts_round_trip_per_agent(client: TestClient) -> None:
    assert client.put("/crm/drafts/123", json={"notes": "x"}).status_code == 401
    as_agent(client, "agent-7")
    assert client.get("/crm/drafts/123").json() == {"notes": ""}
    assert client.put("/crm/drafts/123", json={"notes": "wants a refund"}).status_code == 204
    assert client.get("/crm/drafts/123").json() == {"notes": "wants a refund"}
    as_agent(client, "agent-8")
    assert client.get("/crm/drafts/123").json() == {"notes": ""}  # another agent's draft is not readable
    as_agent(client, "agent-7")
    assert client.put("/crm/drafts/123", json={"notes": ""}).status_code == 204
    assert client.get("/crm/drafts/123").json() == {"notes": ""}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/crm/drafts/123", {"notes": "x" * 20_001}),
        ("/crm/drafts/123", {"notes": 5}),
        ("/crm/drafts/123", {"notes": "x", "extra": 1}),
        ("/crm/drafts/bad%20id", {"notes": "x"}),
    ],
)
def test_bad_drafts_are_refused_and_change_nothing(client: TestClient, path: str, body: object) -> None:
    as_agent(client, "agent-7")
    client.put("/crm/drafts/123", json={"notes": "kept"})
    assert client.put(path, json=body).status_code == 422
    assert client.get("/crm/drafts/123").json() == {"notes": "kept"}


def test_creating_a_contact_normalises_the_phone_and_ends_the_cached_miss(client: TestClient, crm: FakeCrm) -> None:
    as_agent(client, "agent-7")
    assert client.get("/crm/contact", params={"key": "(212) 555-0100"}).json()["matches"] == []
    response = client.post("/crm/contacts", json={"first_name": "Kim", "last_name": "Lee", "phone": "(212) 555-0100"})
    assert response.status_code == 201 and response.json()["phone"] == "+12125550100"
    assert client.get("/crm/contact", params={"key": "+12125550100"}).json()["matches"][0]["name"] == "Kim Lee"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "", "last_name": "Lee", "phone": "+12125550100"}, "first_name"),
        ({"first_name": "Kim", "last_name": "Lee", "phone": "nope"}, "phone"),
        ({"first_name": "Kim", "last_name": "Lee", "phone": "+12125550100", "email": "not-an-email"}, "email"),
        ({"first_name": "Kim", "last_name": "Lee", "phone": "+12125550100", "admin": True}, "admin"),
    ],
)
def test_bad_new_contacts_are_422_naming_the_field(
    client: TestClient, crm: FakeCrm, body: dict[str, object], field: str
) -> None:
    as_agent(client, "agent-7")
    response = client.post("/crm/contacts", json=body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert "+12125550100" not in crm.contacts


def test_an_agent_lists_only_their_own_drafts(client: TestClient) -> None:
    as_agent(client, "agent-7")
    client.put("/crm/drafts/123", json={"notes": "mine"})
    client.put("/crm/drafts/124", json={"notes": "also mine"})
    as_agent(client, "agent-8")
    client.put("/crm/drafts/125", json={"notes": "theirs"})
    assert client.get("/crm/drafts").json() == {"drafts": {"125": "theirs"}}
    as_agent(client, "agent-7")
    assert client.get("/crm/drafts").json() == {"drafts": {"123": "mine", "124": "also mine"}}


def test_expired_drafts_are_not_listed() -> None:
    clock = Clock()
    storage = MemoryDrafts(max_drafts=10, ttl_s=60, clock=clock)
    asyncio.run(storage.put("agent-7", "1", "old"))
    clock.now = 30
    asyncio.run(storage.put("agent-7", "2", "new"))
    clock.now = 70  # the first has expired, the second has not
    request = SimpleNamespace(state=SimpleNamespace(agent=SimpleNamespace(agent_id="agent-7")))
    response = asyncio.run(DraftRoutes(storage).list_drafts(request))  # type: ignore[arg-type]
    assert response.body == b'{"drafts":{"2":"new"}}'


async def test_concurrent_lookups_of_one_number_share_one_crm_call() -> None:
    release = asyncio.Event()

    class SlowCrm(FakeCrm):
        async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
            self.asked.append(e164)
            await release.wait()
            return self.contacts.get(e164, ())

    inner = SlowCrm()
    crm = CachedCrm(inner, MemoryLookupCache(hit_ttl_s=300, miss_ttl_s=60, max_entries=100))
    lookups = [asyncio.create_task(crm.find_contacts_by_phone("+14155550123")) for _ in range(20)]
    while len(inner.asked) < 1:  # the first lookup reaches the CRM; the others join it
        await asyncio.sleep(0)
    release.set()
    answers = await asyncio.wait_for(asyncio.gather(*lookups), 5)
    assert inner.asked == ["+14155550123"] and {answer[0].id for answer in answers} == {"c-1"}


async def test_a_failed_shared_lookup_fails_every_waiter_and_is_not_cached() -> None:
    release = asyncio.Event()

    class FailingCrm(FakeCrm):
        async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
            self.asked.append(e164)
            await release.wait()
            raise ConnectionError("down")

    inner = FailingCrm()
    crm = CachedCrm(inner, MemoryLookupCache(hit_ttl_s=300, miss_ttl_s=60, max_entries=100))
    lookups = [asyncio.create_task(crm.find_contacts_by_phone("+14155550123")) for _ in range(5)]
    while not inner.asked:
        await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*lookups, return_exceptions=True), 5)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes) and len(inner.asked) == 1
    with pytest.raises(ConnectionError):
        await crm.find_contacts_by_phone("+14155550123")  # asked again: failures are not cached
    assert len(inner.asked) == 2
