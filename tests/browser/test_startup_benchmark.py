"""Start-up figures: the panel against a bare PyScript page on the same runtime, in one run.

Prints the figures (median of RUNS) rather than asserting times: this machine is shared and noisy.
Each run uses a fresh persistent Chromium profile, so "cold" is an empty HTTP cache and "warm" a
reload with the runtime in cache, as an agent's second page load would be.
"""

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType, Frame, Page

from .conftest import DemoServer

RUNS = 3
READY_TIMEOUT_MS = 90_000


def _mark_time(target: Page | Frame, mark: str) -> float:
    """Milliseconds from the document's navigation start to the ready mark."""
    target.wait_for_function(
        "(mark) => performance.getEntriesByName(mark).length > 0", arg=mark, timeout=READY_TIMEOUT_MS
    )
    return float(target.evaluate(f"performance.getEntriesByName('{mark}')[0].startTime"))


def _measure(page: Page, url: str, mark: str, frame_name: str | None) -> tuple[float, float]:
    def ready() -> float:
        target: Page | Frame | None = page.frame(name=frame_name) if frame_name else page
        assert target is not None
        return _mark_time(target, mark)

    page.goto(url)
    cold = ready()
    page.reload()
    return cold, ready()


@pytest.mark.benchmark
def test_start_up_against_a_bare_pyscript_page(
    browser_type: BrowserType,
    browser_type_launch_args: dict[str, Any],
    demo_server: DemoServer,
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    origin = demo_server.panel_origin
    cases = {
        "bare PyScript page (baseline)": (f"{origin}/demo/baseline", "pyscript-ready", None),
        "panel, top-level": (f"{origin}/cxone-panel", "panel-ready", None),
        "panel in the simulated desktop": (demo_server.desktop_url, "panel-ready", "panel"),
    }
    figures: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": []} for name in cases}
    for run in range(RUNS):
        for index, (name, (url, mark, frame_name)) in enumerate(cases.items()):  # interleaved: each shares the noise
            context = browser_type.launch_persistent_context(
                tmp_path / f"profile-{run}-{index}", **browser_type_launch_args
            )
            try:
                cold, warm = _measure(context.new_page(), url, mark, frame_name)
            finally:
                context.close()
            figures[name]["cold"].append(cold)
            figures[name]["warm"].append(warm)

    lines = [
        f"Start-up, ms from navigation to ready (median of {RUNS}; each sample in a fresh Chromium profile)",
        f"| {'page':<32} | cold | warm |",
        f"|{'-' * 34}|-----:|-----:|",
    ]
    for name, samples in figures.items():
        lines.append(
            f"| {name:<32} | {statistics.median(samples['cold']):4.0f} | {statistics.median(samples['warm']):4.0f} |"
        )
    for line in lines:
        report(line)
    assert all(value > 0 for samples in figures.values() for series in samples.values() for value in series)
