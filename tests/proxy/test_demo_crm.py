"""The demo CRM service and the adapter that speaks to it, joined by an httpx transport."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from proxy.crm.base import CrmError, CrmTimeout
from proxy.crm.credentials import StaticToken
from proxy.crm.demo import DemoCrmAdapter
from proxy.crm.transport import CrmTransport
from proxy.demo.crm_service import create_crm_app, seed_database

TOKEN = "t" * 24


def demo_adapter(client: httpx.AsyncClient, token: str = TOKEN) -> DemoCrmAdapter:
    return DemoCrmAdapter(CrmTransport("demo", client, StaticToken(token)))


@pytest.fixture
async def crm_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = tmp_path / "crm.sqlite3"
    seed_database(database)  # the service's lifespan does this when it runs for real
    return create_crm_app(database, TOKEN)


@pytest.fixture
async def adapter(crm_app) -> AsyncIterator[DemoCrmAdapter]:  # type: ignore[no-untyped-def]
    adapter = demo_adapter(httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_app), base_url="http://crm"))
    yield adapter
    await adapter.aclose()


async def test_finds_a_contact_by_e164(adapter: DemoCrmAdapter) -> None:
    (contact,) = await adapter.find_contacts_by_phone("+14155550123")
    assert (contact.id, contact.name, contact.company, contact.crm) == (
        "c-1001",
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "demo",
    )


async def test_shared_and_international_numbers(adapter: DemoCrmAdapter) -> None:
    shared = await adapter.find_contacts_by_phone("+12025550142")
    assert [contact.id for contact in shared] == ["c-1005", "c-1006"]
    assert [c.name for c in await adapter.find_contacts_by_phone("+442079460018")] == ["Alan Turing"]
    assert await adapter.find_contacts_by_phone("+15555550000") == ()


async def test_wrong_token_is_refused(crm_app) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_app), base_url="http://crm") as client:
        assert (await client.get("/api/contacts")).status_code == 403
        adapter = demo_adapter(client, token="")
        with pytest.raises(CrmError, match="403"):
            await adapter.find_contacts_by_phone("+14155550123")


async def test_told_to_fail_it_fails(adapter: DemoCrmAdapter, crm_app) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=crm_app), base_url="http://crm", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as admin:
        assert (await admin.put("/admin/behaviour", json={"fail_status": 503})).status_code == 200
        with pytest.raises(CrmError, match="503"):
            await adapter.find_contacts_by_phone("+14155550123")
        assert (await admin.put("/admin/behaviour", json={"fail_status": 200})).status_code == 422
        assert (await admin.put("/admin/behaviour", json={"delay_ms": -1})).status_code == 422
        assert (await admin.get("/admin/behaviour")).json()["fail_status"] == 503  # bad input changed nothing


async def test_told_to_be_slow_it_times_out(crm_app) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app=crm_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm", headers=headers) as admin:
        await admin.put("/admin/behaviour", json={"delay_ms": 2000})
    # ASGITransport ignores client timeouts, so bound the call from outside as the real client would.
    import asyncio

    async with httpx.AsyncClient(transport=transport, base_url="http://crm") as client:
        adapter = demo_adapter(client)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(adapter.find_contacts_by_phone("+14155550123"), 0.2)


async def test_transport_timeouts_become_crm_timeouts() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    adapter = demo_adapter(httpx.AsyncClient(transport=httpx.MockTransport(slow), base_url="http://crm"))
    with pytest.raises(CrmTimeout):
        await adapter.find_contacts_by_phone("+14155550123")


async def test_unreadable_answers_are_errors() -> None:
    adapter = demo_adapter(
        httpx.AsyncClient(
            transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<html>")), base_url="http://crm"
        )
    )
    with pytest.raises(CrmError, match="not JSON"):
        await adapter.find_contacts_by_phone("+14155550123")


async def test_creates_a_contact_that_lookups_then_find(adapter: DemoCrmAdapter) -> None:
    from panel.models import NewContact

    created = await adapter.create_contact(NewContact(first_name="Kim", last_name="Lee", phone="+12125550100"))
    assert created.name == "Kim Lee" and created.id.startswith("c-")
    assert [contact.id for contact in await adapter.find_contacts_by_phone("+12125550100")] == [created.id]
