from panel.outbox import (
    MAX_ATTEMPTS,
    MAX_DELAY_MS,
    EntryStatus,
    OutboxEntry,
    action_key,
    after_failure,
    backoff_ms,
    retry_after_ms,
)

PAYLOAD: dict[str, object] = {"interaction_id": "712345", "crm_id": "c-1", "subject": "Call", "notes": "a"}
NOW = 1_796_400_000.0  # an epoch time in December 2026


def entry(attempts: int = 1) -> OutboxEntry:
    return OutboxEntry(action_key("call_log", PAYLOAD), "call_log", PAYLOAD, "712345", "Call log", attempts=attempts)


def test_the_key_follows_interaction_action_record_and_content() -> None:
    key = action_key("call_log", PAYLOAD)
    assert key.startswith("712345:call_log:c-1:") and key == action_key("call_log", dict(PAYLOAD))
    assert action_key("call_log", {**PAYLOAD, "notes": "b"}) != key  # an edit is a new write
    assert action_key("task", PAYLOAD) != key


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_ms("3", NOW) == 3000
    date = "Fri, 04 Dec 2026 10:00:05 GMT"
    from email.utils import parsedate_to_datetime

    assert retry_after_ms(date, parsedate_to_datetime(date).timestamp() - 5) == 5000
    assert retry_after_ms("", NOW) is None and retry_after_ms("soon", NOW) is None


def test_429_waits_for_retry_after_and_5xx_backs_off() -> None:
    waiting, delay = after_failure(entry(), 429, "rate limited", "2", NOW, jitter=0.0)
    assert waiting.status is EntryStatus.WAITING and delay == 2000
    _, delay = after_failure(entry(3), 503, "busy", "", NOW, jitter=0.0)
    assert delay == backoff_ms(3, 0.0) == 1000
    _, delay = after_failure(entry(3), 503, "the proxy is throttling", "7", NOW, jitter=0.0)
    assert delay == 7000  # the proxy's own 503 says when its CRM budget frees up
    _, delay = after_failure(entry(2), None, "network error", "", NOW, jitter=0.99)
    assert backoff_ms(2, 0.0) <= delay <= backoff_ms(2, 0.99)  # type: ignore[operator]


def test_other_client_errors_are_shown_not_retried() -> None:
    failed, delay = after_failure(entry(), 422, "the CRM refused the call_log: unknown contact", "", NOW, 0.5)
    assert failed.status is EntryStatus.FAILED and delay is None and "unknown contact" in failed.reason


def test_retries_are_bounded() -> None:
    failed, delay = after_failure(entry(MAX_ATTEMPTS), 503, "busy", "", NOW, 0.5)
    assert failed.status is EntryStatus.FAILED and delay is None and failed.next_round
    assert backoff_ms(50, 0.99) <= MAX_DELAY_MS


def test_signed_out_waits_for_the_next_round() -> None:
    failed, delay = after_failure(entry(), 401, "not signed in", "", NOW, 0.5)
    assert failed.status is EntryStatus.FAILED and failed.next_round and delay is None
    refused, _ = after_failure(entry(), 422, "refused", "", NOW, 0.5)
    assert not refused.next_round
