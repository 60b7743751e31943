"""Structured logs: one JSON object a line, with the request id, whatever ``extra`` a call site adds,
and no phone numbers unless PANEL_LOG_PII says so (debugging only).

Call sites log the CXone ContactID as ``contact_id`` and never a caller's name or number; the
redaction filter is the safety net for what they do not control, such as the access log's query
strings and error details from a CRM.
"""

import json
import logging
import re
from contextvars import ContextVar

from asgi_correlation_id import correlation_id

current_contact_id: ContextVar[str] = ContextVar("current_contact_id", default="")


def bind_contact_id(contact_id: str) -> None:
    """Every log line of this request from now on names this CXone ContactID."""
    current_contact_id.set(contact_id)


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
REDACTED = "[redacted]"
UNREDACTED_FIELDS = frozenset({"contact_id", "request_id", "crm", "action", "kind", "api_usage"})
PHONE_PATTERNS = re.compile(
    r"(?:\+|%2[Bb])\d[\d\s().-]{5,20}\d"  # +1 415 555 0123, %2B14155550123 (E.164 in a query string)
    r"|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"  # (415) 555-0123, 415.555.0123
    r"|\b\d{10,15}\b"  # 4155550123
)


def redact(text: str) -> str:
    return PHONE_PATTERNS.sub(REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Adds the request's id (``X-Request-ID``, made up when the client sent none) to every record, and the
    ContactID the request is about when a route bound one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = correlation_id.get() or "-"
        if not getattr(record, "contact_id", "") and current_contact_id.get():
            record.contact_id = current_contact_id.get()
        return True


class RedactPhoneNumbers(logging.Filter):
    """Masks anything shaped like a phone number in a record's message and string extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in UNREDACTED_FIELDS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, log_pii: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    if not log_pii:
        handler.addFilter(RedactPhoneNumbers())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
