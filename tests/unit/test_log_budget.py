from panel.log_budget import LogBudget


def test_lines_beyond_the_limit_are_counted_and_reported_in_the_next_window() -> None:
    budget = LogBudget(limit=3, window_ms=1000)
    admitted = [budget.admit("debug", now_ms=10)[0] for _ in range(10)]
    assert admitted == [True, True, True] + [False] * 7
    assert budget.admit("warning", now_ms=1500) == (True, 7)
    assert budget.admit("debug", now_ms=1600) == (True, 0)


def test_errors_always_pass() -> None:
    budget = LogBudget(limit=0)
    assert budget.admit("error", now_ms=0) == (True, 0)
    assert budget.admit("debug", now_ms=0) == (False, 0)
