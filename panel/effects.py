"""What the core asks the shell to do; the shell performs these and nothing else."""

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class StartLookup:
    """Fetch the CRM context for an interaction, abandoning it after ``deadline_s``."""

    interaction_id: str
    request_id: int
    url: str
    deadline_s: float


@dataclass(frozen=True)
class CreateRecord:
    """Ask the proxy to create a CRM contact for an interaction."""

    interaction_id: str
    request_id: int
    body: dict[str, object]


@dataclass(frozen=True)
class SendAction:
    """POST an outbox entry (a CRM action, a report to CXone) to the proxy's ``url`` with its Idempotency-Key."""

    key: str
    url: str
    payload: dict[str, object]


@dataclass(frozen=True)
class ScheduleRetry:
    """Try the action with this key again after ``delay_ms``."""

    key: str
    delay_ms: float


@dataclass(frozen=True)
class PostToHost:
    """Send a protocol message (a call-control command) to the parent window at ``target_origin``."""

    message: dict[str, object]
    target_origin: str


@dataclass(frozen=True)
class Log:
    level: Literal["debug", "info", "warning", "error"]
    message: str


@dataclass(frozen=True)
class Telemetry:
    """A structured record for the proxy's telemetry endpoint (failures the team must see)."""

    name: str
    fields: dict[str, object] = field(default_factory=dict)


Effect = StartLookup | CreateRecord | SendAction | ScheduleRetry | PostToHost | Log | Telemetry
