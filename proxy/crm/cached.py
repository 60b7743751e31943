"""A lookup cache in front of any CRM adapter: holds, resumes and panel reloads cost no CRM call.

Hits and misses keep for different times (a new contact should appear soon after it is created).
Bounded in entries; in-process, for a single proxy instance.
"""

import time
from collections.abc import Callable

from cachetools import TLRUCache

from panel.action_models import CallLog, ContactUpdate, FollowUpTask
from panel.models import CrmContact, NewContact

from .base import CrmAdapter


class CachedCrm:
    def __init__(
        self,
        inner: CrmAdapter,
        hit_ttl_s: float,
        miss_ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = inner.name
        self._inner = inner

        def expires(key: str, value: tuple[CrmContact, ...], now: float) -> float:
            return now + (hit_ttl_s if value else miss_ttl_s)

        self._entries: TLRUCache[str, tuple[CrmContact, ...]] = TLRUCache(max_entries, ttu=expires, timer=clock)

    async def find_contacts_by_phone(self, e164: str) -> tuple[CrmContact, ...]:
        cached = self._entries.get(e164)
        if cached is not None:
            return cached
        contacts = await self._inner.find_contacts_by_phone(e164)
        self._entries[e164] = contacts
        return contacts

    async def create_contact(self, contact: NewContact) -> CrmContact:
        created = await self._inner.create_contact(contact)
        self._entries.pop(contact.phone, None)  # the cached "no match" for this number is now wrong
        return created

    async def log_call(self, call_log: CallLog) -> str:
        return await self._inner.log_call(call_log)

    async def update_contact(self, update: ContactUpdate) -> str:
        record_id = await self._inner.update_contact(update)
        for key, contacts in list(self._entries.items()):  # every cached answer showing that record is stale
            if any(contact.id == update.crm_id for contact in contacts):
                self._entries.pop(key, None)
        return record_id

    async def create_task(self, task: FollowUpTask, external_id: str) -> str:
        return await self._inner.create_task(task, external_id)

    def clear(self) -> None:
        """Forget every cached answer (the demo does this when the CRM is told to misbehave)."""
        self._entries.clear()

    async def aclose(self) -> None:
        await self._inner.aclose()
