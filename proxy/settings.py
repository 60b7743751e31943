"""The proxy's configuration: environment variables (``PANEL_*``, ``PORT``) or a settings file.

Validated once at start-up; an invalid value stops the proxy with a message naming the setting.
"""

import re
from pathlib import Path
from typing import Literal

import limits
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
    crm_adapter: Literal["demo", "salesforce", "hubspot", "bottlecrm"] = "demo"
    crm_url: str = Field(default="", description="the CRM's API base; Salesforce: the login or My Domain URL")
    crm_token: SecretStr | None = Field(default=None, description="HubSpot private-app token, BottleCRM PAT")
    crm_timeout_s: float = Field(default=2.5, gt=0, le=30)
    crm_field_map: dict[str, str] = Field(default_factory=dict, description='e.g. {"company": "Company__c"}')
    crm_rate_limit: str = Field(default="", description='the CRM\'s budget, e.g. "100/10 seconds"; empty: per CRM')
    crm_queue_max: int = Field(default=50, ge=0, le=10_000)
    crm_queue_wait_s: float = Field(default=2.0, ge=0, le=30)
    crm_client_cert: Path | None = Field(default=None, description="mutual TLS: the proxy's certificate (PEM)")
    crm_client_key: Path | None = Field(default=None, description="mutual TLS: its private key (PEM)")
    crm_ca_bundle: Path | None = Field(default=None, description="CAs trusted for the CRM's certificate (PEM)")
    salesforce_client_id: str = ""
    salesforce_client_secret: SecretStr | None = None
    salesforce_jwt_username: str = ""
    salesforce_jwt_private_key: SecretStr | None = Field(default=None, description="PEM, for the JWT bearer flow")
    salesforce_api_version: str = Field(default="v62.0", pattern=r"^v\d{2}\.\d$")
    salesforce_token_lifetime_s: float = Field(default=3600, ge=300, le=24 * 3600)
    redis_url: str = Field(default="", description="shared state for several replicas; empty: in-process")
    relay_upstreams: dict[str, str] = Field(default_factory=dict, description='{"name": "https://crm.example.com"}')
    log_pii: bool = Field(default=False, description="debug only: phone numbers and names appear in logs")
    lookup_cache_hit_ttl_s: float = Field(default=900, ge=0, le=86_400)  # a call with holds and a transfer
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

    @field_validator("crm_rate_limit")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        if value:
            try:
                limits.parse(value)
            except ValueError as error:
                raise ValueError(f"not a rate like '100/10 seconds': {error}") from None
        return value

    @field_validator("crm_client_cert", "crm_client_key", "crm_ca_bundle")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _valid_redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("relay_upstreams")
    @classmethod
    def _valid_upstreams(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            if re.fullmatch(r"[a-z0-9-]{1,40}", name) is None:
                raise ValueError(f"relay name {name!r}: use 1-40 lowercase letters, digits or '-'")
            if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise ValueError(f"relay {name!r}: the upstream must be an https:// URL")
        return {name: url.rstrip("/") for name, url in value.items()}

    @model_validator(mode="after")
    def _complete_crm(self) -> "Settings":
        if (self.crm_client_cert is None) != (self.crm_client_key is None):
            raise ValueError("PANEL_CRM_CLIENT_CERT and PANEL_CRM_CLIENT_KEY go together")
        if self.crm_adapter in ("hubspot", "bottlecrm") and not self.crm_token and not self.demo:
            raise ValueError(f"PANEL_CRM_TOKEN must be set for {self.crm_adapter}")
        if self.crm_adapter == "salesforce":
            jwt_flow = bool(self.salesforce_jwt_username and self.salesforce_jwt_private_key)
            if not self.salesforce_client_id or not (self.salesforce_client_secret or jwt_flow):
                raise ValueError(
                    "salesforce needs PANEL_SALESFORCE_CLIENT_ID and either PANEL_SALESFORCE_CLIENT_SECRET "
                    "or PANEL_SALESFORCE_JWT_USERNAME with PANEL_SALESFORCE_JWT_PRIVATE_KEY"
                )
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
