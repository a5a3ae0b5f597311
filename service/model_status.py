"""What `GET /v1/models` reports (schemas and builder): each served model and its inputs'
drift since training."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from models.champions import ROLES, ModelSet
from service.config import ServiceSettings


class FeatureDrift(BaseModel):
    name: str
    psi: float = Field(description="Population stability index vs the training data.")
    drifted: bool = Field(description="psi >= the server's DRIFT_PSI_THRESHOLD.")


class Drift(BaseModel):
    measured_against: str | None = Field(
        description="Model version whose training data the last materialize compared with."
    )
    rows: int = Field(description="Rows of the current population (active customers, leads).")
    max_psi: float
    drifted: bool = Field(description="Any feature at or over the threshold: consider retraining.")
    features: list[FeatureDrift] = Field(description="Highest PSI first.")


class ModelStatus(BaseModel):
    role: str
    name: str = Field(description="MLflow registered model name.")
    version: str | None = Field(description="Loaded version (None: not loaded, see `error`).")
    run_id: str | None
    error: str | None = None
    drift: Drift | None = Field(
        description="Churn and lead only, from the last materialization (None before one)."
    )


class ModelsOverview(BaseModel):
    cache_version: str | None
    as_of: str | None
    psi_threshold: float
    models: list[ModelStatus]


def models_overview(
    models: ModelSet, meta: dict[str, Any], settings: ServiceSettings
) -> ModelsOverview:
    """Loaded versions and, from the current cache version's metadata, feature drift."""
    threshold = settings.drift_psi_threshold
    drift = meta.get("drift", {})
    measured = meta.get("models", {})
    statuses = []
    for role in ROLES:
        loaded = models.get(role)
        entry = drift.get(role.key)
        statuses.append(
            ModelStatus(
                role=role.key,
                name=role.registered_name(settings),
                version=loaded.version if loaded else None,
                run_id=loaded.run_id if loaded else None,
                error=models.errors.get(role.key),
                drift=_drift(entry, measured.get(role.key), threshold) if entry else None,
            )
        )
    return ModelsOverview(
        cache_version=meta.get("version"),
        as_of=meta.get("as_of"),
        psi_threshold=threshold,
        models=statuses,
    )


def _drift(entry: dict[str, Any], version: str | None, threshold: float) -> Drift:
    psi: dict[str, float] = entry["psi"]
    features = [
        FeatureDrift(name=name, psi=value, drifted=value >= threshold)
        for name, value in sorted(psi.items(), key=lambda kv: -kv[1])
    ]
    top = features[0].psi if features else 0.0
    return Drift(
        measured_against=version,
        rows=int(entry.get("rows", 0)),
        max_psi=top,
        drifted=top >= threshold,
        features=features,
    )
