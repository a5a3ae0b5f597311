"""The champions' own fields: what to send to the scoring endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from service.deps import READ, ModelsDep
from service.model_info import describe
from service.schemas import PROTECTED, UNAVAILABLE, ModelInfo

# Readers of scores may see what the models take (a client builds its lead form from it).
router = APIRouter(
    prefix="/v1/models",
    tags=["scores"],
    dependencies=[READ],
    responses={**UNAVAILABLE, **PROTECTED},
)


@router.get("/{role}", response_model=ModelInfo)
async def model_fields(
    role: Annotated[Literal["churn", "lead"], Path(description="churn or lead")],
    models: ModelsDep,
) -> ModelInfo:
    """The current champion's fields (names, JSON types, known categories), tiers and an example
    body; it follows a promote or rollback (hot swap) like every other response."""
    return describe(role, models)
