"""``python -m proxy --demo`` stops its demo CRM when it is stopped: no orphan left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxy.demo.launcher import free_port, stop_group, wait_until_healthy

REPO = Path(__file__).resolve().parents[2]


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_the_demo_stops_its_crm(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = free_port("127.0.0.1")
    demo = subprocess.Popen(
        [sys.executable, "-m", "proxy", "--demo", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PANEL_DEMO_DATA_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", 30, demo)
        assert len(processes_mentioning(str(tmp_path / "democrm.sqlite3"))) == 1
        demo.send_signal(stop_signal)  # to the launcher alone, as a process manager would
        demo.wait(timeout=15)
        deadline = time.monotonic() + 10
        while processes_mentioning(str(tmp_path / "democrm.sqlite3")):
            assert time.monotonic() < deadline, "the demo CRM outlived the demo"
            time.sleep(0.05)  # polling for the child's exit, bounded by the deadline
    finally:
        stop_group(demo)
