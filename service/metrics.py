"""Prometheus metrics at `/metrics` (prometheus-fastapi-instrumentator + prometheus-client).

Per route: `http_request_duration_seconds` (histogram) and `http_requests_total` by status; and
valuechain's own: fallbacks, Redis errors, the breaker state, the loaded model versions.

Several uvicorn workers: `valuechain serve` sets `PROMETHEUS_MULTIPROC_DIR` (a fresh directory)
before the workers start; prometheus-client then keeps each worker's values in files there and
`/metrics` merges them (the library's multi-process mode), whichever worker answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_fastapi_instrumentator import Instrumentator, metrics

from models.champions import ModelSet

# Latency buckets around the serving budget (tens of milliseconds), in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class Metrics:
    """valuechain's own metrics, registered in one app's registry."""

    registry: CollectorRegistry
    fallbacks: Counter
    redis_errors: Counter
    breaker_open: Gauge
    model_version: Gauge

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
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


def instrument(app: FastAPI, own: Metrics) -> None:
    """Latency and status per route template, and the open `/metrics` endpoint."""
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics"],
        registry=own.registry,
    )
    instrumentator.add(metrics.default(latency_lowr_buckets=BUCKETS, registry=own.registry))
    # Not in the OpenAPI document: a Prometheus text exposition, not part of the JSON API.
    instrumentator.instrument(app).expose(app, include_in_schema=False)
