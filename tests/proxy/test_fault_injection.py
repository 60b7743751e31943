"""1,000 CRM actions through the real proxy and the real demo CRM (over HTTP on loopback), with random
429s, 5xx, timeouts and duplicate sends: every action must be in the CRM exactly once, none missing.

The client retries as the panel's outbox does (bounded attempts, honouring 409/429/5xx/504); time is
compressed (the CRM's Retry-After is 0). The proxy's CRM deadline is shorter than the CRM's "slow"
fault, so some writes land after the proxy gave up: only the CRM's external id can stop those.
"""

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from proxy.app import create_app
from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.demo.crm_service import create_crm_app, seed_database
from proxy.demo.launcher import free_port
from proxy.settings import Settings

ACTIONS = 1000
CALL_LOGS, TASKS, UPDATES = 600, 250, 150
MAX_ATTEMPTS = 60
CONCURRENCY = 20
DUPLICATE_SHARE = 0.2
TOKEN = "crm-token-" + "x" * 20
SECRET = "s" * 40
RETRYABLE = {409, 429, 502, 503, 504}


@pytest.fixture
def crm_server(tmp_path: Path) -> Iterator[str]:
    """The demo CRM on a loopback port, in a thread of this process."""
    database = tmp_path / "crm.sqlite3"
    seed_database(database)
    port = free_port("127.0.0.1")
    server = uvicorn.Server(
        uvicorn.Config(create_crm_app(database, TOKEN), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    give_up = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < give_up, "the demo CRM did not start"
        time.sleep(0.02)  # waiting for a server thread we started, bounded above
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def actions(contact_ids: list[str]) -> list[tuple[str, dict[str, Any], str]]:
    """(type, payload, idempotency key) for every action; keys follow interaction, action and record."""
    planned: list[tuple[str, dict[str, Any], str]] = []
    for n in range(CALL_LOGS):
        crm_id = f"c-100{n % 9 + 1}"
        body = {
            "interaction_id": f"9{n:05d}",
            "crm_id": crm_id,
            "subject": f"Call {n}",
            "notes": f"notes {n}",
            "direction": "inbound",
            "duration_s": n % 600,
        }
        planned.append(("call_log", body, f"9{n:05d}:call_log:{crm_id}:r1"))
    for n in range(TASKS):
        crm_id = f"c-100{n % 9 + 1}"
        body = {"interaction_id": f"8{n:05d}", "crm_id": crm_id, "title": f"Follow up {n}", "due_date": "2026-12-24"}
        planned.append(("task", body, f"8{n:05d}:task:{crm_id}:t{n}"))
    for n, contact_id in enumerate(contact_ids[:UPDATES]):
        body = {"interaction_id": f"7{n:05d}", "crm_id": contact_id, "fields": {"company": f"Company {n}"}}
        planned.append(("contact_update", body, f"7{n:05d}:contact_update:{contact_id}:u1"))
    assert len(planned) == ACTIONS
    return planned


async def deliver(client: httpx.AsyncClient, action: tuple[str, dict[str, Any], str], tally: Counter[str]) -> str:
    action_type, body, key = action
    for _ in range(MAX_ATTEMPTS):
        tally["attempts"] += 1
        try:
            response = await client.post(f"/crm/actions/{action_type}", json=body, headers={"Idempotency-Key": key})
        except httpx.TimeoutException:
            tally["client timeouts"] += 1
            continue
        if response.status_code == 201:
            tally["replayed"] += response.headers.get("idempotent-replayed") == "true"
            return str(response.json()["record_id"])
        assert response.status_code in RETRYABLE, f"{action_type} {key}: {response.status_code} {response.text}"
        tally[f"http {response.status_code}"] += 1
        # Compressed time: the real outbox waits Retry-After or backs off. A 409 means the same action is
        # in flight; it ends within the proxy's CRM deadline, so wait a fraction of that.
        await asyncio.sleep(0.02 if response.status_code == 409 else 0)
    raise AssertionError(f"{key} was not delivered in {MAX_ATTEMPTS} attempts")


async def run_all(proxy: httpx.AsyncClient, planned: list[tuple[str, dict[str, Any], str]], seed: int) -> Counter[str]:
    tally: Counter[str] = Counter()
    chooser = random.Random(seed)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(action: tuple[str, dict[str, Any], str]) -> None:
        async with gate:
            copies = 2 if chooser.random() < DUPLICATE_SHARE else 1  # a second tab sending the same action
            tally["duplicate sends"] += copies - 1
            record_ids = await asyncio.gather(*(deliver(proxy, action, tally) for _ in range(copies)))
            assert len(set(record_ids)) == 1, f"{action[2]} answered with two records: {record_ids}"

    await asyncio.gather(*(one(action) for action in planned))
    return tally


async def test_a_thousand_actions_through_random_faults_land_exactly_once(
    crm_server: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    admin = httpx.AsyncClient(base_url=crm_server, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    contact_ids = []
    for n in range(UPDATES):
        created = await admin.post(
            "/api/contacts", json={"first_name": "Fault", "last_name": f"Test {n}", "phone_e164": f"+1312555{n:04d}"}
        )
        contact_ids.append(created.json()["id"])
    chaos = {"chaos_rate": 0.3, "chaos_delay_ms": 300, "chaos_seed": 20261204}
    assert (await admin.put("/admin/behaviour", json=chaos)).status_code == 200

    settings = Settings(
        session_secret=SECRET,
        crm_url=crm_server,
        crm_token=TOKEN,
        public_url="https://panel.example.com",
        crm_timeout_s=0.15,
        runtime_dir=tmp_path / "runtime",
        state_dir=tmp_path / "state",
    )
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "DIGEST").write_text("test\n")
    app = create_app(settings)
    session = AgentSessions(SECRET, 600).issue("agent-fault")
    proxy = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://panel.example.com",
        cookies={SESSION_COOKIE: session},
        timeout=5,
    )
    planned = actions(contact_ids)
    started = time.monotonic()
    tally = await run_all(proxy, planned, seed=7)
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.5)  # let "slow" CRM requests the proxy gave up on finish writing
    records = (await admin.get("/admin/records")).json()
    stats = (await admin.get("/admin/stats")).json()
    await proxy.aclose()

    logs = Counter(log["external_id"] for log in records["call_logs"])
    tasks = Counter(task["external_id"] for task in records["tasks"])
    expected_logs = {body["interaction_id"] for kind, body, _ in planned if kind == "call_log"}
    expected_tasks = {key for kind, _, key in planned if kind == "task"}
    assert set(logs) == expected_logs and max(logs.values()) == 1  # every call log, once
    assert set(tasks) == expected_tasks and max(tasks.values()) == 1  # every task, once
    await admin.put("/admin/behaviour", json={})
    everyone = (await admin.get("/api/contacts")).json()["results"]
    companies = {contact["id"]: contact["company"] for contact in everyone}
    missing_updates = [
        cid for n, cid in enumerate(contact_ids) if cid in companies and companies[cid] != f"Company {n}"
    ]
    await admin.aclose()
    report(
        f"fault injection: {ACTIONS} actions ({CALL_LOGS} call logs, {TASKS} tasks, {UPDATES} contact updates) in {elapsed:.1f} s; "
        f"CRM faults injected {dict(sorted(stats['chaos'].items()))}; proxy answers {dict(sorted((k, v) for k, v in tally.items() if k.startswith('http')))}; "
        f"{tally['duplicate sends']} duplicate sends, {tally['replayed']} replayed responses, "
        f"{stats['guard_hits']} late CRM writes stopped by external ids; {tally['attempts']} attempts in all; "
        f"in the CRM: {len(logs)} call logs, {len(tasks)} tasks, 0 duplicates, 0 missing"
    )
    assert missing_updates == []
    assert stats["guard_hits"] > 0  # the run did exercise writes that landed after the proxy gave up
