"""The app factory: `create_app(settings, store, models)`; resources live in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from features.redis_store import RedisOnlineStore
from features.store import OnlineStore
from models.champions import ModelSet, load_models
from service.config import ServiceSettings
from service.errors import install_handlers
from service.limits import BodySizeLimit
from service.routes import customers, events, health, items, recommendations, scoring
from service.routes import models as model_routes

logger = logging.getLogger(__name__)

DESCRIPTION = """Real-time recommendations, churn early warnings, lead scores and customer value
for CRM and e-commerce teams. Models are the MLflow registry's `champion` versions; features come
from the Redis cache written by `valuechain materialize`. Every response names the model version
it used."""


def create_app(
    settings: ServiceSettings | None = None,
    store: OnlineStore | None = None,
    models: ModelSet | None = None,
) -> FastAPI:
    """Build the API. Parts not given are created in the lifespan from `settings`."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # numpy/BLAS threads would oversubscribe the cores across several workers.
        limits = threadpool_limits(limits=1)
        own_store = store is None
        app.state.settings = settings
        app.state.store = store or _connect(settings)
        app.state.models = models or await asyncio.to_thread(load_models, settings)
        refresher = None
        if models is None and settings.model_refresh_seconds > 0:
            refresher = asyncio.create_task(_refresh_models(app, settings))
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
            if own_store and isinstance(app.state.store, RedisOnlineStore):
                app.state.store.close()
            limits.restore_original_limits()

    app = FastAPI(title="valuechain", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (health, recommendations, items, events, scoring, customers, model_routes):
        app.include_router(module.router)
    return app


def _connect(settings: ServiceSettings) -> OnlineStore:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set; start the service with `valuechain serve`, "
            "which starts an embedded Redis when none is configured"
        )
    return RedisOnlineStore.from_url(
        settings.redis_url,
        prefix=settings.key_prefix,
        max_events=settings.max_recent_events,
        event_ttl_seconds=settings.event_ttl_days * 86400,
    )


async def _refresh_models(app: FastAPI, settings: ServiceSettings) -> None:
    """Hot-swap champions when an alias moves (promote or roll back) without a restart."""
    while True:
        await asyncio.sleep(settings.model_refresh_seconds)
        try:
            app.state.models = await asyncio.to_thread(load_models, settings, app.state.models)
        except Exception:
            logger.exception("model refresh failed")
