"""Churn early warnings (retention) and lead scores (acquisition)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from starlette.responses import Response

from features.store import OnlineStore
from models.champions import LoadedModel
from models.scoring.scorer import TabularScorer
from service.deps import READ, WRITE, CachedStoreDep, LeadDep, ServedChurnDep, SettingsDep
from service.errors import BadRequest, NotFound
from service.offload import sized
from service.responses import json_model
from service.schemas import (
    NOT_FOUND,
    PROTECTED,
    UNAVAILABLE,
    WITH_BODY,
    AtRisk,
    ChurnBatch,
    ChurnBatchRequest,
    ChurnScore,
    LeadScores,
)
from service.scoring import BATCH_KEY, churn_scores, lead_scores

LEAD_BODY = (
    "One lead as a flat object of the lead model's fields, named as in its training table, plus "
    'an optional `lead_id` (or the table\'s id column); or `{"leads": [...]}` of up to MAX_BATCH '
    "of them. The fields of the current champion, their JSON types and known categories are in "
    "the schema below and at GET /v1/models/lead. Absent or null fields are scored as unknown "
    "(listed in `missing`), unseen categories too (listed in `unseen_categories`); an unknown "
    "field or a value of the wrong type (e.g. a boolean for a number) is a 422 naming it."
)

router = APIRouter(prefix="/v1", tags=["scores"], responses={**UNAVAILABLE, **PROTECTED})


@router.get("/customers/at-risk", response_model=AtRisk, dependencies=[READ])
async def at_risk(
    store: CachedStoreDep,
    churn: ServedChurnDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=10000, description="How many customers.")] = 50,
) -> Response:
    """Customers by churn risk, highest first, with reasons (for retention campaigns).

    The ranking is written by `valuechain materialize`: active customers of the built-in world,
    or every row of a table materialized with `--table`."""
    if limit > settings.max_batch:
        raise BadRequest(f"limit must be at most {settings.max_batch}")
    return await sized(limit, _at_risk, store, churn, limit)


def _at_risk(store: OnlineStore, churn: LoadedModel[TabularScorer], limit: int) -> Response:
    ids = [cid for cid, _ in store.top_ranking("churn", limit)]
    found, _ = churn_scores(store, churn, ids)
    found.sort(key=lambda s: s.probability, reverse=True)
    return json_model(AtRisk(customers=found, model_version=churn.version))


@router.get(
    "/customers/{customer_id}/churn",
    response_model=ChurnScore,
    responses=NOT_FOUND,
    dependencies=[READ],
)
async def churn_one(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    store: CachedStoreDep,
    churn: ServedChurnDep,
) -> Response:
    """Churn probability, risk tier and the reasons behind it for one customer."""
    found, missing = churn_scores(store, churn, [customer_id])
    if missing:
        raise NotFound(f"customer {customer_id!r} is not in the feature cache")
    return json_model(found[0])


@router.post("/churn/score", response_model=ChurnBatch, responses=WITH_BODY, dependencies=[READ])
async def churn_batch(
    body: ChurnBatchRequest, store: CachedStoreDep, churn: ServedChurnDep, settings: SettingsDep
) -> Response:
    """Churn scores for a batch of customer ids; unknown ids are listed, not fatal."""
    if len(body.customer_ids) > settings.max_batch:
        raise BadRequest(
            f"at most {settings.max_batch} customer_ids per request, got {len(body.customer_ids)}"
        )
    return await sized(len(body.customer_ids), _churn_batch, store, churn, body.customer_ids)


def _churn_batch(store: OnlineStore, churn: LoadedModel[TabularScorer], ids: list[str]) -> Response:
    found, missing = churn_scores(store, churn, ids)
    return json_model(ChurnBatch(results=found, not_found=missing, model_version=churn.version))


@router.post("/leads/score", response_model=LeadScores, responses=WITH_BODY, dependencies=[WRITE])
async def score_leads(
    body: Annotated[dict[str, Any], Body(description=LEAD_BODY)],
    lead: LeadDep,
    settings: SettingsDep,
) -> Response:
    """Score one lead or a batch on the lead model's own fields: probability, grade, reasons."""
    rows = len(body[BATCH_KEY]) if isinstance(body.get(BATCH_KEY), list) else 1
    return await sized(rows, lambda: json_model(lead_scores(lead, body, settings.max_batch)))
