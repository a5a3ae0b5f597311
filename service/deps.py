"""Request dependencies: the caller's key, the store, the models and the settings (app state).

Every dependency is `async def`: FastAPI hands a plain `def` dependency to the thread pool, one
hop per dependency per request, while these only read app state or make one short Redis call
(the shared rate limiter; 100 ms timeout, behind the breaker), which costs less on the event loop
than the hop around it. See "The request path" in docs/performance.md.
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
        limiter.check(principal.name)
        return principal

    return dependency


READ = Depends(_authorize(KeyRole.read))
WRITE = Depends(_authorize(KeyRole.write))
ADMIN = Depends(_authorize(KeyRole.admin))


async def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


async def get_store(request: Request) -> OnlineStore:
    store: OnlineStore = request.app.state.store
    return store


async def get_cached_store(request: Request) -> OnlineStore:
    """The store, once a materialization has been committed (else 503: nothing to read yet)."""
    store: OnlineStore = request.app.state.store
    if store.current_version() is None:
        raise StoreUnavailable("the feature cache is empty; run `valuechain materialize` first")
    return store


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_models(request: Request) -> ModelSet:
    models: ModelSet = request.app.state.models
    return models


T = TypeVar("T")


def _require(role: Role[T]) -> Callable[[Request], Awaitable[LoadedModel[T]]]:
    async def dependency(request: Request) -> LoadedModel[T]:
        models: ModelSet = request.app.state.models
        loaded = models.get(role)
        if loaded is None:
            reason = models.errors.get(role.key, "not loaded")
            raise ModelUnavailable(f"the {role.key} model is not available: {reason}")
        return loaded

    return dependency


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
StoreDep = Annotated[OnlineStore, Depends(get_store)]
CachedStoreDep = Annotated[OnlineStore, Depends(get_cached_store)]
ModelsDep = Annotated[ModelSet, Depends(get_models)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
RecommenderDep = Annotated[LoadedModel[RecommenderModel], Depends(_require(RECOMMENDER))]
ChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_require(CHURN))]
LeadDep = Annotated[LoadedModel[TabularScorer], Depends(_require(LEAD))]


async def _served_churn(request: Request) -> LoadedModel[TabularScorer]:
    """The churn champion, when the current cache holds its features (else 503, saying which).

    One dependency that reads app state itself (FastAPI solves each sub-dependency per request)."""
    store = await get_cached_store(request)
    churn = await _require(CHURN)(request)
    gap = cache_gap(store.read_meta(), churn)
    if gap is not None:
        raise CacheMismatch(gap)
    return churn


ServedChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_served_churn)]
