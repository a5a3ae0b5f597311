"""Request dependencies: the caller's key, the store, the models and the settings (app state).

Every dependency is `async def`: FastAPI runs a plain `def` dependency in the thread pool, one
hand-off per dependency per request, while these only read app state (and the store's cached
version and metadata) or await Redis (the rate limiter's check, `service.ratelimit`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from features.api_keys import KeyRole
from features.store import OnlineStore
from models.champions import CHURN, LEAD, RECOMMENDER, LoadedModel, ModelSet, Role
from models.recommender.model import RecommenderModel
from models.scoring.scorer import TabularScorer
from service.auth import HEADER, KeyRing, Principal, authorize
from service.config import ServiceSettings
from service.errors import CacheMismatch, ModelUnavailable, StoreUnavailable
from service.metrics import Metrics
from service.ratelimit import RateLimiter
from service.reader import Reader
from service.scoring import cache_gap

api_key_header = APIKeyHeader(
    name=HEADER,
    auto_error=False,
    description="An API key from `valuechain keys create`; roles read < write < admin.",
)


def _authorize(needed: KeyRole) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request, token: Annotated[str | None, Security(api_key_header)]
    ) -> Principal:
        keys: KeyRing = request.app.state.keys
        principal = keys.identify(token)
        request.state.key_name = principal.name  # for the access log (also on a 403)
        authorize(principal, needed)
        limiter: RateLimiter = request.app.state.limiter
        await limiter.check(principal.name)
        return principal

    return dependency


READ = Depends(_authorize(KeyRole.read))
WRITE = Depends(_authorize(KeyRole.write))
ADMIN = Depends(_authorize(KeyRole.admin))


# Plain accessors: the hot routes call these directly (each `Depends` costs FastAPI a resolution
# step per request); the dependencies below wrap the same functions for the other routes.
def app_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def app_reader(request: Request) -> Reader:
    """The awaited customer reads of the hot routes (`service.reader`)."""
    reader: Reader = request.app.state.reader
    return reader


def app_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def cached_store(request: Request) -> OnlineStore:
    """The store, once a materialization has been committed (else 503: nothing to read yet)."""
    store: OnlineStore = request.app.state.store
    if store.current_version() is None:
        raise StoreUnavailable("the feature cache is empty; run `valuechain materialize` first")
    return store


T = TypeVar("T")


def loaded_model(request: Request, role: Role[T]) -> LoadedModel[T]:
    """The loaded champion of `role` (else 503, saying why it is not loaded)."""
    models: ModelSet = request.app.state.models
    loaded = models.get(role)
    if loaded is None:
        reason = models.errors.get(role.key, "not loaded")
        raise ModelUnavailable(f"the {role.key} model is not available: {reason}")
    return loaded


def served_churn(request: Request) -> tuple[OnlineStore, LoadedModel[TabularScorer]]:
    """The cached store and the churn champion, when the cache holds its features (else 503)."""
    store = cached_store(request)
    churn = loaded_model(request, CHURN)
    gap = cache_gap(store.read_meta(), churn)
    if gap is not None:
        raise CacheMismatch(gap)
    return store, churn


async def get_settings(request: Request) -> ServiceSettings:
    return app_settings(request)


async def get_store(request: Request) -> OnlineStore:
    store: OnlineStore = request.app.state.store
    return store


async def get_cached_store(request: Request) -> OnlineStore:
    """The store, once a materialization has been committed (else 503: nothing to read yet)."""
    return cached_store(request)


async def get_reader(request: Request) -> Reader:
    return app_reader(request)


async def get_metrics(request: Request) -> Metrics:
    return app_metrics(request)


async def get_models(request: Request) -> ModelSet:
    models: ModelSet = request.app.state.models
    return models


def _require(role: Role[T]) -> Callable[[Request], Awaitable[LoadedModel[T]]]:
    async def dependency(request: Request) -> LoadedModel[T]:
        return loaded_model(request, role)

    return dependency


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
StoreDep = Annotated[OnlineStore, Depends(get_store)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
CachedStoreDep = Annotated[OnlineStore, Depends(get_cached_store)]
ModelsDep = Annotated[ModelSet, Depends(get_models)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
RecommenderDep = Annotated[LoadedModel[RecommenderModel], Depends(_require(RECOMMENDER))]
ChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_require(CHURN))]
LeadDep = Annotated[LoadedModel[TabularScorer], Depends(_require(LEAD))]


async def _served_churn(request: Request) -> LoadedModel[TabularScorer]:
    """The churn champion, when the current cache holds its features (else 503, saying which)."""
    return served_churn(request)[1]


ServedChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_served_churn)]
