"""The served models: versions, load errors and feature drift (for operators)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import ADMIN, ModelsDep, SettingsDep, StoreDep
from service.model_status import ModelsOverview, models_overview
from service.schemas import PROTECTED, UNAVAILABLE

router = APIRouter(
    prefix="/v1", tags=["models"], dependencies=[ADMIN], responses={**UNAVAILABLE, **PROTECTED}
)


@router.get("/models", response_model=ModelsOverview)
async def list_models(store: StoreDep, models: ModelsDep, settings: SettingsDep) -> ModelsOverview:
    """Each model's loaded version and the drift (PSI per feature) of the current population.

    Drift is computed by `valuechain materialize` against the training distributions stored in
    the bundle. Role `admin`: feature distributions are for operators, not for storefronts.
    """
    meta = store.read_meta()  # one read: its "version" is the version it describes
    if meta and "version" not in meta:  # written before versions recorded their own id
        meta["version"] = store.current_version()
    return models_overview(models, meta, settings)
