"""Churn early warnings (retention) and lead scores (acquisition)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.deps import READ, WRITE, CachedStoreDep, ChurnDep, LeadDep, SettingsDep
from service.errors import BadRequest, NotFound
from service.schemas import (
    NOT_FOUND,
    PROTECTED,
    UNAVAILABLE,
    WITH_BODY,
    AtRisk,
    ChurnBatch,
    ChurnBatchRequest,
    ChurnScore,
    LeadBatchIn,
    LeadIn,
    LeadScores,
)
from service.scoring import churn_scores, lead_scores

router = APIRouter(prefix="/v1", tags=["scores"], responses={**UNAVAILABLE, **PROTECTED})


@router.get("/customers/at-risk", response_model=AtRisk, dependencies=[READ])
def at_risk(
    store: CachedStoreDep,
    churn: ChurnDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=10000, description="How many customers.")] = 50,
) -> AtRisk:
    """Customers by churn risk, highest first, with reasons (for retention campaigns)."""
    if limit > settings.max_batch:
        raise BadRequest(f"limit must be at most {settings.max_batch}")
    ids = [cid for cid, _ in store.top_ranking("churn", limit)]
    found, _ = churn_scores(store, churn, ids)
    found.sort(key=lambda s: s.probability, reverse=True)
    return AtRisk(customers=found, model_version=churn.version)


@router.get(
    "/customers/{customer_id}/churn",
    response_model=ChurnScore,
    responses=NOT_FOUND,
    dependencies=[READ],
)
def churn_one(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    store: CachedStoreDep,
    churn: ChurnDep,
) -> ChurnScore:
    """Churn probability, risk tier and the reasons behind it for one customer."""
    found, missing = churn_scores(store, churn, [customer_id])
    if missing:
        raise NotFound(f"customer {customer_id!r} is not in the feature cache")
    return found[0]


@router.post("/churn/score", response_model=ChurnBatch, responses=WITH_BODY, dependencies=[READ])
def churn_batch(
    body: ChurnBatchRequest, store: CachedStoreDep, churn: ChurnDep, settings: SettingsDep
) -> ChurnBatch:
    """Churn scores for a batch of customer ids; unknown ids are listed, not fatal."""
    if len(body.customer_ids) > settings.max_batch:
        raise BadRequest(
            f"at most {settings.max_batch} customer_ids per request, got {len(body.customer_ids)}"
        )
    found, missing = churn_scores(store, churn, body.customer_ids)
    return ChurnBatch(results=found, not_found=missing, model_version=churn.version)


@router.post("/leads/score", response_model=LeadScores, responses=WITH_BODY, dependencies=[WRITE])
def score_leads(body: LeadIn | LeadBatchIn, lead: LeadDep, settings: SettingsDep) -> LeadScores:
    """Score one lead or a batch of inline leads: probability, 0-100 score, grade A-D, reasons."""
    leads = body.leads if isinstance(body, LeadBatchIn) else [body]
    if len(leads) > settings.max_batch:
        raise BadRequest(f"at most {settings.max_batch} leads per request, got {len(leads)}")
    return LeadScores(results=lead_scores(lead, leads), model_version=lead.version)
