"""Browser tests: the real demo (proxy + demo CRM processes) driven in Debian's Chromium."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Frame, Page, Request

from proxy.demo.launcher import ServiceDidNotStart, free_port, stop_group, wait_until_healthy

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any name but the loopback ones fails to resolve: a request that tries to leave the machine fails loudly.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.localhost",
]
SERVER_START_DEADLINE_S = 60.0
PANEL_READY_TIMEOUT_MS = 60_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@dataclass(frozen=True)
class DemoServer:
    port: int
    log: Path

    @property
    def desktop_url(self) -> str:
        return f"http://localhost:{self.port}/desktop"

    @property
    def panel_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def crm_searches(self) -> int:
        """How many times the demo CRM has been searched (to count CRM calls)."""
        response = httpx.get(f"http://127.0.0.1:{self.port}/demo/crm-stats", timeout=5)
        response.raise_for_status()
        return int(response.json()["contact_searches"])

    def set_crm_behaviour(self, delay_ms: int = 0, fail_status: int = 0, **more: int) -> None:
        body = {"delay_ms": delay_ms, "fail_status": fail_status, **more}
        response = httpx.put(f"http://127.0.0.1:{self.port}/demo/crm-behaviour", json=body, timeout=5)
        response.raise_for_status()

    def crm_records(self) -> dict[str, list[dict[str, Any]]]:
        """Every call log and task in the demo CRM."""
        response = httpx.get(f"http://127.0.0.1:{self.port}/demo/crm-records", timeout=5)
        response.raise_for_status()
        return dict(response.json())


def start_demo(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """`python -m proxy --demo`, exactly as `make demo` runs it; returns once it answers."""
    log = workdir / "demo.log"
    env = {**os.environ, "PANEL_DEMO_DATA_DIR": str(workdir)}
    with log.open("a") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "--demo", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops the demo CRM too
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", SERVER_START_DEADLINE_S, process)
    except ServiceDidNotStart as error:
        stop_group(process)
        pytest.fail(f"the demo did not start: {error}\n{log.read_text()[-3000:]}")
    return process


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo on a free port, shared by the browser tests."""
    workdir = tmp_path_factory.mktemp("demo")
    port = free_port("127.0.0.1")
    process = start_demo(port, workdir)
    yield DemoServer(port=port, log=workdir / "demo.log")
    stop_group(process)


@dataclass
class Desktop:
    """The simulated CXone Agent desktop with the panel in its iframe.

    Predicates for ``wait_for_function`` are always functions (``"() => ..."``): Playwright compiles a bare
    expression with eval inside the page once it has to poll, which the desktop's CSP (rightly) refuses."""

    page: Page
    server: DemoServer
    requests: list[Request] = field(default_factory=list)

    @property
    def panel(self) -> Frame:
        frame = self.page.frame(name="panel")
        assert frame is not None, "the panel iframe is missing"
        return frame

    def open(self, query: str = "") -> "Desktop":
        self.page.on("request", lambda request: self.requests.append(request))
        self.page.goto(self.server.desktop_url + query)
        return self

    def wait_ready(self) -> "Desktop":
        self.panel.wait_for_selector(
            '#panel:not([data-state="booting"])', state="attached", timeout=PANEL_READY_TIMEOUT_MS
        )
        return self

    def reload_panel(self) -> None:
        """Reload the panel's frame and wait until the new document (not the old one) is ready."""
        self.start_panel_reload()
        self.wait_panel_reloaded()

    def start_panel_reload(self) -> None:
        self.panel.evaluate("() => { window.__beforeReload = true; location.reload(); }")

    def wait_panel_reloaded(self) -> None:
        self.panel.wait_for_function(
            "() => !window.__beforeReload && document.querySelector('#panel')?.dataset.state !== 'booting'",
            timeout=PANEL_READY_TIMEOUT_MS,
        )

    def ring(self, ani: str, **options: Any) -> str:
        return str(self.page.evaluate("(options) => desktop.ring(options)", {"ani": ani, **options}))

    def call(self, method: str, *args: Any) -> Any:
        return self.page.evaluate(f"(args) => desktop.{method}(...args)", list(args))

    def wait_panel(self, state: str, interaction_id: str = "", timeout_ms: float = 10_000) -> None:
        selector = f'#panel[data-state="{state}"]'
        if interaction_id:
            selector += f'[data-interaction-id="{interaction_id}"]'
        self.panel.wait_for_selector(selector, state="attached", timeout=timeout_ms)

    def attribute(self, name: str) -> str:
        return self.panel.get_attribute("#panel", name) or ""

    def text(self, field_name: str) -> str:
        return self.panel.locator(f'[data-field="{field_name}"]').text_content() or ""

    def wait_agent_text(self, text: str, timeout_ms: float = 10_000) -> None:
        self.panel.wait_for_function(
            "(text) => document.querySelector('[data-field=agent]').textContent === text", arg=text, timeout=timeout_ms
        )

    def wait_shown(self, interaction_id: str, state: str = "loaded", timeout_ms: float = 10_000) -> None:
        self.wait_panel(state, interaction_id, timeout_ms)

    def custom_data(self, contact_id: str) -> list[dict[str, Any]]:
        """Custom data CXone (simulated) received for a contact, oldest first."""
        return [record for record in self.call("customData") if record["contact_id"] == contact_id]

    def wait_custom_data(self, contact_id: str, count: int, timeout_ms: float = 15_000) -> list[dict[str, Any]]:
        """Wait until CXone has received ``count`` custom-data posts for the contact."""
        self.page.wait_for_function(
            "async ([id, count]) => (await desktop.customData()).filter((r) => r.contact_id === id).length >= count",
            arg=[contact_id, count],
            polling=200,
            timeout=timeout_ms,
        )
        return self.custom_data(contact_id)

    def render_count(self) -> int:
        return int(self.attribute("data-render-count") or 0)

    def lookups(self) -> list[str]:
        return [request.url for request in self.requests if "/crm/contact" in request.url]


@pytest.fixture
def desktop(page: Page, demo_server: DemoServer) -> Iterator[Desktop]:
    demo_server.set_crm_behaviour()
    yield Desktop(page, demo_server)
    demo_server.set_crm_behaviour()


@pytest.fixture
def ready_desktop(desktop: Desktop) -> Desktop:
    return desktop.open().wait_ready()
