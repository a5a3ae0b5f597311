"""Administration (role `admin`): the models this worker serves and a reload now."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.deps import ADMIN, ModelsDep
from service.refresh import reload_models
from service.schemas import PROTECTED, UNAVAILABLE, ModelsLoaded

router = APIRouter(
    prefix="/v1/admin", tags=["admin"], dependencies=[ADMIN], responses={**UNAVAILABLE, **PROTECTED}
)


@router.get("/models", response_model=ModelsLoaded)
async def loaded_models(models: ModelsDep) -> ModelsLoaded:
    """The champion version each role serves in this worker, and why any failed to load."""
    return ModelsLoaded(models=models.versions(), errors=models.errors)


@router.post("/models/reload", response_model=ModelsLoaded)
async def reload(request: Request) -> ModelsLoaded:
    """Check the registry now (instead of waiting for MODEL_REFRESH_SECONDS) in this worker."""
    models = await reload_models(request.app)
    return ModelsLoaded(models=models.versions(), errors=models.errors)
