"""The proxy's configuration: environment variables (``PANEL_*``, ``PORT``) or a settings file.

Validated once at start-up; an invalid value stops the proxy with a message naming the setting.
"""

from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from panel.origins import InvalidOriginPattern, OriginPattern, parse_allow_list, parse_origin

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DESKTOP_ORIGINS = "https://*.cxone.com https://*.niceincontact.com https://*.incontact.com"
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANEL_", extra="forbid", env_file_encoding="utf-8")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "PANEL_PORT"))
    demo: bool = False
    public_url: str = Field(default="", description="Base URL agents reach the panel at; demo: http://127.0.0.1:PORT")
    desktop_origins: str = Field(default=DEFAULT_DESKTOP_ORIGINS, description="PANEL_DESKTOP_ORIGINS")
    default_region: str = "US"
    session_secret: SecretStr | None = None
    session_ttl_s: int = Field(default=10 * 3600, ge=60, le=24 * 3600)
    crm_adapter: Literal["demo"] = "demo"
    crm_url: str = ""
    crm_token: SecretStr | None = None
    crm_timeout_s: float = Field(default=2.5, gt=0, le=30)
    lookup_cache_hit_ttl_s: float = Field(default=300, ge=0, le=86_400)
    lookup_cache_miss_ttl_s: float = Field(default=60, ge=0, le=86_400)
    lookup_cache_entries: int = Field(default=10_000, ge=1, le=1_000_000)
    draft_ttl_s: float = Field(default=12 * 3600, gt=0, le=7 * 86_400)
    draft_entries: int = Field(default=10_000, ge=1, le=1_000_000)
    state_dir: Path = REPO_ROOT / "build" / "state"
    idempotency_ttl_s: float = Field(default=48 * 3600, ge=24 * 3600, le=30 * 86_400)
    site_dir: Path = REPO_ROOT
    runtime_dir: Path = REPO_ROOT / "build" / "runtime"
    registrations_file: Path = Path(__file__).resolve().parent / "panel_registrations.json"
    demo_data_dir: Path = REPO_ROOT / "build" / "demo"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # CXone's server-side API, for custom data on contacts; reporting is off while cxone_api_base is empty.
    cxone_api_base: str = Field(default="", description="the tenant's acdApiBase, e.g. https://api-c32.incontact.com")
    cxone_token_url: str = Field(default="", description="the tenant's token endpoint (OIDC token_endpoint)")
    cxone_client_id: str = ""
    cxone_client_secret: SecretStr | None = None
    cxone_access_key_id: str = ""
    cxone_access_key_secret: SecretStr | None = None
    cxone_indicator_name: str = Field(default="CRM context", min_length=1, max_length=80)
    cxone_timeout_s: float = Field(default=5.0, gt=0, le=30)

    @field_validator("desktop_origins")
    @classmethod
    def _valid_origins(cls, value: str) -> str:
        try:
            patterns = parse_allow_list(value)
        except InvalidOriginPattern as error:
            raise ValueError(str(error)) from None
        if not patterns:
            raise ValueError("at least one desktop origin is needed")
        return value

    @field_validator("public_url")
    @classmethod
    def _valid_public_url(cls, value: str) -> str:
        if value:
            try:
                parse_origin(value)
            except InvalidOriginPattern as error:
                raise ValueError(f"must be an origin like https://panel.example.com: {error}") from None
        return value.rstrip("/")

    @field_validator("default_region")
    @classmethod
    def _valid_region(cls, value: str) -> str:
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (e.g. US, GB, DE)")
        return value.upper()

    @field_validator("session_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @field_validator("cxone_api_base", "cxone_token_url")
    @classmethod
    def _valid_cxone_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete_cxone(self) -> "Settings":
        if self.cxone_api_base:
            missing = [
                f"PANEL_{name.upper()}"
                for name in (
                    "cxone_token_url",
                    "cxone_client_id",
                    "cxone_client_secret",
                    "cxone_access_key_id",
                    "cxone_access_key_secret",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} must be set when PANEL_CXONE_API_BASE is")
        return self

    @model_validator(mode="after")
    def _complete_outside_demo(self) -> "Settings":
        if not self.demo:
            missing = [
                name
                for name, value in (
                    ("PANEL_SESSION_SECRET", self.session_secret),
                    ("PANEL_CRM_URL", self.crm_url),
                    ("PANEL_PUBLIC_URL", self.public_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} must be set outside demo mode")
        return self

    @property
    def panel_origin(self) -> str:
        return self.public_url or f"http://127.0.0.1:{self.port}"

    @property
    def demo_desktop_origin(self) -> str:
        """The simulated desktop lives on another site than the panel, as CXone Agent does."""
        return f"http://localhost:{self.port}"

    @property
    def allowed_desktop_origins(self) -> tuple[OriginPattern, ...]:
        """PANEL_DESKTOP_ORIGINS, plus the simulator's origin in demo mode."""
        extra = f" {self.demo_desktop_origin}" if self.demo else ""
        return parse_allow_list(self.desktop_origins + extra)
