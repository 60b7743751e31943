"""The request budget for one CRM, shared by every replica when the storage is Redis.

The budget is a moving window from the ``limits`` library (``"100/10 seconds"``: HubSpot's private-app
limit), kept in memory or in Redis. A request that finds the budget spent waits for the window to
move, in a queue bounded both in length and in time: beyond either, ``CrmThrottled`` (the routes
answer 503 with Retry-After) instead of requests piling up. A 429 from the CRM holds every replica
back for its Retry-After: a key with that lifetime in the same storage, so Redis shares it too.
"""

import asyncio
import math
import time

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
    ) -> None:
        self._crm = crm
        self._item: RateLimitItem = parse(rate)
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._hold_key = f"panel-crm-hold/{crm}"
        self._max_waiting = max_waiting
        self._max_wait_s = max_wait_s
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    async def acquire(self) -> None:
        """Take one request from the budget, waiting in the bounded queue if need be."""
        if await self._take():
            return
        if self._waiting >= self._max_waiting:
            raise CrmThrottled(f"{self._crm}: {self._waiting} requests already wait for the CRM", self._window_s())
        self._waiting += 1
        try:
            deadline = time.monotonic() + self._max_wait_s
            while True:
                pause = max(await self._held_for(), await self._until_next_slot())
                if time.monotonic() + pause > deadline:
                    raise CrmThrottled(f"{self._crm}: the CRM's budget is spent", max(pause, MIN_PAUSE_S))
                await asyncio.sleep(max(pause, MIN_PAUSE_S))
                if await self._take():
                    return
        finally:
            self._waiting -= 1

    async def rate_limited(self, retry_after_s: float) -> None:
        """The CRM said 429: nobody, on any replica, calls it again for ``retry_after_s``."""
        if retry_after_s <= 0 or await self._held_for() >= retry_after_s:
            return
        await self._storage.clear(self._hold_key)
        await self._storage.incr(self._hold_key, math.ceil(retry_after_s))

    async def _take(self) -> bool:
        return await self._held_for() <= 0 and await self._limiter.hit(self._item, self._crm)

    async def _held_for(self) -> float:
        if await self._storage.get(self._hold_key) <= 0:
            return 0.0
        return max(0.0, await self._storage.get_expiry(self._hold_key) - time.time())

    async def _until_next_slot(self) -> float:
        stats = await self._limiter.get_window_stats(self._item, self._crm)
        if stats.remaining > 0:
            return 0.0
        return max(0.0, stats.reset_time - time.time())

    def _window_s(self) -> float:
        return float(math.ceil(self._item.get_expiry()))
