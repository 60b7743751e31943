"""Where cached lookup answers live: in this process (one instance) or in Redis (several replicas).

An answer is the tuple of contacts for an E.164 number: a hit keeps ``hit_ttl_s``, a miss (no
contact) ``miss_ttl_s``, so a contact created elsewhere shows up soon. Both stores are bounded:
memory by entry count, Redis by the TTL on every key. ``forget_record`` drops every answer that
shows a record, for when an action changed it.
"""

import json
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis

from panel.models import CrmContact

Answer = tuple[CrmContact, ...]
KEY_PREFIX = "panel:lookup:"
RECORD_PREFIX = "panel:lookup-record:"


class LookupCache(Protocol):
    async def get(self, e164: str) -> Answer | None: ...

    async def put(self, e164: str, answer: Answer) -> None: ...

    async def forget_number(self, e164: str) -> None: ...

    async def forget_record(self, crm_id: str) -> None: ...

    async def clear(self) -> None: ...


class MemoryLookupCache:
    def __init__(
        self, hit_ttl_s: float, miss_ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        def expires(key: str, value: Answer, now: float) -> float:
            return now + (hit_ttl_s if value else miss_ttl_s)

        self._entries: TLRUCache[str, Answer] = TLRUCache(max_entries, ttu=expires, timer=clock)

    async def get(self, e164: str) -> Answer | None:
        return self._entries.get(e164)

    async def put(self, e164: str, answer: Answer) -> None:
        self._entries[e164] = answer

    async def forget_number(self, e164: str) -> None:
        self._entries.pop(e164, None)

    async def forget_record(self, crm_id: str) -> None:
        for key, contacts in list(self._entries.items()):
            if any(contact.id == crm_id for contact in contacts):
                self._entries.pop(key, None)

    async def clear(self) -> None:
        self._entries.clear()


class RedisLookupCache:
    """Answers as JSON under ``panel:lookup:<e164>`` with their TTL; a set per record id finds them again."""

    def __init__(self, redis: Redis, hit_ttl_s: float, miss_ttl_s: float) -> None:
        self._redis = redis
        self._hit_ms = max(1, int(hit_ttl_s * 1000))
        self._miss_ms = max(1, int(miss_ttl_s * 1000))

    async def get(self, e164: str) -> Answer | None:
        raw = await self._redis.get(KEY_PREFIX + e164)
        if raw is None:
            return None
        return tuple(CrmContact.model_validate(item) for item in json.loads(raw))

    async def put(self, e164: str, answer: Answer) -> None:
        value = json.dumps([contact.model_dump(mode="json") for contact in answer])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(KEY_PREFIX + e164, value, px=self._hit_ms if answer else self._miss_ms)
            for contact in answer:
                pipe.sadd(RECORD_PREFIX + contact.id, e164)
                pipe.pexpire(RECORD_PREFIX + contact.id, self._hit_ms)
            await pipe.execute()

    async def forget_number(self, e164: str) -> None:
        await self._redis.delete(KEY_PREFIX + e164)

    async def forget_record(self, crm_id: str) -> None:
        numbers = await self._redis.smembers(RECORD_PREFIX + crm_id)
        keys = [KEY_PREFIX + str(number) for number in numbers]
        await self._redis.delete(RECORD_PREFIX + crm_id, *keys)

    async def clear(self) -> None:
        async for key in self._redis.scan_iter(match=KEY_PREFIX + "*", count=500):
            await self._redis.delete(key)
