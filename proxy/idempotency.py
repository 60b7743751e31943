"""Idempotency records for CRM actions, with Stripe's semantics, kept in SQLite so they outlive a restart.

A key is claimed before the CRM is called. Then:
- the same key with the same payload replays the stored response;
- the same key with a different payload is refused (422);
- a duplicate that arrives while the first is in flight is told to come back (409).
A claim whose request failed in a way worth retrying (CRM down, 429) is released, so the retry can
run. A claim left behind by a crash is taken over by the next proxy process at once (the file serves
one instance; several replicas share Redis instead), or by anyone after a lease. The CRM's external
id is the second guard for those cases. Records are kept for ``ttl_s`` (at least 24 hours).
"""

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

MIN_TTL_S = 24 * 3600


class Claim(Enum):
    NEW = "new"  # the caller owns the key now: call the CRM, then finish() or release()
    REPLAY = "replay"  # done before: answer with the stored response
    MISMATCH = "mismatch"  # the key was used with another payload
    IN_FLIGHT = "in_flight"  # another request holds the key right now


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    status: int = 0
    body: str = ""


def fingerprint(action_type: str, payload: object) -> str:
    canonical = json.dumps(
        {"type": action_type, "payload": payload}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyRecords(Protocol):
    """Where claims and stored responses live: SQLite here for one instance, Redis for several replicas."""

    async def claim(self, key: str, payload_print: str) -> ClaimResult: ...

    async def finish(self, key: str, status: int, body: str) -> None: ...

    async def release(self, key: str) -> None: ...

    async def purge(self) -> int: ...

    async def close(self) -> None: ...


class IdempotencyStore:
    """The single-instance store: a SQLite file that outlives restarts (the calls are local and fast)."""

    def __init__(
        self, path: Path, ttl_s: float = MIN_TTL_S, lease_s: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        if ttl_s < MIN_TTL_S:
            raise ValueError(f"idempotency records must be kept at least {MIN_TTL_S} s")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
            "done INTEGER NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, claimed_at REAL NOT NULL, "
            "owner TEXT NOT NULL)"
        )
        self._owner = uuid.uuid4().hex  # this process: claims by any other one are left over from a crash
        self._ttl_s = ttl_s
        self._lease_s = lease_s
        self._clock = clock

    async def claim(self, key: str, payload_print: str) -> ClaimResult:
        """Take the key for this payload, or say what was done with it before."""
        now = self._clock()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute(
                "SELECT fingerprint, done, status, body, claimed_at, owner FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            abandoned = row is not None and not row[1] and (row[5] != self._owner or now - row[4] > self._lease_s)
            if row is None or (abandoned and row[0] == payload_print):
                self._db.execute(
                    "INSERT OR REPLACE INTO idempotency VALUES (?, ?, 0, 0, '', ?, ?)",
                    (key, payload_print, now, self._owner),
                )
                return ClaimResult(Claim.NEW)
            stored_print, done, status, body, _, _ = row
            if stored_print != payload_print:
                return ClaimResult(Claim.MISMATCH)
            if done:
                return ClaimResult(Claim.REPLAY, status, body)
            return ClaimResult(Claim.IN_FLIGHT)
        finally:
            self._db.execute("COMMIT")

    async def finish(self, key: str, status: int, body: str) -> None:
        """Store the response that every later request with this key gets."""
        self._db.execute("UPDATE idempotency SET done = 1, status = ?, body = ? WHERE key = ?", (status, body, key))

    async def release(self, key: str) -> None:
        """The request failed in a way worth retrying: let the next attempt run."""
        self._db.execute("DELETE FROM idempotency WHERE key = ? AND done = 0", (key,))

    async def purge(self) -> int:
        """Drop records older than the TTL; returns how many."""
        cursor = self._db.execute("DELETE FROM idempotency WHERE claimed_at < ?", (self._clock() - self._ttl_s,))
        return cursor.rowcount

    async def close(self) -> None:
        self._db.close()
