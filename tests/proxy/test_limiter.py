"""The CRM budget: a moving window from ``limits``, a bounded queue, and 429s fed back."""

import asyncio
from collections.abc import Callable

import pytest
from limits.aio.storage import MemoryStorage

from proxy.crm.base import CrmThrottled
from proxy.crm.limiter import CrmLimiter


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (callers bound it with wait_for)."""
    while not condition():
        await asyncio.sleep(0.001)


async def test_within_budget_requests_pass_and_beyond_the_queue_they_are_refused() -> None:
    limiter = CrmLimiter("hubspot", "3/second", MemoryStorage(), max_waiting=2, max_wait_s=5)
    for _ in range(3):
        await limiter.acquire()  # the budget
    waiting = [asyncio.create_task(limiter.acquire()) for _ in range(2)]  # the queue
    await asyncio.wait_for(until(lambda: limiter.waiting == 2), 2)
    with pytest.raises(CrmThrottled) as refused:
        await limiter.acquire()  # no room left to wait
    assert refused.value.retry_after_s >= 1
    await asyncio.wait_for(asyncio.gather(*waiting), 5)  # the window moves; the queue drains
    assert limiter.waiting == 0


async def test_a_request_that_would_wait_too_long_is_refused_at_once() -> None:
    limiter = CrmLimiter("salesforce", "1/minute", MemoryStorage(), max_waiting=10, max_wait_s=0.5)
    await limiter.acquire()
    with pytest.raises(CrmThrottled, match="budget is spent"):
        await limiter.acquire()


async def test_a_429_holds_every_replica_back_for_its_retry_after() -> None:
    storage = MemoryStorage()
    here = CrmLimiter("hubspot", "100/10 seconds", storage, max_waiting=10, max_wait_s=0.2)
    other_replica = CrmLimiter("hubspot", "100/10 seconds", storage, max_waiting=10, max_wait_s=0.2)
    await here.acquire()
    await here.rate_limited(5.0)
    for limiter in (here, other_replica):
        with pytest.raises(CrmThrottled) as refused:
            await limiter.acquire()
        assert 4 <= refused.value.retry_after_s <= 5
    patient = CrmLimiter("hubspot", "100/10 seconds", storage, max_waiting=10, max_wait_s=3)
    await here.rate_limited(0)  # "Retry-After: 0" holds nobody back, nor shortens a hold
    await storage.clear("panel-crm-hold/hubspot")  # the hold runs out
    await asyncio.wait_for(patient.acquire(), 1)
