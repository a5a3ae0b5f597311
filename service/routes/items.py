"""Item-to-item recommendations: similar items and frequently bought together (cross-sell)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from models.recommender.model import RecResult, UnknownItemError
from service.deps import READ, RecommenderDep, SettingsDep
from service.errors import BadRequest, NotFound
from service.responses import json_model
from service.schemas import NOT_FOUND, PROTECTED, UNAVAILABLE, Recommendations, RecommendedItem

router = APIRouter(
    prefix="/v1/items",
    tags=["recommendations"],
    dependencies=[READ],
    responses={**UNAVAILABLE, **PROTECTED},
)

ItemId = Annotated[str, Path(min_length=1, max_length=200)]
K = Annotated[int, Query(ge=1, le=1000, description="How many items.")]


@router.get("/{item_id}/similar", response_model=Recommendations, responses=NOT_FOUND)
async def similar(
    item_id: ItemId, rec: RecommenderDep, settings: SettingsDep, k: K = 10
) -> Response:
    """Items most similar to this one (collaborative-filtering item factors)."""
    return _call(rec.model.similar_items, item_id, k, settings.max_k, rec.version)


@router.get("/{item_id}/bought-together", response_model=Recommendations, responses=NOT_FOUND)
async def bought_together(
    item_id: ItemId, rec: RecommenderDep, settings: SettingsDep, k: K = 10
) -> Response:
    """Items frequently bought with this one (cross-sell)."""
    return _call(rec.model.bought_together, item_id, k, settings.max_k, rec.version)


def _call(
    method: Callable[[str, int], RecResult], item_id: str, k: int, max_k: int, version: str
) -> Response:
    if k > max_k:
        raise BadRequest(f"k must be at most {max_k}")
    try:
        result: RecResult = method(item_id, k)
    except UnknownItemError as exc:
        raise NotFound(f"item {item_id!r} is not in the catalogue") from exc
    items = [
        RecommendedItem(item_id=i.item_id, score=float(i.score), reason=i.reason, source=i.source)
        for i in result.items
    ]
    return json_model(
        Recommendations(
            item_id=item_id, items=items, fallback=result.fallback, model_version=version
        )
    )
