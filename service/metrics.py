"""Prometheus metrics at `/metrics` (prometheus-client).

Per route template: `http_request_duration_seconds` (histogram by method and handler) and
`http_requests_total` (by method, status and handler), recorded by the request middleware
(`service.logs.RequestContext`) from the route Starlette matched, so no second route match per
request; paths that match no route count as handler `none`. And valuechain's own: fallbacks,
Redis errors, the breaker state, the loaded model versions.

Several uvicorn workers: `valuechain serve` sets `PROMETHEUS_MULTIPROC_DIR` (a fresh directory)
before the workers start; prometheus-client then keeps each worker's values in files there and
`/metrics` merges them (the library's multi-process mode), whichever worker answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from models.champions import ModelSet

# Latency buckets around the serving budget (tens of milliseconds), in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
METRICS_PATH = "/metrics"
UNMATCHED = "none"  # the handler label of paths no route matched (bounded label values)


@dataclass(frozen=True)
class Metrics:
    """valuechain's own metrics, registered in one app's registry."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    fallbacks: Counter
    redis_errors: Counter
    breaker_open: Gauge
    model_version: Gauge

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            requests=Counter(
                "http_requests_total",
                "Total number of requests by method, status and handler.",
                ["method", "status", "handler"],
                registry=registry,
            ),
            latency=Histogram(
                "http_request_duration_seconds",
                "Request duration by method and handler (route template).",
                ["method", "handler"],
                buckets=BUCKETS,
                registry=registry,
            ),
            fallbacks=Counter(
                "valuechain_fallbacks",
                "Answers served by a fallback instead of the cache, by endpoint and kind.",
                ["endpoint", "kind"],
                registry=registry,
            ),
            redis_errors=Counter(
                "valuechain_redis_errors",
                "Request-path Redis calls that failed (timeouts, lost connections).",
                ["error"],
                registry=registry,
            ),
            breaker_open=Gauge(
                "valuechain_redis_breaker_open",
                "1 while the Redis circuit breaker is open in a worker.",
                registry=registry,
                multiprocess_mode="max",
            ),
            model_version=Gauge(
                "valuechain_model_version",
                "Registry version of each loaded champion (0: none).",
                ["role", "name"],
                registry=registry,
                multiprocess_mode="max",
            ),
        )

    def record_models(self, models: ModelSet) -> None:
        """Publish the loaded versions (after start and each refresh)."""
        for role, version in models.versions().items():
            loaded = getattr(models, role)
            name = loaded.name if loaded is not None else ""
            numeric = float(version) if version and version.isdigit() else 0.0
            self.model_version.labels(role, name).set(numeric)

    def observe(self, method: str, handler: str | None, status: int, seconds: float) -> None:
        """Count one answered request (`handler` None: no route matched)."""
        if handler == METRICS_PATH:
            return
        name = handler or UNMATCHED
        self.requests.labels(method, str(status), name).inc()
        self.latency.labels(method, name).observe(seconds)


def expose(app: FastAPI, own: Metrics) -> None:
    """The open `/metrics` endpoint: this registry, or every worker's values when several run."""

    def exposition(request: Request) -> Response:
        registry = own.registry
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # Not in the OpenAPI document: a Prometheus text exposition, not part of the JSON API.
    app.add_api_route(METRICS_PATH, exposition, methods=["GET"], include_in_schema=False)
