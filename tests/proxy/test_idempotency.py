from pathlib import Path

import pytest

from proxy.idempotency import Claim, IdempotencyStore, fingerprint


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_stripe_semantics(tmp_path: Path) -> None:
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    first = fingerprint("call_log", {"notes": "a"})
    assert (await store.claim("k1", first)).claim is Claim.NEW
    assert (await store.claim("k1", first)).claim is Claim.IN_FLIGHT
    await store.finish("k1", 201, '{"id": "L1"}')
    replay = await store.claim("k1", first)
    assert (replay.claim, replay.status, replay.body) == (Claim.REPLAY, 201, '{"id": "L1"}')
    assert (await store.claim("k1", fingerprint("call_log", {"notes": "b"}))).claim is Claim.MISMATCH
    assert (await store.claim("k1", fingerprint("task", {"notes": "a"}))).claim is Claim.MISMATCH


async def test_released_claims_can_be_retried(tmp_path: Path) -> None:
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    payload_print = fingerprint("task", {"title": "x"})
    assert (await store.claim("k", payload_print)).claim is Claim.NEW
    await store.release("k")
    assert (await store.claim("k", payload_print)).claim is Claim.NEW


async def test_records_survive_a_restart(tmp_path: Path) -> None:
    payload_print = fingerprint("task", {"title": "x"})
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    await store.claim("k", payload_print)
    await store.finish("k", 201, "{}")
    await store.close()
    assert (await IdempotencyStore(tmp_path / "idem.sqlite3").claim("k", payload_print)).claim is Claim.REPLAY


async def test_a_claim_left_by_a_crashed_process_is_taken_over_by_the_next(tmp_path: Path) -> None:
    payload_print = fingerprint("task", {"title": "x"})
    await IdempotencyStore(tmp_path / "idem.sqlite3").claim("k", payload_print)  # that process dies mid-call
    restarted = IdempotencyStore(tmp_path / "idem.sqlite3")
    assert (await restarted.claim("k", payload_print)).claim is Claim.NEW
    assert (await restarted.claim("k", payload_print)).claim is Claim.IN_FLIGHT  # its own claim is live
    assert (await restarted.claim("k", fingerprint("task", {"title": "y"}))).claim is Claim.MISMATCH


async def test_a_crashed_claim_expires_after_its_lease_and_records_after_their_ttl(tmp_path: Path) -> None:
    clock = Clock()
    store = IdempotencyStore(tmp_path / "idem.sqlite3", lease_s=60, clock=clock)
    payload_print = fingerprint("task", {"title": "x"})
    await store.claim("crashed", payload_print)
    clock.now += 61
    assert (await store.claim("crashed", payload_print)).claim is Claim.NEW
    await store.finish("crashed", 201, "{}")
    clock.now += 24 * 3600 - 1
    assert await store.purge() == 0
    clock.now += 70
    assert await store.purge() == 1


async def test_ttl_below_a_day_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 86400"):
        IdempotencyStore(tmp_path / "idem.sqlite3", ttl_s=3600)
