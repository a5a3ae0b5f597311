"""Churn early warnings (retention) and lead scores (acquisition)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.responses import Response

from models.champions import LEAD
from service.deps import (
    READ,
    WRITE,
    CachedStoreDep,
    ReaderDep,
    ServedChurnDep,
    SettingsDep,
    app_reader,
    app_settings,
    loaded_model,
    served_churn,
)
from service.errors import BadRequest, NotFound
from service.responses import json_payload
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
from service.scoring import churn_scores, lead_scores

LEAD_BODY = (
    "One lead as a flat object of the lead model's fields, named as in its training table, plus "
    'an optional `lead_id` (or the table\'s id column); or `{"leads": [...]}` of up to MAX_BATCH '
    "of them. The fields of the current champion, their JSON types and known categories are in "
    "the schema below and at GET /v1/models/lead. Absent or null fields are scored as unknown "
    "(listed in `missing`), unseen categories too (listed in `unseen_categories`); an unknown "
    "field or a value of the wrong type (e.g. a boolean for a number) is a 422 naming it."
)

router = APIRouter(prefix="/v1", tags=["scores"], responses={**UNAVAILABLE, **PROTECTED})

# The routes are `async def`: customer reads are awaited (`service.reader`), the model runs on the
# loop (in the thread pool for batches over OFF_LOOP_ROWS), and payloads are serialised once
# (`service.responses`); `response_model` keeps the OpenAPI document.


@router.get("/customers/at-risk", response_model=AtRisk, dependencies=[READ])
async def at_risk(
    store: CachedStoreDep,
    reader: ReaderDep,
    churn: ServedChurnDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=10000, description="How many customers.")] = 50,
) -> Response:
    """Customers by churn risk, highest first, with reasons (for retention campaigns).

    The ranking is written by `valuechain materialize`: active customers of the built-in world,
    or every row of a table materialized with `--table`."""
    if limit > settings.max_batch:
        raise BadRequest(f"limit must be at most {settings.max_batch}")
    ids = [cid for cid, _ in store.top_ranking("churn", limit)]
    found, _ = await churn_scores(store, reader, churn, ids)
    found.sort(key=lambda s: float(s["probability"]), reverse=True)
    return json_payload({"customers": found, "model_version": churn.version})


@router.get(
    "/customers/{customer_id}/churn",
    response_model=ChurnScore,
    responses=NOT_FOUND,
    dependencies=[READ],
)
async def churn_one(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)], request: Request
) -> Response:
    """Churn probability, risk tier and the reasons behind it for one customer."""
    store, churn = served_churn(request)
    found, missing = await churn_scores(store, app_reader(request), churn, [customer_id])
    if missing:
        raise NotFound(f"customer {customer_id!r} is not in the feature cache")
    return json_payload(found[0])


@router.post("/churn/score", response_model=ChurnBatch, responses=WITH_BODY, dependencies=[READ])
async def churn_batch(body: ChurnBatchRequest, request: Request) -> Response:
    """Churn scores for a batch of customer ids (one Redis pipeline, one model call); unknown ids
    are listed, not fatal."""
    store, churn = served_churn(request)
    max_batch = app_settings(request).max_batch
    if len(body.customer_ids) > max_batch:
        raise BadRequest(
            f"at most {max_batch} customer_ids per request, got {len(body.customer_ids)}"
        )
    found, missing = await churn_scores(store, app_reader(request), churn, body.customer_ids)
    return json_payload({"results": found, "not_found": missing, "model_version": churn.version})


@router.post("/leads/score", response_model=LeadScores, responses=WITH_BODY, dependencies=[WRITE])
async def score_leads(
    body: Annotated[dict[str, Any], Body(description=LEAD_BODY)], request: Request
) -> Response:
    """Score one lead or a batch on the lead model's own fields: probability, grade, reasons
    (a batch in one model call)."""
    lead = loaded_model(request, LEAD)
    return json_payload(await lead_scores(lead, body, app_settings(request).max_batch))
