"""Two proxy replicas sharing one real Redis (Debian's redis-server, installed by `make test`).

Each replica is ``python -m proxy`` in its own process, in front of one demo CRM service: a lookup
cached by one is served by the other, an action sent to one and retried at the other lands once, a
draft saved through one is read through the other, and the CRM's budget is one budget for both.
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from proxy.auth import SESSION_COOKIE, AgentSessions
from proxy.demo.launcher import free_port, stop_group, wait_until_healthy

from .conftest import runtime_stub

REPO = Path(__file__).resolve().parents[2]
SECRET = secrets.token_urlsafe(40)
CRM_TOKEN = secrets.token_urlsafe(24)
START_DEADLINE_S = 30.0
CALL_LOG = {
    "interaction_id": "910001",
    "crm_id": "c-1001",
    "subject": "Inbound call +14155550123",
    "notes": "replica test",
    "disposition": "",
    "direction": "inbound",
    "duration_s": 61,
}


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: `make redis` (make test does) installs Debian's package")
    port = free_port("127.0.0.1")
    workdir = tmp_path_factory.mktemp("redis")
    process = start(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        workdir / "redis.log",
        dict(os.environ),
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop_group(process)
                pytest.fail("redis-server did not start")
            time.sleep(0.05)  # polling for the server to listen, bounded by the deadline
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    stop_group(process)


@pytest.fixture(scope="module")
def crm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("crm")
    port = free_port("127.0.0.1")
    command = [sys.executable, "-m", "proxy.demo.crm_service", "--port", str(port), "--db", str(workdir / "crm.db")]
    process = start(command, workdir / "crm.log", {**os.environ, "DEMO_CRM_TOKEN": CRM_TOKEN})
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(f"{url}/healthz", START_DEADLINE_S, process)
    yield url
    stop_group(process)


@dataclass
class Replicas:
    urls: list[str]
    crm_url: str

    def client(self, index: int) -> httpx.Client:
        cookie = AgentSessions(SECRET, 600).issue("agent-7")
        return httpx.Client(base_url=self.urls[index], headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, timeout=10)

    def crm_stats(self) -> dict[str, int]:
        response = httpx.get(f"{self.crm_url}/admin/stats", headers={"Authorization": f"Bearer {CRM_TOKEN}"})
        return dict(response.json())

    def call_logs(self, interaction_id: str) -> list[dict[str, object]]:
        response = httpx.get(f"{self.crm_url}/admin/records", headers={"Authorization": f"Bearer {CRM_TOKEN}"})
        return [log for log in response.json()["call_logs"] if log["external_id"] == interaction_id]


@pytest.fixture
def replicas(request: pytest.FixtureRequest, redis_url: str, crm_url: str, tmp_path: Path) -> Iterator[Replicas]:
    """Two proxies on one Redis; ``@pytest.mark.parametrize("replicas", [rate], indirect=True)`` sets the budget."""
    redis.Redis.from_url(redis_url).flushall()
    rate = getattr(request, "param", "1000/second")
    env = {
        **os.environ,
        "PANEL_SESSION_SECRET": SECRET,
        "PANEL_PUBLIC_URL": "https://panel.example.com",
        "PANEL_CRM_URL": crm_url,
        "PANEL_CRM_TOKEN": CRM_TOKEN,
        "PANEL_REDIS_URL": redis_url,
        "PANEL_CRM_RATE_LIMIT": rate,
        "PANEL_CRM_QUEUE_WAIT_S": "0",
        "PANEL_RUNTIME_DIR": str(runtime_stub(tmp_path)),
        "PANEL_STATE_DIR": str(tmp_path / "state"),
    }
    processes, urls = [], []
    try:
        for index in range(2):
            port = free_port("127.0.0.1")
            processes.append(
                start([sys.executable, "-m", "proxy", "--port", str(port)], tmp_path / f"proxy{index}.log", env)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_until_healthy(f"{url}/healthz", START_DEADLINE_S, process)
        yield Replicas(urls, crm_url)
    finally:
        for process in processes:
            stop_group(process)


def test_a_lookup_cached_by_one_replica_is_served_by_the_other(replicas: Replicas) -> None:
    before = replicas.crm_stats()["contact_searches"]
    with replicas.client(0) as first, replicas.client(1) as second:
        assert first.get("/crm/contact", params={"key": "+14155550123"}).json()["matches"][0]["id"] == "c-1001"
        assert second.get("/crm/contact", params={"key": "(415) 555-0123"}).json()["matches"][0]["id"] == "c-1001"
    assert replicas.crm_stats()["contact_searches"] == before + 1


def test_a_contact_update_through_one_replica_evicts_the_answer_the_other_cached(replicas: Replicas) -> None:
    update = {"interaction_id": "910003", "crm_id": "c-1003", "fields": {"company": "Bletchley Park Trust"}}
    with replicas.client(0) as first, replicas.client(1) as second:
        assert first.get("/crm/contact", params={"key": "+442079460018"}).status_code == 200
        searches = replicas.crm_stats()["contact_searches"]
        changed = second.post(
            "/crm/actions/contact_update", json=update, headers={"Idempotency-Key": "910003:contact_update:c-1003:r1"}
        )
        assert changed.status_code == 201
        again = first.get("/crm/contact", params={"key": "+442079460018"}).json()
    assert again["matches"][0]["company"] == "Bletchley Park Trust"
    assert replicas.crm_stats()["contact_searches"] == searches + 1  # asked the CRM again, not the stale cache


def test_an_action_sent_to_one_and_retried_at_the_other_lands_once(replicas: Replicas) -> None:
    key = "910001:call_log:c-1001:replicas01"
    with replicas.client(0) as first, replicas.client(1) as second:
        landed = first.post("/crm/actions/call_log", json=CALL_LOG, headers={"Idempotency-Key": key})
        retried = second.post("/crm/actions/call_log", json=CALL_LOG, headers={"Idempotency-Key": key})
        changed = second.post(
            "/crm/actions/call_log", json={**CALL_LOG, "notes": "other"}, headers={"Idempotency-Key": key}
        )
    assert landed.status_code == retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true" and retried.json() == landed.json()
    assert changed.status_code == 422
    (log,) = replicas.call_logs("910001")
    assert log["revisions"] == 1


def test_a_draft_saved_through_one_is_read_through_the_other(replicas: Replicas) -> None:
    with replicas.client(0) as first, replicas.client(1) as second:
        assert first.put("/crm/drafts/910002", json={"notes": "call back after 5"}).status_code == 204
        assert second.get("/crm/drafts").json() == {"drafts": {"910002": "call back after 5"}}


@pytest.mark.parametrize("replicas", ["4/minute"], indirect=True)
def test_the_crm_budget_is_one_budget_for_both_replicas(replicas: Replicas) -> None:
    answers = []
    with replicas.client(0) as first, replicas.client(1) as second:
        for index in range(8):  # distinct numbers: each one needs the CRM
            client = first if index % 2 == 0 else second
            answers.append(client.get("/crm/contact", params={"key": f"+1202555{index:04d}"}))
        readiness = [client.get("/readyz").json() for client in (first, second)]
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 4 and statuses.count(503) == 4, statuses
    assert all(answer.headers["retry-after"].isdigit() for answer in answers if answer.status_code == 503)
    assert all(report["checks"]["redis"] == "ok" for report in readiness)
