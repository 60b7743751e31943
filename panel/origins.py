"""Origin allow-lists: exact origins and ``scheme://*.domain`` patterns, as CSP writes them.

The proxy renders the same list into ``frame-ancestors``; the panel uses it to decide which
postMessage senders to believe. One parser serves both, so the two can never disagree.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOriginPattern(ValueError):
    """An allow-list entry that is not an origin or a ``scheme://*.domain`` pattern."""


@dataclass(frozen=True)
class OriginPattern:
    """One allow-list entry; ``wildcard`` means any subdomain (at any depth) of ``host``."""

    scheme: str
    host: str
    port: int
    wildcard: bool

    def matches(self, origin: str) -> bool:
        """Whether a browser-reported origin (``event.origin``) is covered by this entry."""
        try:
            candidate = parse_origin(origin)
        except InvalidOriginPattern:
            return False
        if (candidate.scheme, candidate.port) != (self.scheme, self.port):
            return False
        if self.wildcard:
            return candidate.host.endswith("." + self.host)
        return candidate.host == self.host

    def __str__(self) -> str:
        host = f"*.{self.host}" if self.wildcard else self.host
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def parse_origin(text: str) -> OriginPattern:
    """Parse an exact origin or a wildcard pattern; raise InvalidOriginPattern with the reason."""
    text = text.strip()
    wildcard = "://*." in text
    parts = urlsplit(text.replace("://*.", "://", 1))
    if parts.scheme not in DEFAULT_PORTS:
        raise InvalidOriginPattern(f"{text!r}: scheme must be http or https")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidOriginPattern(f"{text!r}: an origin has no path, query, fragment or credentials")
    host = (parts.hostname or "").lower()
    if not host or "*" in host:
        raise InvalidOriginPattern(f"{text!r}: a wildcard may only stand first, as '*.domain'")
    if wildcard and "." not in host:
        raise InvalidOriginPattern(f"{text!r}: a wildcard needs a domain with a dot, like *.example.com")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise InvalidOriginPattern(f"{text!r}: {error}") from None
    return OriginPattern(scheme=parts.scheme, host=host, port=port, wildcard=wildcard)


def parse_allow_list(text: str) -> tuple[OriginPattern, ...]:
    """Parse a space-separated allow-list (the ``PANEL_DESKTOP_ORIGINS`` format)."""
    return tuple(parse_origin(item) for item in text.split())


def origin_allowed(origin: str, allow_list: tuple[OriginPattern, ...]) -> bool:
    """Whether any entry of the allow-list covers ``origin``."""
    return any(pattern.matches(origin) for pattern in allow_list)
