"""Panel registration documents: what a desktop needs to embed the panel, validated at start-up.

A registration names the panel, the URL to frame, the iframe ``sandbox`` tokens and ``allow``
permissions, and extra CSP directives for the panel page. ``?panelId=`` selects one.
"""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PANEL_PATH = "/cxone-panel"
SANDBOX_TOKENS = frozenset(
    {
        "allow-scripts",
        "allow-same-origin",
        "allow-forms",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
        "allow-downloads",
    }
)
REQUIRED_SANDBOX_TOKENS = frozenset({"allow-scripts", "allow-same-origin"})
PERMISSIONS = frozenset({"clipboard-read", "clipboard-write", "fullscreen", "microphone", "camera"})
# Extra directives may only add same-origin sources: the panel never loads third-party code or data.
CSP_DIRECTIVES = frozenset({"img-src", "connect-src", "style-src", "font-src", "media-src"})
CSP_SOURCES = frozenset({"'self'", "'none'", "data:", "blob:"})


class RegistrationError(ValueError):
    """A registration file that cannot be used; the message names the field."""


class PanelRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    panelId: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    displayName: str = Field(min_length=1, max_length=80)
    url: str
    permissions: tuple[str, ...] = ()
    sandbox: tuple[str, ...] = ("allow-scripts", "allow-same-origin", "allow-forms")
    csp: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("permissions")
    @classmethod
    def _known_permissions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions {unknown}; allowed: {sorted(PERMISSIONS)}")
        return value

    @field_validator("sandbox")
    @classmethod
    def _safe_sandbox(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - SANDBOX_TOKENS)
        if unknown:
            raise ValueError(f"unsupported sandbox tokens {unknown}; allowed: {sorted(SANDBOX_TOKENS)}")
        missing = sorted(REQUIRED_SANDBOX_TOKENS - set(value))
        if missing:
            raise ValueError(f"the panel cannot run without {missing}")
        return value

    @field_validator("csp")
    @classmethod
    def _same_origin_csp(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for directive, sources in value.items():
            if directive not in CSP_DIRECTIVES:
                raise ValueError(f"directive {directive!r} cannot be set here; allowed: {sorted(CSP_DIRECTIVES)}")
            foreign = sorted(set(sources) - CSP_SOURCES)
            if foreign:
                raise ValueError(f"{directive}: sources {foreign} are not allowed; only {sorted(CSP_SOURCES)}")
        return value

    @model_validator(mode="after")
    def _url_points_at_this_panel(self) -> "PanelRegistration":
        parts = urlsplit(self.url)
        if parts.path != PANEL_PATH or parse_qs(parts.query).get("panelId") != [self.panelId]:
            raise ValueError(f"url must be {PANEL_PATH}?panelId={self.panelId} (absolute or relative)")
        if parts.scheme and parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("url must use https")
        return self

    def resolved(self, public_url: str) -> "PanelRegistration":
        """The document as served: a relative url made absolute against the panel's public URL."""
        if urlsplit(self.url).scheme:
            return self
        return self.model_copy(update={"url": public_url + self.url})


def load_registrations(path: Path) -> dict[str, PanelRegistration]:
    """Read and validate the registration file (a JSON list); the first entry is the default."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RegistrationError(f"{path}: cannot read registrations: {error}") from None
    if not isinstance(raw, list) or not raw:
        raise RegistrationError(f"{path}: expected a non-empty JSON list of registrations")
    registrations: dict[str, PanelRegistration] = {}
    for index, item in enumerate(raw):
        try:
            registration = PanelRegistration.model_validate(item)
        except ValidationError as error:
            detail = error.errors()[0]
            field = ".".join(str(part) for part in detail["loc"]) or "document"
            raise RegistrationError(f"{path}: registration [{index}] field {field!r}: {detail['msg']}") from None
        if registration.panelId in registrations:
            raise RegistrationError(
                f"{path}: registration [{index}] field 'panelId': duplicate {registration.panelId!r}"
            )
        registrations[registration.panelId] = registration
    return registrations
