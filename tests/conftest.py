"""Shared test plumbing: a ``report`` fixture whose lines are printed in pytest's closing summary.

Figures (benchmarks, measured deadlines) go there rather than to print(), which pytest hides for
passing tests: so every `make test` shows them.
"""

from collections.abc import Callable

import pytest

REPORT = pytest.StashKey[list[str]]()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    return request.config.stash.setdefault(REPORT, []).append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(REPORT, [])
    if lines:
        terminalreporter.section("measured figures")
        for line in lines:
            terminalreporter.write_line(line)
