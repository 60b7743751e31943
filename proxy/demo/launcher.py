"""``python -m proxy --demo``: start the demo CRM service, then the proxy with the simulated desktop."""

import ctypes
import ctypes.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

from ..app import create_app
from ..settings import Settings

CRM_START_DEADLINE_S = 20.0
PR_SET_PDEATHSIG = 1  # prctl(2)
STOP_GRACE_S = 5.0


class ServiceDidNotStart(RuntimeError):
    """A child service exited or stayed silent past its start-up deadline."""


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, deadline_s: float, child: subprocess.Popen[bytes]) -> None:
    """Poll until the service answers 200, it exits, or the deadline passes."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if child.poll() is not None:
            raise ServiceDidNotStart(f"it exited with status {child.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling another process, bounded by the deadline
    raise ServiceDidNotStart(f"nothing answered at {url} within {deadline_s:.0f} s")


def stop(child: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """Ask a child to stop; kill it if it has not within the grace period."""
    child.terminate()
    try:
        child.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def stop_group(leader: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started (the demo
    proxy and its CRM child), killing the group if it has not stopped within the grace period."""
    for signal_number, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
        try:
            os.killpg(leader.pid, signal_number)
        except ProcessLookupError:
            break
        try:
            leader.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(leader.pid, signal.SIGKILL)  # a child that outlived its leader
    except ProcessLookupError:
        pass


def demo_session_secret(data_dir: Path) -> str:
    """The demo's session secret, kept in its data folder so a restart does not sign the panel out."""
    path = data_dir / "session-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_cxone_settings(port: int) -> dict[str, object]:
    """Credentials for the simulated CXone API this same process serves: fresh for every run."""
    base = f"http://127.0.0.1:{port}"
    return {
        "cxone_api_base": base,
        "cxone_token_url": f"{base}/auth/token",
        "cxone_client_id": "demo-panel",
        "cxone_client_secret": SecretStr(secrets.token_urlsafe(24)),
        "cxone_access_key_id": "demo-access-key",
        "cxone_access_key_secret": SecretStr(secrets.token_urlsafe(24)),
    }


def _die_with_parent() -> None:
    """In the demo CRM's process, before it runs: Linux ends it when the launcher dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through run_demo's `finally`, which stops the demo CRM


def run_demo(settings: Settings) -> None:
    crm_port = free_port(settings.host)
    token = secrets.token_urlsafe(32)
    database = settings.demo_data_dir / "democrm.sqlite3"
    command = [
        sys.executable,
        "-m",
        "proxy.demo.crm_service",
        "--host",
        settings.host,
        "--port",
        str(crm_port),
        "--db",
        str(database),
    ]
    child = subprocess.Popen(command, env={**os.environ, "DEMO_CRM_TOKEN": token}, preexec_fn=_die_with_parent)
    # uvicorn shuts down on SIGTERM and then re-raises it, which would end this process before the
    # `finally` below: this handler is what the re-raised signal reaches, so the CRM goes down with us.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        crm_url = f"http://{settings.host}:{crm_port}"
        try:
            wait_until_healthy(f"{crm_url}/healthz", CRM_START_DEADLINE_S, child)
        except ServiceDidNotStart as error:
            raise SystemExit(f"the demo CRM did not start: {error}") from None
        demo_settings = settings.model_copy(
            update={
                "crm_url": crm_url,
                "crm_token": SecretStr(token),
                "state_dir": settings.demo_data_dir / "state",
                "session_secret": settings.session_secret or SecretStr(demo_session_secret(settings.demo_data_dir)),
                **demo_cxone_settings(settings.port),
            }
        )
        app = create_app(demo_settings)
        print(f"\n  Simulated CXone Agent desktop: http://localhost:{settings.port}/desktop\n", flush=True)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, log_config=None)
    finally:
        stop(child)
