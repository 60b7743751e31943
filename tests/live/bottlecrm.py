"""A live BottleCRM on loopback for the adapter suite: started from `make bottlecrm`'s venv and database.

The server runs on a copy of the migrated template database. Bootstrap as BottleCRM's own docs
describe for local development: ``devlogin`` mints a JWT for a new user, the API creates an
organisation and switches the user into it, and a personal access token is issued; the adapter
uses only that token, as a deployment would.
"""

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from proxy.demo.launcher import free_port, stop_group

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "build" / "bottlecrm"
DJANGO_ADMIN = HOME / "venv" / "bin" / "django-admin"
TEMPLATE_DB = HOME / "template.sqlite3"
START_DEADLINE_S = 90.0
AGENT_EMAIL = "panel-proxy@example.com"


class BottleCrmUnavailable(RuntimeError):
    pass


@dataclass
class LiveBottleCrm:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def stop(self) -> None:
        stop_group(self.process)


def start_bottlecrm(workdir: Path) -> LiveBottleCrm:
    if not DJANGO_ADMIN.exists() or not TEMPLATE_DB.exists():
        raise BottleCrmUnavailable("BottleCRM is not installed: run `make bottlecrm` (make test does)")
    database = workdir / "bottlecrm.sqlite3"
    shutil.copyfile(TEMPLATE_DB, database)
    env = {
        **os.environ,
        "BOTTLECRM_DB": str(database),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DEBUG": "True",
        "ENV_TYPE": "dev",
        "DJANGO_SETTINGS_MODULE": "bottlecrm_settings",
        "PYTHONPATH": str(REPO / "tests" / "live"),
    }
    port = free_port("127.0.0.1")
    log = workdir / "bottlecrm.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(DJANGO_ADMIN), "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=workdir,  # BottleCRM writes server.log and security_audit.log where it runs
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process, log)
        token = _personal_access_token(url, env, workdir)
    except BaseException:
        stop_group(process)
        raise
    return LiveBottleCrm(url, token, process, log)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BottleCrmUnavailable(f"BottleCRM exited: {log.read_text()[-2000:]}")
        try:
            httpx.get(f"{url}/api/contacts/", timeout=2)  # any answer (403 without a token) means it serves
            return
        except httpx.TransportError:
            time.sleep(0.2)  # polling a starting server, bounded by the deadline
    raise BottleCrmUnavailable(f"BottleCRM did not answer within {START_DEADLINE_S} s")


def _personal_access_token(url: str, env: dict[str, str], workdir: Path) -> str:
    minted = subprocess.run(
        [str(DJANGO_ADMIN), "devlogin", AGENT_EMAIL, "--create"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tokens = dict(
        line.split(":", 1) for line in minted.splitlines() if line.startswith(("access_token", "refresh_token"))
    )
    access, refresh = tokens["access_token"].strip(), tokens["refresh_token"].strip()
    with httpx.Client(base_url=url, timeout=10) as api:
        org = api.post("/api/org/", json={"name": "Panel proxy tests"}, headers={"Authorization": f"Bearer {access}"})
        org.raise_for_status()
        switched = api.post(
            "/api/auth/switch-org/",
            json={"org_id": org.json()["org"]["id"], "refresh": refresh},
            headers={"Authorization": f"Bearer {access}"},
        )
        switched.raise_for_status()
        issued = api.post(
            "/api/profile/tokens/",
            json={"name": "panel proxy", "scopes": []},
            headers={"Authorization": f"Bearer {switched.json()['access_token']}"},
        )
        issued.raise_for_status()
        return str(issued.json()["token"])
