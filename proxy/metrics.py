"""Prometheus metrics for one proxy app, in a registry of its own (no process-wide globals).

``GET /metrics`` serves them in the text exposition format. Labels are bounded: adapter names,
HTTP status classes, outcomes; never numbers, names or ids.
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response


class ProxyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.lookups = Counter(
            "panel_lookups", "Caller lookups answered, by outcome", ["outcome"], registry=self.registry
        )
        self.cache = Counter(
            "panel_lookup_cache",
            "Lookup cache results: hit, miss, shared (joined a lookup in flight)",
            ["result"],
            registry=self.registry,
        )
        self.crm_calls = Counter(
            "panel_crm_calls",
            "HTTP calls to the CRM, by adapter and status",
            ["adapter", "status"],
            registry=self.registry,
        )
        self.crm_latency = Histogram(
            "panel_crm_call_seconds",
            "CRM call latency",
            ["adapter"],
            registry=self.registry,
            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.crm_api_usage = Gauge(
            "panel_crm_api_usage_ratio",
            "Share of the CRM's daily API budget used, as the CRM reports it (Sforce-Limit-Info)",
            ["adapter"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "panel_throttled_requests",
            "Requests the proxy refused (503) because the CRM's budget and queue were full",
            ["adapter"],
            registry=self.registry,
        )
        self.replays = Counter(
            "panel_idempotent_replays",
            "Writes answered from the idempotency store instead of the CRM",
            ["route"],
            registry=self.registry,
        )

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
