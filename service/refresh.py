"""Background work of a worker: hot-swapping champions and reloading API keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from models.champions import ModelSet, load_models
from service.config import ServiceSettings
from service.metrics import Metrics

logger = logging.getLogger(__name__)


async def reload_models(app: FastAPI) -> ModelSet:
    """Load the champions again; a role that fails keeps its model and reports why in /readyz."""
    settings: ServiceSettings = app.state.settings
    models = await asyncio.to_thread(load_models, settings, app.state.models)
    app.state.models = models
    metrics: Metrics = app.state.metrics
    metrics.record_models(models)
    return models


async def every(seconds: float, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Await `job()` every `seconds` until cancelled; a failure is logged, the loop goes on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            logger.exception("%s failed", what)
