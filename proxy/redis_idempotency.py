"""Idempotency records in Redis, for several proxy replicas: the same semantics as the SQLite store.

One JSON value per key (``panel:idem:<key>``) with the record's TTL. Claims are one Lua script, so two
replicas claiming the same key at once cannot both win. A claim whose replica died is taken over
after its lease; there is no process identity to recognise across machines.
"""

import time
from collections.abc import Callable

from redis.asyncio import Redis

from .idempotency import MIN_TTL_S, Claim, ClaimResult

PREFIX = "panel:idem:"

CLAIM = """
local raw = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if raw then
  local record = cjson.decode(raw)
  local abandoned = record.done == 0 and now - record.at > tonumber(ARGV[3])
  if not (abandoned and record.print == ARGV[1]) then
    if record.print ~= ARGV[1] then return {'mismatch'} end
    if record.done == 1 then return {'replay', tostring(record.status), record.body} end
    return {'in_flight'}
  end
end
redis.call('SET', KEYS[1], cjson.encode({print = ARGV[1], done = 0, at = now, status = 0, body = ''}), 'PX', ARGV[4])
return {'new'}
"""

FINISH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
record.done = 1
record.status = tonumber(ARGV[1])
record.body = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
"""

RELEASE = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).done == 0 then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIdempotencyStore:
    def __init__(
        self,
        redis: Redis,
        ttl_s: float = MIN_TTL_S,
        lease_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_s < MIN_TTL_S:
            raise ValueError(f"idempotency records must be kept at least {MIN_TTL_S} s")
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._lease_s = lease_s
        self._clock = clock
        self._claim = redis.register_script(CLAIM)
        self._finish = redis.register_script(FINISH)
        self._release = redis.register_script(RELEASE)

    async def claim(self, key: str, payload_print: str) -> ClaimResult:
        answer = await self._claim(
            keys=[PREFIX + key], args=[payload_print, self._clock(), self._lease_s, self._ttl_ms]
        )
        outcome = str(answer[0])
        if outcome == "replay":
            return ClaimResult(Claim.REPLAY, int(answer[1]), str(answer[2]))
        return ClaimResult({"new": Claim.NEW, "mismatch": Claim.MISMATCH, "in_flight": Claim.IN_FLIGHT}[outcome])

    async def finish(self, key: str, status: int, body: str) -> None:
        await self._finish(keys=[PREFIX + key], args=[status, body])

    async def release(self, key: str) -> None:
        await self._release(keys=[PREFIX + key])

    async def purge(self) -> int:
        """Nothing to do: Redis expires every record with its TTL."""
        return 0

    async def close(self) -> None:
        """The Redis connection is the app's; it closes it."""
