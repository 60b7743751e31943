"""The outbox's policy: how CRM actions (and the reports about them to CXone) are keyed, queued,
retried and reported. Pure functions.

An action gets its idempotency key from the interaction, the action, the record and a digest of
what it says. So a retry, a reload or a second tab sends the same key, and the proxy writes it
once. An edit (notes changed during wrap-up) is a new key, which the CRM's external id turns into
an update of the same call log, not a second one.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from enum import StrEnum

MAX_ENTRIES = 100  # bounded: beyond it new actions are refused with a visible error, never dropped silently
MAX_ATTEMPTS = 8  # per round; a later host event or a reload starts another round
BASE_DELAY_MS = 500.0
MAX_DELAY_MS = 30_000.0
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
ACTIONS_URL = "/crm/actions/"
REPORTS_URL = "/cxone/reports/"


class EntryKind(StrEnum):
    CRM_ACTION = "crm_action"  # the agent's work: shown with its state until the call is gone
    CXONE_REPORT = "cxone_report"  # telemetry and context for CXone: delivered the same way, not shown


class EntryStatus(StrEnum):
    QUEUED = "queued"  # waiting to be sent
    SENDING = "sending"
    WAITING = "waiting"  # failed in a way worth retrying; retry scheduled
    SENT = "sent"
    FAILED = "failed"  # refused (4xx) or out of attempts: shown to the agent with the reason


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    action_type: str
    payload: dict[str, object]
    interaction_id: str
    label: str
    status: EntryStatus = EntryStatus.QUEUED
    attempts: int = 0
    reason: str = ""
    next_round: bool = False  # failed for now, but the next host event (or a reload) tries again
    kind: EntryKind = EntryKind.CRM_ACTION

    @property
    def url(self) -> str:
        """The proxy endpoint this entry is POSTed to."""
        return (ACTIONS_URL if self.kind is EntryKind.CRM_ACTION else REPORTS_URL) + self.action_type


def action_key(action_type: str, payload: dict[str, object]) -> str:
    """``<interaction>:<action>:<record>:<digest>``: the same action always gets the same key."""
    digest = hashlib.sha256(
        json.dumps({"type": action_type, "payload": payload}, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"{payload['interaction_id']}:{action_type}:{payload['crm_id']}:{digest}"


def retry_after_ms(header: str, now_epoch_s: float) -> float | None:
    """``Retry-After`` as seconds or an HTTP date, in milliseconds from now; None when absent or unreadable."""
    header = header.strip()
    if not header:
        return None
    if header.isdigit():
        return float(header) * 1000
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (float(when.timestamp()) - now_epoch_s) * 1000)


def backoff_ms(attempts: int, jitter: float) -> float:
    """Exponential backoff with equal jitter (half fixed, half ``jitter`` in [0, 1)), capped."""
    growth: float = 2.0 ** max(0, attempts - 1)
    return min(MAX_DELAY_MS, BASE_DELAY_MS * growth) * (0.5 + jitter / 2)


def after_failure(
    entry: OutboxEntry, status: int | None, reason: str, retry_after: str, now_epoch_s: float, jitter: float
) -> tuple[OutboxEntry, float | None]:
    """The entry after a failed attempt, and the delay before the next one (None: do not retry).

    ``status`` is None for a network error or a timeout.
    """
    if status == 401:  # signed out (a proxy restart, an expired session): keep it for the next round
        return replace(entry, status=EntryStatus.FAILED, reason="not signed in; will retry", next_round=True), None
    if status is not None and status not in RETRYABLE_STATUSES:
        return replace(entry, status=EntryStatus.FAILED, reason=reason, next_round=False), None
    if entry.attempts >= MAX_ATTEMPTS:
        gave_up = f"{reason}; will retry after {entry.attempts} tries"
        return replace(entry, status=EntryStatus.FAILED, reason=gave_up, next_round=True), None
    delay = retry_after_ms(retry_after, now_epoch_s) if status in (429, 503) else None  # 503: the proxy throttles
    if delay is None:
        delay = backoff_ms(entry.attempts, jitter)
    return replace(entry, status=EntryStatus.WAITING, reason=reason), min(delay, MAX_DELAY_MS * 4)
