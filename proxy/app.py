"""The application factory: validated settings in, a Starlette app out. No globals, no import-time work."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from .actions import ActionRoutes
from .assets import PANEL_SOURCE_SUFFIXES, ImmutableFiles, panel_sources, runtime_assets
from .auth import AgentSessions, RequireAgent
from .crm.base import CrmAdapter
from .crm.cached import CachedCrm
from .crm.demo import DemoCrmAdapter
from .crm_routes import CrmRoutes
from .cxone import CxoneAccessKeyMinter, CxoneClient
from .cxone_reports import CxoneReportRoutes
from .drafts import DraftStore
from .health import healthz
from .idempotency import IdempotencyStore
from .panel_page import PanelPage
from .registration import load_registrations
from .security_headers import SecurityHeaders
from .settings import Settings
from .telemetry import receive_telemetry
from .tokens import TokenCache


def create_crm_adapter(settings: Settings) -> CrmAdapter:
    """The adapter the settings choose, with its credentials kept server-side."""
    token = settings.crm_token.get_secret_value() if settings.crm_token else ""
    client = httpx.AsyncClient(
        base_url=settings.crm_url,
        timeout=settings.crm_timeout_s,
        headers={"Authorization": f"Bearer {token}"} if token else {},
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )
    return DemoCrmAdapter(client)


def create_cxone_client(settings: Settings) -> CxoneClient | None:
    """The client for CXone's custom-data API, signed in with the proxy's access key; None when not configured."""
    if not settings.cxone_api_base or not settings.cxone_client_secret or not settings.cxone_access_key_secret:
        return None
    http = httpx.AsyncClient(timeout=settings.cxone_timeout_s, limits=httpx.Limits(max_connections=20))
    minter = CxoneAccessKeyMinter(
        http,
        settings.cxone_token_url,
        settings.cxone_client_id,
        settings.cxone_client_secret.get_secret_value(),
        settings.cxone_access_key_id,
        settings.cxone_access_key_secret.get_secret_value(),
    )
    return CxoneClient(http, settings.cxone_api_base, TokenCache(minter), settings.cxone_indicator_name)


def create_app(settings: Settings, crm: CrmAdapter | None = None) -> Starlette:
    """Assemble the proxy; ``crm`` replaces the configured adapter (tests pass a fake)."""
    crm_adapter = CachedCrm(
        crm if crm is not None else create_crm_adapter(settings),
        hit_ttl_s=settings.lookup_cache_hit_ttl_s,
        miss_ttl_s=settings.lookup_cache_miss_ttl_s,
        max_entries=settings.lookup_cache_entries,
    )
    drafts = DraftStore(settings.draft_entries, settings.draft_ttl_s)
    idempotency = IdempotencyStore(settings.state_dir / "idempotency.sqlite3", ttl_s=settings.idempotency_ttl_s)
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(48)
    sessions = AgentSessions(secret, settings.session_ttl_s)
    cxone = create_cxone_client(settings)
    runtime = runtime_assets(settings.runtime_dir)
    sources = panel_sources(settings.site_dir / "panel")
    registrations = load_registrations(settings.registrations_file)
    page = PanelPage(
        site_dir=settings.site_dir,
        runtime=runtime,
        sources=sources,
        registrations=registrations,
        desktop_origins=[str(origin) for origin in settings.allowed_desktop_origins],
        public_url=settings.panel_origin,
        sessions=sessions,
        demo=settings.demo,
    )
    require_agent = [Middleware(RequireAgent, sessions=sessions)]
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *page.routes(),
        Mount(f"/runtime/{runtime.digest}", app=ImmutableFiles(directory=runtime.directory)),
        Mount(
            f"/panel-src/{sources.digest}",
            app=ImmutableFiles(directory=sources.directory, suffixes=PANEL_SOURCE_SUFFIXES),
        ),
        Mount(
            "/crm",
            routes=[
                *CrmRoutes(crm_adapter, settings.default_region).routes(),
                *drafts.routes(),
                *ActionRoutes(crm_adapter, idempotency).routes(),
            ],
            middleware=require_agent,
        ),
        Mount(
            "/cxone",
            routes=CxoneReportRoutes(cxone, idempotency, crm_adapter.name).routes(),
            middleware=require_agent,
        ),
        Route("/telemetry", receive_telemetry, methods=["POST"], middleware=require_agent),
    ]
    if settings.demo:
        from .demo.baseline import BaselinePage  # demo-only code is not loaded in production
        from .demo.cxone_api import SimulatedCxoneApi
        from .demo.desktop import DesktopSimulator

        routes += DesktopSimulator(settings, next(iter(registrations.values())), crm_adapter.clear).routes()
        routes += BaselinePage(runtime).routes()
        routes += SimulatedCxoneApi.from_settings(settings).routes()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        idempotency.purge()
        try:
            yield
        finally:
            await crm_adapter.aclose()
            if cxone is not None:
                await cxone.aclose()
            idempotency.close()

    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
