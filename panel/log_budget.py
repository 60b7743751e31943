"""A bound on console output: an event storm must not become a console storm.

At most ``limit`` lines per ``window_ms``; what is held back is counted and reported in one
line when the next window opens. Errors always pass.
"""

from dataclasses import dataclass


@dataclass
class LogBudget:
    limit: int = 50
    window_ms: float = 10_000.0
    _window_start: float = float("-inf")
    _used: int = 0
    _suppressed: int = 0

    def admit(self, level: str, now_ms: float) -> tuple[bool, int]:
        """Whether to write this line, and how many lines were held back before it (to report)."""
        if level == "error":
            return True, 0
        held_back = 0
        if now_ms - self._window_start >= self.window_ms:
            held_back, self._suppressed = self._suppressed, 0
            self._window_start, self._used = now_ms, 0
        if self._used >= self.limit:
            self._suppressed += 1
            return False, held_back
        self._used += 1
        return True, held_back
