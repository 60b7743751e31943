"""The CRM adapter the settings choose, with its transport: TLS (mutual when configured), credentials, limiter."""

import ssl

import httpx
from limits.aio.storage import Storage
from pydantic import SecretStr

from ..metrics import ProxyMetrics
from ..settings import Settings
from ..tokens import TokenCache
from .base import CrmAdapter
from .bottlecrm import BottleCrmAdapter
from .bottlecrm import refused_credentials as bottlecrm_refused
from .credentials import CrmCredentials, MintedToken, SalesforceTokenEndpoint, StaticToken
from .demo import DemoCrmAdapter
from .hubspot import HubSpotAdapter
from .hubspot import rate_limited as hubspot_rate_limited
from .limiter import CrmLimiter
from .salesforce import LimitWatcher, SalesforceAdapter
from .salesforce import rate_limited as salesforce_rate_limited
from .transport import CrmTransport

# Published limits, used unless PANEL_CRM_RATE_LIMIT says otherwise.
DEFAULT_RATES = {
    "hubspot": "100/10 seconds",  # private apps, Free and Starter; Professional and up allow 190
    "salesforce": "25/second",  # no per-second limit is published; this keeps bursts off the daily budget
    "bottlecrm": "50/second",  # self-hosted: no published limit
    "demo": "200/second",
}
DEFAULT_URLS = {"hubspot": "https://api.hubapi.com"}


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verification against the system CAs or PANEL_CRM_CA_BUNDLE, and the proxy's certificate for mutual TLS."""
    context = ssl.create_default_context(cafile=str(settings.crm_ca_bundle) if settings.crm_ca_bundle else None)
    if settings.crm_client_cert is not None and settings.crm_client_key is not None:
        context.load_cert_chain(str(settings.crm_client_cert), str(settings.crm_client_key))
    return context


def crm_http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=settings.crm_url or DEFAULT_URLS.get(settings.crm_adapter, ""),
        timeout=settings.crm_timeout_s,
        verify=tls_context(settings),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )


def crm_credentials(settings: Settings, http: httpx.AsyncClient) -> CrmCredentials:
    if settings.crm_adapter == "salesforce":
        endpoint = SalesforceTokenEndpoint(
            http,
            login_url=settings.crm_url,
            client_id=settings.salesforce_client_id,
            lifetime_s=settings.salesforce_token_lifetime_s,
            client_secret=_secret(settings.salesforce_client_secret),
            jwt_username=settings.salesforce_jwt_username,
            jwt_private_key=_secret(settings.salesforce_jwt_private_key),
        )
        return MintedToken(TokenCache(endpoint))
    return StaticToken(_secret(settings.crm_token))


def create_crm_adapter(settings: Settings, metrics: ProxyMetrics, limiter_storage: Storage) -> CrmAdapter:
    """The configured CRM, its credentials kept server-side."""
    name = settings.crm_adapter
    http = crm_http_client(settings)
    limiter = CrmLimiter(
        name,
        settings.crm_rate_limit or DEFAULT_RATES[name],
        limiter_storage,
        max_waiting=settings.crm_queue_max,
        max_wait_s=settings.crm_queue_wait_s,
    )
    credentials = crm_credentials(settings, http)
    region, fields = settings.default_region, settings.crm_field_map
    if name == "salesforce":
        transport = CrmTransport(
            name,
            http,
            credentials,
            limiter,
            metrics,
            rate_limited=salesforce_rate_limited,
            observe=LimitWatcher(metrics),
        )
        return SalesforceAdapter(transport, fields, region, settings.salesforce_api_version)
    if name == "hubspot":
        transport = CrmTransport(name, http, credentials, limiter, metrics, rate_limited=hubspot_rate_limited)
        return HubSpotAdapter(transport, fields, region)
    if name == "bottlecrm":
        transport = CrmTransport(name, http, credentials, limiter, metrics, credentials_refused=bottlecrm_refused)
        return BottleCrmAdapter(transport, fields, region)
    return DemoCrmAdapter(CrmTransport(name, http, credentials, limiter, metrics))


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""
