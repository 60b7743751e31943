from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact
from proxy.app import create_app
from proxy.settings import Settings

SECRET = "s" * 40


class FakeCrm:
    """A CRM adapter that records what it was asked and answers from a table."""

    name = "fake"

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.contacts = {"+14155550123": (CrmContact(id="c-1", name="Ada Lovelace", crm="fake"),)}
        self.failure: Exception | None = None
        self.writes: list[tuple[str, str]] = []
        self.closed = False

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        self.asked.append(e164)
        if self.failure is not None:
            raise self.failure
        return self.contacts.get(e164, ())

    async def create_contact(self, contact: NewContact) -> CrmContact:
        if self.failure is not None:
            raise self.failure
        created = CrmContact(
            id=f"c-new-{len(self.contacts)}", name=f"{contact.first_name} {contact.last_name}", phone=contact.phone
        )
        self.contacts[contact.phone] = (created,)
        return created

    async def log_call(self, call_log: CallLog) -> str:
        return self._write("call_log", call_log.interaction_id)

    async def update_contact(self, update: ContactUpdate) -> str:
        return self._write("contact_update", update.crm_id)

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        return self._write("task", external_id)

    def _write(self, kind: str, external_id: str) -> str:
        if self.failure is not None:
            raise self.failure
        self.writes.append((kind, external_id))
        return f"{kind}-{len(self.writes)}"

    async def ready(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def aclose(self) -> None:
        self.closed = True


def runtime_stub(workdir: Path) -> Path:
    """A stand-in for the built Pyodide runtime: what the proxy checks for at start, nothing more."""
    runtime = workdir / "runtime"
    (runtime / "pyscript").mkdir(parents=True)
    (runtime / "DIGEST").write_text("abc123\n")
    (runtime / "pyodide.asm.wasm").write_bytes(b"\0asm")
    (runtime / "pyscript" / "core.js").write_text("export {};")
    return runtime


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    return runtime_stub(tmp_path)


@pytest.fixture
def settings(runtime_dir: Path) -> Settings:
    return Settings(
        demo=False,
        session_secret=SECRET,
        crm_url="http://crm.invalid",
        public_url="https://panel.example.com",
        desktop_origins="https://*.cxone.com http://localhost:8000",
        runtime_dir=runtime_dir,
        state_dir=runtime_dir.parent / "state",
    )


@pytest.fixture
def crm() -> FakeCrm:
    return FakeCrm()


@pytest.fixture
def client(settings: Settings, crm: FakeCrm) -> Iterator[TestClient]:
    with TestClient(create_app(settings, crm=crm), base_url="https://panel.example.com") as test_client:
        yield test_client
