"""The loaded model set: champions resolved through the MLflow registry, loaded once per process.

Serving reads trained artifacts only through this module and `features.runtime`. A model that
cannot be loaded leaves its endpoints answering 503 while the others keep serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from features.runtime.resolve import resolve_bundle
from service.config import ServiceSettings

logger = logging.getLogger(__name__)

ROLES = ("recommender", "churn", "lead")


@dataclass(frozen=True)
class LoadedModel:
    """One champion in memory: registry name, version, run id and the runtime object."""

    name: str
    version: str
    run_id: str | None
    model: Any


@dataclass
class ModelSet:
    """The models this process serves, by role, and why any of them is missing."""

    models: dict[str, LoadedModel] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, role: str) -> LoadedModel | None:
        return self.models.get(role)

    def versions(self) -> dict[str, str | None]:
        return {role: (m.version if (m := self.models.get(role)) else None) for role in ROLES}


def model_names(settings: ServiceSettings) -> dict[str, str]:
    """Registered model name of each role."""
    return {"recommender": settings.recommender_model, "churn": settings.churn_model,
            "lead": settings.lead_model}


def _loaders() -> dict[str, Callable[[Path], Any]]:
    from features.runtime.recommender import RecommenderModel
    from features.runtime.tabular import TabularScorer

    # `kind` guards against a lead bundle registered under the churn name (and vice versa).
    return {"recommender": RecommenderModel.load,
            "churn": partial(TabularScorer.load, kind="churn"),
            "lead": partial(TabularScorer.load, kind="lead")}


def load_models(settings: ServiceSettings, current: ModelSet | None = None) -> ModelSet:
    """Load each role's champion; reuse `current` models whose version did not change."""
    loaders = _loaders()
    result = ModelSet()
    for role, name in model_names(settings).items():
        try:
            bundle = resolve_bundle(settings.mlflow_tracking_uri, name, settings.model_alias,
                                    settings.state_dir / "models")
            old = current.get(role) if current else None
            if old is not None and (old.version, old.run_id) == (bundle.version, bundle.run_id):
                result.models[role] = old
                continue
            model = loaders[role](bundle.path)
            result.models[role] = LoadedModel(name, bundle.version, bundle.run_id, model)
            logger.info("loaded %s version %s", name, bundle.version)
        except Exception as exc:
            # Clients see the kind of failure only; the log has the details (URIs, paths).
            result.errors[role] = f"{name}@{settings.model_alias}: {type(exc).__name__}"
            logger.warning("cannot load %s@%s: %s", name, settings.model_alias, exc)
            if current and (old := current.get(role)):
                result.models[role] = old
    return result
