"""Request dependencies: the store, the models and the settings, taken from the app state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from features.store import OnlineStore
from models.champions import CHURN, LEAD, RECOMMENDER, LoadedModel, ModelSet, Role
from models.recommender.model import RecommenderModel
from models.scoring.scorer import TabularScorer
from service.config import ServiceSettings
from service.errors import CacheMismatch, ModelUnavailable, StoreUnavailable
from service.scoring import cache_gap


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> OnlineStore:
    store: OnlineStore = request.app.state.store
    return store


def get_cached_store(request: Request) -> OnlineStore:
    """The store, once a materialization has been committed (else 503: nothing to read yet)."""
    store: OnlineStore = request.app.state.store
    if store.current_version() is None:
        raise StoreUnavailable("the feature cache is empty; run `valuechain materialize` first")
    return store


def get_models(request: Request) -> ModelSet:
    models: ModelSet = request.app.state.models
    return models


T = TypeVar("T")


def _require(role: Role[T]) -> Callable[[Request], LoadedModel[T]]:
    def dependency(request: Request) -> LoadedModel[T]:
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
RecommenderDep = Annotated[LoadedModel[RecommenderModel], Depends(_require(RECOMMENDER))]
ChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_require(CHURN))]
LeadDep = Annotated[LoadedModel[TabularScorer], Depends(_require(LEAD))]


def _served_churn(store: CachedStoreDep, churn: ChurnDep) -> LoadedModel[TabularScorer]:
    """The churn champion, when the current cache holds its features (else 503, saying which)."""
    gap = cache_gap(store.read_meta(), churn)
    if gap is not None:
        raise CacheMismatch(gap)
    return churn


ServedChurnDep = Annotated[LoadedModel[TabularScorer], Depends(_served_churn)]
