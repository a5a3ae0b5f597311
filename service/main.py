"""The app factory: `create_app(settings, store, models)`; resources live in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from features.api_keys import ApiKeyStore
from features.redis_client import RedisClient, redis_client
from features.redis_keys import KeyLayout
from features.redis_store import RedisOnlineStore
from features.store import OnlineStore
from models.champions import ModelSet, load_models
from service.auth import KeyRing
from service.breaker import GuardedStore, RedisBreaker
from service.config import ServiceSettings
from service.errors import install_handlers
from service.limits import BodySizeLimit
from service.logs import RequestContext
from service.metrics import Metrics, expose
from service.openapi import install_openapi
from service.ratelimit import RateLimiter
from service.refresh import every, reload_models
from service.routes import (
    admin,
    customers,
    events,
    health,
    items,
    model_fields,
    recommendations,
    scoring,
)
from service.routes import models as model_routes

logger = logging.getLogger(__name__)

DESCRIPTION = """Real-time recommendations, churn early warnings, lead scores and customer value
for CRM and e-commerce teams. Models are the MLflow registry's `champion` versions; features come
from the Redis cache written by `valuechain materialize`. Every response names the model version
it used.

Every `/v1` route needs an API key in the `X-API-Key` header (`valuechain keys create`); roles
nest: `read` < `write` < `admin`. Missing or unknown key: 401; a role that may not: 403; over the
key's rate limit: 429 with `Retry-After`. `/healthz`, `/readyz`, `/metrics` and `/docs` are open."""


def create_app(
    settings: ServiceSettings | None = None,
    store: OnlineStore | None = None,
    models: ModelSet | None = None,
) -> FastAPI:
    """Build the API. Parts not given are created in the lifespan from `settings`."""
    settings = settings or ServiceSettings()
    metrics = Metrics.create()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # numpy/BLAS threads would oversubscribe the cores across several workers.
        limits = threadpool_limits(limits=1)
        raw_store = store or _connect(settings)
        client = _client(settings, raw_store)
        breaker = RedisBreaker(settings.breaker_failures, settings.breaker_reset_seconds, metrics)
        app.state.settings, app.state.metrics = settings, metrics
        app.state.store = GuardedStore(raw_store, breaker)
        app.state.keys = await _keys(settings, client, breaker)
        prefix = KeyLayout(settings.key_prefix).rate_limits
        shared = client if settings.rate_limit_scope == "shared" else None
        app.state.limiter = RateLimiter(settings.rate_limit, shared, prefix, breaker)
        app.state.models = models or await asyncio.to_thread(load_models, settings)
        metrics.record_models(app.state.models)
        tasks = [
            asyncio.create_task(
                every(settings.keys_refresh_seconds, _refresh_keys(app), "key refresh")
            )
        ]
        if models is None and settings.model_refresh_seconds > 0:
            job = every(settings.model_refresh_seconds, lambda: reload_models(app), "model refresh")
            tasks.append(asyncio.create_task(job))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if store is None and isinstance(raw_store, RedisOnlineStore):
                raw_store.close()
            limits.restore_original_limits()

    app = FastAPI(title="valuechain", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.metrics = metrics
    install_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    expose(app, metrics)
    # Outermost: every response carries the request id, is logged and counted.
    app.add_middleware(RequestContext, observe=metrics.observe)
    for module in (
        health,
        recommendations,
        items,
        events,
        scoring,
        model_fields,
        customers,
        admin,
        model_routes,
    ):
        app.include_router(module.router)
    # Limits as configured; the lead body is the lead champion's own fields, per loaded version.
    install_openapi(app, settings)
    return app


def _connect(settings: ServiceSettings) -> OnlineStore:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set; start the service with `valuechain serve`, "
            "which starts an embedded Redis when none is configured"
        )
    return RedisOnlineStore.from_url(
        settings.redis_url,
        cluster=settings.redis_cluster,
        timeout=settings.redis_timeout_seconds,
        retries=0,  # a retry would double the latency budget; the breaker decides instead
        prefix=settings.key_prefix,
        max_events=settings.max_recent_events,
        event_ttl_seconds=settings.event_ttl_days * 86400,
    )


def _client(settings: ServiceSettings, store: OnlineStore) -> RedisClient | None:
    """The Redis client for API keys and rate limits: its own pool, with the short timeout."""
    if settings.redis_url:
        return redis_client(
            settings.redis_url,
            cluster=settings.redis_cluster,
            timeout=settings.redis_timeout_seconds,
            retries=0,
        )
    if isinstance(store, RedisOnlineStore):
        return store.client
    return None


async def _keys(
    settings: ServiceSettings, client: RedisClient | None, breaker: RedisBreaker
) -> KeyRing:
    """The API keys; without any the service refuses to start, unless in demo mode."""
    ring = KeyRing(ApiKeyStore(client, settings.key_prefix) if client else None, breaker)
    await asyncio.to_thread(ring.refresh)
    if not len(ring) and not settings.demo:
        raise RuntimeError(
            "no API keys are configured (or Redis is unreachable): create one with "
            "`valuechain keys create --name NAME --role admin`, or start with --demo (DEMO=true)"
        )
    if not len(ring):
        logger.warning("demo mode: no API keys configured; every /v1 request will get 401")
    return ring


def _refresh_keys(app: FastAPI) -> Callable[[], Awaitable[None]]:
    ring: KeyRing = app.state.keys
    return lambda: asyncio.to_thread(ring.refresh)
