"""Drafts in Redis, so a panel that reloads onto another replica still finds its notes.

One hash per agent (``panel:drafts:<agent>``: ContactID -> notes). Every write renews the hash's TTL,
and an agent holds at most ``max_per_agent`` drafts: beyond that the write is refused, not lost silently.
"""

from redis.asyncio import Redis

from .drafts import DraftLimitReached

PREFIX = "panel:drafts:"


class RedisDrafts:
    def __init__(self, redis: Redis, ttl_s: float, max_per_agent: int = 200) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._max = max_per_agent

    async def list(self, agent_id: str) -> dict[str, str]:
        stored = await self._redis.hgetall(PREFIX + agent_id)
        return {str(contact): str(notes) for contact, notes in stored.items()}

    async def get(self, agent_id: str, contact_id: str) -> str:
        notes = await self._redis.hget(PREFIX + agent_id, contact_id)
        return str(notes) if notes is not None else ""

    async def put(self, agent_id: str, contact_id: str, notes: str) -> None:
        key = PREFIX + agent_id
        if not notes:
            await self._redis.hdel(key, contact_id)
            return
        if await self._redis.hlen(key) >= self._max and not await self._redis.hexists(key, contact_id):
            raise DraftLimitReached(f"an agent keeps at most {self._max} drafts")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, contact_id, notes)
            pipe.pexpire(key, self._ttl_ms)
            await pipe.execute()
