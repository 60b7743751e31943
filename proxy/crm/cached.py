"""A lookup cache in front of any CRM adapter: holds, resumes, transfers and reloads cost no CRM call.

Answers live in a ``LookupCache`` (this process, or Redis shared by every replica) with separate
TTLs for hits and misses. Concurrent lookups of one number share one CRM call (single-flight):
the first caller asks the CRM, the others await its answer. Writes that change a record forget
every answer showing it; a created contact forgets its number's cached miss.
"""

import asyncio

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from ..metrics import ProxyMetrics
from .base import CrmAdapter
from .lookup_cache import Answer, LookupCache


class CachedCrm:
    def __init__(self, inner: CrmAdapter, cache: LookupCache, metrics: ProxyMetrics | None = None) -> None:
        self.name = inner.name
        self._inner = inner
        self._cache = cache
        self._metrics = metrics
        self._in_flight: dict[str, asyncio.Future[Answer]] = {}  # bounded by the lookups running right now

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        cached = await self._cache.get(e164)
        if cached is not None:
            self._count("hit")
            return cached
        running = self._in_flight.get(e164)
        if running is not None:
            self._count("shared")
            return await asyncio.shield(running)
        self._count("miss")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._in_flight[e164] = future
        try:
            answer = await self._inner.find_contacts_by_phone(e164)
            await self._cache.put(e164, answer)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else waiting is not an unhandled error
            raise
        else:
            future.set_result(answer)
            return answer
        finally:
            del self._in_flight[e164]

    async def create_contact(self, contact: NewContact) -> CrmContact:
        created = await self._inner.create_contact(contact)
        await self._cache.forget_number(contact.phone)  # the cached "no match" for this number is now wrong
        return created

    async def log_call(self, call_log: CallLog) -> str:
        return await self._inner.log_call(call_log)

    async def update_contact(self, update: ContactUpdate) -> str:
        record_id = await self._inner.update_contact(update)
        await self._cache.forget_record(update.crm_id)  # every cached answer showing that record is stale
        return record_id

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        return await self._inner.create_task(task, external_id)

    async def clear(self) -> None:
        """Forget every cached answer (the demo does this when the CRM is told to misbehave)."""
        await self._cache.clear()

    async def ready(self) -> None:
        await self._inner.ready()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.cache.labels(result).inc()
