"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import ModelsDep, StoreDep
from service.schemas import Health, Readiness
from service.scoring import cache_gap

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(store: StoreDep, models: ModelsDep) -> JSONResponse:
    """Ready when Redis answers, a materialization is current, every champion is loaded and the
    cache holds the churn champion's features (else `errors` says what is missing)."""
    store_ok = store.ping()
    version = store.current_version() if store_ok else None
    meta = store.read_meta() if version else {}
    versions, errors = models.versions(), dict(models.errors)
    gap = cache_gap(meta, models.churn) if models.churn is not None and version else None
    if gap is not None:
        errors["churn"] = gap
    ready = store_ok and version is not None and all(versions.values()) and gap is None
    body = Readiness(
        ready=ready,
        store=store_ok,
        cache_version=version,
        as_of=meta.get("as_of"),
        models=versions,
        errors=errors,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
