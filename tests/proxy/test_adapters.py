"""One adapter suite, three CRMs: live BottleCRM, and local Salesforce and HubSpot fakes.

Every adapter must find a caller by any spelling of their number, create a contact, log a call and
update (not duplicate) that log when the notes change, update the contact, create a task, and
report readiness. Then each CRM's own ways of failing: tokens, rate limits, refused fields.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from panel.action_models import CallLog, ContactFields, ContactUpdate, FollowUpTask
from panel.models import Direction, NewContact
from proxy.crm.base import CrmAdapter, CrmError, CrmRateLimited, CrmRejected
from proxy.crm.bottlecrm import BottleCrmAdapter
from proxy.crm.bottlecrm import refused_credentials as bottlecrm_refused
from proxy.crm.credentials import MintedToken, SalesforceTokenEndpoint, StaticToken
from proxy.crm.hubspot import HubSpotAdapter
from proxy.crm.hubspot import rate_limited as hubspot_rate_limited
from proxy.crm.salesforce import LimitWatcher, SalesforceAdapter
from proxy.crm.salesforce import rate_limited as salesforce_rate_limited
from proxy.crm.transport import CrmTransport
from proxy.metrics import ProxyMetrics
from proxy.tokens import TokenCache
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import INSTANCE_URL, FakeSalesforce
from tests.live.bottlecrm import LiveBottleCrm, start_bottlecrm

NUMBERS = itertools.count(100)  # every test its own callers, so tests never see each other's records


def fresh_number() -> tuple[str, str]:
    """A new caller number: E.164, and the way a person typed it into the CRM."""
    line = next(NUMBERS)
    return f"+1415555{line:04d}", f"(415) 555-{line:04d}"


@dataclass
class Crm:
    """An adapter, and a back door into its CRM to arrange and check records."""

    adapter: CrmAdapter
    seed: Callable[[str, str, str], str]  # first, last, phone as typed -> record id
    call_logs: Callable[[str], list[tuple[str, str]]]  # record id -> [(subject, notes)]
    email_of: Callable[[str], str]
    tasks: Callable[[str], list[str]]  # record id -> titles


# ----- the three CRMs -----


@pytest.fixture(scope="session")
def bottlecrm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBottleCrm]:
    server = start_bottlecrm(tmp_path_factory.mktemp("bottlecrm"))
    yield server
    server.stop()


def bottlecrm(server: LiveBottleCrm, metrics: ProxyMetrics) -> Crm:
    http = httpx.AsyncClient(base_url=server.url, timeout=10)
    transport = CrmTransport(
        "bottlecrm", http, StaticToken(server.token), metrics=metrics, credentials_refused=bottlecrm_refused
    )
    back = server.client()

    def seed(first: str, last: str, phone: str) -> str:
        created = back.post("/api/contacts/", json={"first_name": first, "last_name": last, "phone": phone})
        created.raise_for_status()
        return str(created.json()["id"])

    def call_logs(contact_id: str) -> list[tuple[str, str]]:
        found = back.get("/api/interactions/", params={"contact": contact_id}).json()["interactions"]
        return [(item["subject"], item["body"]) for item in found if item["kind"] == "call"]

    def tasks(contact_id: str) -> list[str]:
        return [task["title"] for task in back.get("/api/tasks/", params={"contacts": contact_id}).json()["tasks"]]

    return Crm(
        BottleCrmAdapter(transport, {}, "US"),
        seed,
        call_logs,
        lambda contact_id: str(back.get(f"/api/contacts/{contact_id}/").json()["contact_obj"]["email"] or ""),
        tasks,
    )


def salesforce(fake: FakeSalesforce, metrics: ProxyMetrics) -> Crm:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url=INSTANCE_URL)
    endpoint = SalesforceTokenEndpoint(http, INSTANCE_URL, "sf-client", 3600, client_secret="sf-secret")
    transport = CrmTransport(
        "salesforce",
        http,
        MintedToken(TokenCache(endpoint)),
        metrics=metrics,
        rate_limited=salesforce_rate_limited,
        observe=LimitWatcher(metrics),
    )
    return Crm(
        SalesforceAdapter(transport, {}, "US"),
        lambda first, last, phone: fake.add_contact(first, last, phone),
        lambda who: [
            (t["Subject"], t["Description"])
            for t in fake.tasks.values()
            if t.get("TaskSubtype") == "Call" and t["WhoId"] == who
        ],
        lambda contact_id: str(fake.contacts[contact_id].get("Email") or ""),
        lambda who: [t["Subject"] for t in fake.tasks.values() if t.get("TaskSubtype") != "Call" and t["WhoId"] == who],
    )


def hubspot(fake: FakeHubSpot, metrics: ProxyMetrics) -> Crm:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url="https://api.hubapi.com")
    transport = CrmTransport(
        "hubspot", http, StaticToken(fake.token), metrics=metrics, rate_limited=hubspot_rate_limited
    )

    def associated(kind: str, contact_id: str) -> list[dict[str, Any]]:
        return [fake.records[kind][rid] for (k, rid, to, _) in fake.associations if k == kind and to == contact_id]

    return Crm(
        HubSpotAdapter(transport, {}, "US"),
        lambda first, last, phone: fake.add_contact(first, last, phone),
        lambda contact_id: [(c["hs_call_title"], c["hs_call_body"]) for c in associated("calls", contact_id)],
        lambda contact_id: str(fake.records["contacts"][contact_id].get("email") or ""),
        lambda contact_id: [t["hs_task_subject"] for t in associated("tasks", contact_id)],
    )


@pytest.fixture(params=["bottlecrm", "salesforce", "hubspot"])
async def crm(request: pytest.FixtureRequest) -> AsyncIterator[Crm]:
    metrics = ProxyMetrics()
    if request.param == "bottlecrm":
        chosen = bottlecrm(request.getfixturevalue("bottlecrm_server"), metrics)
    elif request.param == "salesforce":
        chosen = salesforce(FakeSalesforce("sf-client", "sf-secret"), metrics)
    else:
        chosen = hubspot(FakeHubSpot("pat-na1-test"), metrics)
    yield chosen
    await chosen.adapter.aclose()


# ----- the contract every adapter keeps -----


async def test_a_caller_is_found_by_any_spelling_of_their_number(crm: Crm) -> None:
    e164, typed = fresh_number()
    record = crm.seed("Ada", "Lovelace", typed)
    (found,) = await crm.adapter.find_contacts_by_phone(e164)
    assert (found.id, found.name, found.crm) == (record, "Ada Lovelace", crm.adapter.name)
    assert await crm.adapter.find_contacts_by_phone(fresh_number()[0]) == ()


async def test_a_created_contact_is_found_next(crm: Crm) -> None:
    e164, _ = fresh_number()
    created = await crm.adapter.create_contact(
        NewContact(first_name="Grace", last_name="Hopper", phone=e164, email="grace@example.org")
    )
    (found,) = await crm.adapter.find_contacts_by_phone(e164)
    assert found.id == created.id and found.name == "Grace Hopper"


async def test_a_call_log_is_written_once_and_updated_when_the_notes_change(crm: Crm) -> None:
    e164, typed = fresh_number()
    record = crm.seed("Alan", "Turing", typed)
    log = CallLog(
        interaction_id=f"7{next(NUMBERS)}",
        crm_id=record,
        subject=f"Inbound call {e164}",
        notes="asked about the invoice",
        direction=Direction.INBOUND,
        duration_s=185,
    )
    first = await crm.adapter.log_call(log)
    second = await crm.adapter.log_call(log.model_copy(update={"notes": "invoice re-sent during wrap-up"}))
    assert first == second
    ((subject, notes),) = crm.call_logs(record)
    assert notes == "invoice re-sent during wrap-up" and f"Inbound call {e164}" in subject


async def test_a_contact_update_and_a_task_land_on_the_record(crm: Crm) -> None:
    _, typed = fresh_number()
    record = crm.seed("Katherine", "Johnson", typed)
    update = ContactUpdate(interaction_id="71", crm_id=record, fields=ContactFields(email="kj@example.org"))
    assert await crm.adapter.update_contact(update) == record
    assert crm.email_of(record) == "kj@example.org"
    task = FollowUpTask(interaction_id="71", crm_id=record, title="Send the orbit tables", due_date=date(2026, 12, 11))
    await crm.adapter.create_task(task, external_id="71:task:x:1")
    assert crm.tasks(record) == ["Send the orbit tables"]


async def test_the_adapter_reports_ready(crm: Crm) -> None:
    await crm.adapter.ready()


# ----- Salesforce: tokens, sessions, limits -----


async def test_salesforce_mints_once_and_reminds_once_after_invalid_session() -> None:
    fake, metrics = FakeSalesforce("sf-client", "sf-secret"), ProxyMetrics()
    crm = salesforce(fake, metrics)
    _, typed = fresh_number()
    crm.seed("Ada", "Lovelace", typed)
    await asyncio.gather(*(crm.adapter.ready() for _ in range(10)))
    assert fake.mints == 1  # ten callers, one token
    fake.expire_sessions()  # INVALID_SESSION_ID on the next call
    await crm.adapter.ready()
    assert fake.mints == 2
    assert metrics.crm_api_usage.labels("salesforce")._value.get() == fake.api_calls / fake.api_limit


async def test_salesforce_request_limit_exceeded_is_a_rate_limit() -> None:
    fake = FakeSalesforce("sf-client", "sf-secret")
    crm = salesforce(fake, ProxyMetrics())
    await crm.adapter.ready()
    fake.daily_limit_exceeded = True
    with pytest.raises(CrmRateLimited) as raised:
        await crm.adapter.find_contacts_by_phone(fresh_number()[0])
    assert raised.value.retry_after_s >= 60


async def test_salesforce_wrong_client_secret_is_an_error_not_a_loop() -> None:
    fake = FakeSalesforce("sf-client", "sf-secret")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url=INSTANCE_URL)
    endpoint = SalesforceTokenEndpoint(http, INSTANCE_URL, "sf-client", 3600, client_secret="wrong")
    adapter = SalesforceAdapter(CrmTransport("salesforce", http, MintedToken(TokenCache(endpoint))), {}, "US")
    with pytest.raises(CrmError, match="invalid_client"):
        await adapter.ready()
    assert fake.api_calls == 0


async def test_salesforce_jwt_bearer_flow() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    fake = FakeSalesforce("sf-client", "unused", jwt_public_key=public_pem, jwt_username="proxy@example.com")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url=INSTANCE_URL)
    endpoint = SalesforceTokenEndpoint(
        http, INSTANCE_URL, "sf-client", 3600, jwt_username="proxy@example.com", jwt_private_key=private_pem
    )
    adapter = SalesforceAdapter(CrmTransport("salesforce", http, MintedToken(TokenCache(endpoint))), {}, "US")
    await adapter.ready()
    assert fake.mints == 1


async def test_salesforce_company_needs_a_mapped_field() -> None:
    fake = FakeSalesforce("sf-client", "sf-secret")
    crm = salesforce(fake, ProxyMetrics())
    record = crm.seed("Ada", "Lovelace", fresh_number()[1])
    update = ContactUpdate(interaction_id="71", crm_id=record, fields=ContactFields(company="Analytical Engines"))
    with pytest.raises(CrmRejected, match="PANEL_CRM_FIELD_MAP"):
        await crm.adapter.update_contact(update)
    mapped = SalesforceAdapter(crm.adapter._crm, {"company": "Title"}, "US")  # type: ignore[attr-defined]
    await mapped.update_contact(update)
    assert fake.contacts[record]["Title"] == "Analytical Engines"


# ----- HubSpot: 429 and tokens -----


async def test_hubspot_429_without_retry_after_waits_for_its_window() -> None:
    fake = FakeHubSpot("pat-na1-test")
    crm = hubspot(fake, ProxyMetrics())
    fake.rate_limit_next = 1
    with pytest.raises(CrmRateLimited) as raised:
        await crm.adapter.find_contacts_by_phone(fresh_number()[0])
    assert raised.value.retry_after_s == 10.0  # X-HubSpot-RateLimit-Interval-Milliseconds
    assert await crm.adapter.find_contacts_by_phone(fresh_number()[0]) == ()


async def test_hubspot_refused_token_is_an_error_without_a_retry() -> None:
    fake = FakeHubSpot("pat-na1-test")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url="https://api.hubapi.com")
    adapter = HubSpotAdapter(CrmTransport("hubspot", http, StaticToken("pat-na1-wrong")), {}, "US")
    with pytest.raises(CrmError, match="refused the proxy's credentials"):
        await adapter.ready()
    assert fake.requests == 1


async def test_bottlecrm_refused_token_is_an_error(bottlecrm_server: LiveBottleCrm) -> None:
    http = httpx.AsyncClient(base_url=bottlecrm_server.url, timeout=10)
    transport = CrmTransport("bottlecrm", http, StaticToken("bcrm_pat_wrong"), credentials_refused=bottlecrm_refused)
    with pytest.raises(CrmError, match="refused the proxy's credentials"):
        await BottleCrmAdapter(transport, {}, "US").ready()
    await http.aclose()
    repo = Path(__file__).resolve().parents[2]
    assert not (repo / "server.log").exists() and not (repo / "security_audit.log").exists()  # its logs stay in tmp


# ----- mutual TLS -----


async def test_mutual_tls_to_the_crm(tmp_path: Path) -> None:
    from tests.live.tls_server import serve_tls

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("panel-proxy.example.com")
    fake = FakeHubSpot("pat-na1-test")
    async with serve_tls(fake.app(), ca, server_cert, tmp_path) as url:
        from proxy.crm.factory import tls_context
        from proxy.settings import Settings

        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        client_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
        with_cert = Settings(
            demo=True,
            crm_url=url,
            crm_ca_bundle=tmp_path / "ca.pem",
            crm_client_cert=tmp_path / "client.pem",
            crm_client_key=tmp_path / "client.pem",
        )
        without_cert = Settings(demo=True, crm_url=url, crm_ca_bundle=tmp_path / "ca.pem")
        async with httpx.AsyncClient(base_url=url, verify=tls_context(with_cert)) as http:
            adapter = HubSpotAdapter(CrmTransport("hubspot", http, StaticToken(fake.token)), {}, "US")
            await adapter.ready()
        async with httpx.AsyncClient(base_url=url, verify=tls_context(without_cert)) as http:
            adapter = HubSpotAdapter(CrmTransport("hubspot", http, StaticToken(fake.token)), {}, "US")
            with pytest.raises(CrmError, match="unreachable"):
                await adapter.ready()  # the server requires a client certificate
        async with httpx.AsyncClient(base_url=url) as http:  # the system CAs do not know this CA
            adapter = HubSpotAdapter(CrmTransport("hubspot", http, StaticToken(fake.token)), {}, "US")
            with pytest.raises(CrmError, match="unreachable"):
                await adapter.ready()
    assert fake.requests == 1  # only the client with a certificate got through
