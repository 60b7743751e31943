"""The request budget for one CRM, shared by every replica when the storage is Redis.

The budget is a moving window from the ``limits`` library (``"100/10 seconds"``: HubSpot's private-app
limit), kept in memory or in Redis. A request that finds the budget spent waits for the window to
move, in a queue bounded both in length and in time: beyond either, ``CrmThrottled`` (the routes
answer 503 with Retry-After) instead of requests piling up. A 429 from the CRM spends what is left
of the window for every replica and holds this one back for Retry-After.
"""

import asyncio
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from .base import CrmThrottled

MIN_PAUSE_S = 0.01


def limiter_storage(redis_url: str) -> Storage:
    """Redis when several replicas share one budget, memory for a single instance."""
    if redis_url:
        return RedisStorage("async+" + redis_url, implementation="redispy")
    return MemoryStorage()


class CrmLimiter:
    def __init__(
        self,
        crm: str,
        rate: str,
        storage: Storage,
        max_waiting: int,
        max_wait_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._crm = crm
        self._item: RateLimitItem = parse(rate)
        self._limiter = MovingWindowRateLimiter(storage)
        self._max_waiting = max_waiting
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._waiting = 0
        self._held_until = 0.0  # after a 429: nobody here calls the CRM before this

    @property
    def waiting(self) -> int:
        return self._waiting

    async def acquire(self) -> None:
        """Take one request from the budget, waiting in the bounded queue if need be."""
        if self._clock() >= self._held_until and await self._limiter.hit(self._item, self._crm):
            return
        if self._waiting >= self._max_waiting:
            raise CrmThrottled(f"{self._crm}: {self._waiting} requests already wait for the CRM", self._window_s())
        self._waiting += 1
        try:
            deadline = self._clock() + self._max_wait_s
            while True:
                now = self._clock()
                pause = max(self._held_until - now, await self._until_next_slot())
                if now + pause > deadline:
                    raise CrmThrottled(f"{self._crm}: the CRM's budget is spent", max(pause, MIN_PAUSE_S))
                await asyncio.sleep(max(pause, MIN_PAUSE_S))
                if self._clock() >= self._held_until and await self._limiter.hit(self._item, self._crm):
                    return
        finally:
            self._waiting -= 1

    async def rate_limited(self, retry_after_s: float) -> None:
        """The CRM said 429: stop here for ``retry_after_s`` and spend the shared window for the others."""
        self._held_until = max(self._held_until, self._clock() + retry_after_s)
        stats = await self._limiter.get_window_stats(self._item, self._crm)
        if stats.remaining > 0:
            await self._limiter.hit(self._item, self._crm, cost=stats.remaining)

    async def _until_next_slot(self) -> float:
        stats = await self._limiter.get_window_stats(self._item, self._crm)
        if stats.remaining > 0:
            return 0.0
        return max(0.0, stats.reset_time - time.time())

    def _window_s(self) -> float:
        return float(math.ceil(self._item.get_expiry()))
