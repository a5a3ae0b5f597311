"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import ModelsDep, StoreDep
from service.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(store: StoreDep, models: ModelsDep) -> JSONResponse:
    """Ready when Redis answers, a materialization is current and every champion is loaded."""
    store_ok = store.ping()
    version = store.current_version() if store_ok else None
    meta = store.read_meta() if version else {}
    versions = models.versions()
    ready = store_ok and version is not None and all(versions.values())
    body = Readiness(
        ready=ready,
        store=store_ok,
        cache_version=version,
        as_of=meta.get("as_of"),
        models=versions,
        errors=models.errors,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
