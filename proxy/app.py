"""The application factory: validated settings in, a Starlette app out. No globals, no import-time work."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from .actions import ActionRoutes
from .assets import PANEL_SOURCE_SUFFIXES, ImmutableFiles, panel_sources, runtime_assets
from .auth import AgentSessions, RequireAgent
from .crm.base import CrmAdapter
from .crm.cached import CachedCrm
from .crm.factory import create_crm_adapter, tls_context
from .crm.limiter import limiter_storage
from .crm.lookup_cache import LookupCache, MemoryLookupCache, RedisLookupCache
from .crm_routes import CrmRoutes
from .cxone import CxoneAccessKeyMinter, CxoneClient
from .cxone_reports import CxoneReportRoutes
from .drafts import DraftRoutes, DraftStorage, MemoryDrafts
from .health import Check, Readiness, healthz
from .idempotency import IdempotencyRecords, IdempotencyStore
from .metrics import ProxyMetrics
from .panel_page import PanelPage
from .redis_drafts import RedisDrafts
from .redis_idempotency import RedisIdempotencyStore
from .registration import load_registrations
from .relay import UpstreamRelay
from .security_headers import SecurityHeaders
from .settings import Settings
from .telemetry import receive_telemetry
from .tokens import TokenCache


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


def create_app(
    settings: Settings, crm: CrmAdapter | None = None, upstream_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Assemble the proxy; ``crm`` replaces the configured adapter and ``upstream_transport`` the relay's
    network (tests pass fakes)."""
    metrics = ProxyMetrics()
    redis: Redis | None = Redis.from_url(settings.redis_url, decode_responses=True) if settings.redis_url else None
    lookup_cache: LookupCache
    drafts: DraftStorage
    idempotency: IdempotencyRecords
    if redis is not None:  # several replicas share one state
        lookup_cache = RedisLookupCache(redis, settings.lookup_cache_hit_ttl_s, settings.lookup_cache_miss_ttl_s)
        drafts = RedisDrafts(redis, settings.draft_ttl_s)
        idempotency = RedisIdempotencyStore(redis, ttl_s=settings.idempotency_ttl_s)
    else:
        lookup_cache = MemoryLookupCache(
            settings.lookup_cache_hit_ttl_s, settings.lookup_cache_miss_ttl_s, settings.lookup_cache_entries
        )
        drafts = MemoryDrafts(settings.draft_entries, settings.draft_ttl_s)
        idempotency = IdempotencyStore(settings.state_dir / "idempotency.sqlite3", ttl_s=settings.idempotency_ttl_s)
    adapter = crm if crm is not None else create_crm_adapter(settings, metrics, limiter_storage(settings.redis_url))
    crm_adapter = CachedCrm(adapter, lookup_cache, metrics)
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(48)
    sessions = AgentSessions(secret, settings.session_ttl_s)
    cxone = create_cxone_client(settings)
    runtime = runtime_assets(settings.runtime_dir)
    sources = panel_sources(settings.site_dir / "panel")
    registrations = load_registrations(settings.registrations_file)
    desktop_origins = [str(origin) for origin in settings.allowed_desktop_origins]
    page = PanelPage(
        site_dir=settings.site_dir,
        runtime=runtime,
        sources=sources,
        registrations=registrations,
        desktop_origins=desktop_origins,
        public_url=settings.panel_origin,
        sessions=sessions,
        demo=settings.demo,
    )
    checks: dict[str, Check] = {"crm": crm_adapter.ready}
    if redis is not None:
        checks["redis"] = redis.ping
    require_agent = [Middleware(RequireAgent, sessions=sessions)]
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", Readiness(checks).readyz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        *page.routes(),
        Mount(f"/runtime/{runtime.digest}", app=ImmutableFiles(directory=runtime.directory)),
        Mount(
            f"/panel-src/{sources.digest}",
            app=ImmutableFiles(directory=sources.directory, suffixes=PANEL_SOURCE_SUFFIXES),
        ),
        Mount(
            "/crm",
            routes=[
                *CrmRoutes(crm_adapter, settings.default_region, metrics).routes(),
                *DraftRoutes(drafts).routes(),
                *ActionRoutes(crm_adapter, idempotency, metrics).routes(),
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
    relay = None
    if settings.relay_upstreams:
        relay = UpstreamRelay(
            settings.relay_upstreams, desktop_origins, tls_context(settings), settings.crm_timeout_s, upstream_transport
        )
        routes.append(Mount("/relay", routes=relay.routes(), middleware=require_agent))
    if settings.demo:
        from .demo.baseline import BaselinePage  # demo-only code is not loaded in production
        from .demo.cxone_api import SimulatedCxoneApi
        from .demo.desktop import DesktopSimulator

        routes += DesktopSimulator(settings, next(iter(registrations.values())), crm_adapter.clear).routes()
        routes += BaselinePage(runtime).routes()
        routes += SimulatedCxoneApi.from_settings(settings).routes()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await idempotency.purge()
        try:
            yield
        finally:
            await crm_adapter.aclose()
            if cxone is not None:
                await cxone.aclose()
            await idempotency.close()
            if relay is not None:
                await relay.aclose()
            if redis is not None:
                await redis.aclose()

    middleware = [
        Middleware(CorrelationIdMiddleware, header_name="X-Request-ID"),
        Middleware(SecurityHeaders, passthrough_prefix="/relay/"),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
