"""Request and response bodies (they are the OpenAPI docs at /docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _whole(value: object) -> object:
    # JSON Schema counts 12.0 as an integer; strict pydantic would reject it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Integers of strict models: 12 and 12.0 pass; true, "12" and 12.5 do not. The bounds come before
# the validator, inside the type: otherwise pydantic writes `ge`/`le` into the JSON schema, which
# JSON Schema ignores (schemathesis then sends values the API rejects).
Quantity = Annotated[int, Field(ge=1, le=10000), BeforeValidator(_whole)]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    store: bool = Field(description="The Redis feature cache answers.")
    cache_version: str | None = Field(description="The materialization being served.")
    as_of: str | None = Field(description="The data cut-off of that materialization.")
    models: dict[str, str | None] = Field(description="Loaded champion version per model role.")
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="Why a role is not ready: not loaded, or (churn) a champion whose features "
        "the current cache version does not hold.",
    )


class RecommendedItem(BaseModel):
    item_id: str
    score: float
    reason: str = Field(description="Why this item, in words a shopper could read.")
    source: str = Field(description="The candidate generator or rule that proposed it.")


class Recommendations(BaseModel):
    customer_id: str | None = None
    item_id: str | None = None
    items: list[RecommendedItem]
    fallback: str | None = Field(
        default=None, description="Set when a fallback (e.g. popular items) answered instead."
    )
    model_version: str


class Reason(BaseModel):
    feature: str
    value: float | str | bool | None
    contribution: float = Field(description="Log-odds contribution (SHAP value) of the feature.")
    text: str


RISK_TIER = (
    "Band of the calibrated probability: by default high >= 0.66, medium >= 0.33, low below "
    "(set at training with --tier-thresholds; GET /v1/models/churn shows the champion's)."
)
PERCENTILE = (
    "Percent (0-100) of the scored population (the model's held-out rows) with a probability at "
    "or below this one; null for models trained before percentiles were stored."
)


class ChurnScore(BaseModel):
    customer_id: str
    probability: float = Field(ge=0, le=1, description="Calibrated churn probability.")
    score: int = Field(ge=0, le=100, description="round(100 * probability).")
    risk_tier: Literal["high", "medium", "low"] = Field(description=RISK_TIER)
    percentile: float | None = Field(default=None, ge=0, le=100, description=PERCENTILE)
    reasons_up: list[Reason] = Field(description="What raises the churn risk most.")
    reasons_down: list[Reason] = Field(description="What lowers it most.")
    model_version: str
    as_of: str | None = None


class ChurnBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    customer_ids: list[str] = Field(min_length=1)


class ChurnBatch(BaseModel):
    results: list[ChurnScore]
    not_found: list[str]
    model_version: str


class AtRisk(BaseModel):
    customers: list[ChurnScore]
    model_version: str


GRADE = (
    "A-D from the calibrated probability: by default A = the top 10% of the model's held-out "
    "leads, B the next 20%, C the next 30%, D the rest (`grade_rule` has the thresholds)."
)


class LeadScore(BaseModel):
    lead_id: str | None
    probability: float = Field(ge=0, le=1, description="Calibrated conversion probability.")
    score: int = Field(ge=0, le=100, description="round(100 * probability).")
    grade: Literal["A", "B", "C", "D"] = Field(description=GRADE)
    percentile: float | None = Field(default=None, ge=0, le=100, description=PERCENTILE)
    reasons_up: list[Reason]
    reasons_down: list[Reason]
    missing: list[str] = Field(description="Fields the lead did not have; scored as unknown.")
    unseen_categories: dict[str, str] = Field(
        default_factory=dict,
        description="Fields whose category training never saw (field -> value); scored as unknown.",
    )
    model_version: str


class LeadScores(BaseModel):
    results: list[LeadScore]
    model_version: str
    grade_rule: str = Field(description="How this model's grades follow from the probability.")


class ModelField(BaseModel):
    name: str
    type: Literal["number", "boolean", "string"] = Field(description="The JSON type it takes.")
    kind: str = Field(description="numeric, bool or categorical, as trained.")
    categories: list[str] = Field(description="Known categories (categoricals only).")
    example: Any = Field(description="A typical training value.")


class TierInfo(BaseModel):
    names: list[str]
    thresholds: list[float] = Field(description="probability >= threshold reaches the tier.")
    basis: str
    rule: str


class ModelInfo(BaseModel):
    """What the champion of a role takes and how it grades."""

    role: Literal["churn", "lead"]
    name: str
    model_version: str
    trained_at: str | None
    id_field: str = Field(description="The field that carries the entity's id in requests.")
    fields: list[ModelField] = Field(description="The training table's feature columns.")
    tiers: TierInfo
    example: dict[str, Any] = Field(description="A request body built from typical values.")


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    customer_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    event_type: Literal["view", "cart", "purchase"]
    timestamp: float | None = Field(
        default=None,
        ge=0,
        le=4_102_444_800,
        description="Unix seconds (before 2100); default: now.",
    )
    quantity: Quantity = 1
    amount: float = Field(default=0.0, ge=0, le=1e9)


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    events: list[EventIn] = Field(min_length=1)


class EventsAccepted(BaseModel):
    accepted: int
    unknown_items: list[str] = Field(
        description="Items the recommender does not know yet; stored, but they cannot move "
        "recommendations until the next training."
    )


class ValueSummary(BaseModel):
    """What a customer is worth: historical, predicted (potential) and influence value."""

    value_tier: str | None = Field(description="high, mid, low or potential.")
    historical_value: float | None = Field(description="Realized revenue up to as_of.")
    historical_margin: float | None = Field(description="Revenue minus cost, where items have one.")
    predicted_clv: float | None = Field(description="Discounted expected value over the horizon.")
    influence_value: float | None = Field(description="Value brought through referrals.")
    total_value: float | None
    p_alive: float | None = Field(description="BG/NBD probability the customer is still active.")
    expected_purchases: float | None = Field(description="Expected purchases over the horizon.")


class RfmSummary(BaseModel):
    segment: str | None = Field(description="champions, loyal, ..., lost (docs/value.md).")
    r_score: int | None
    f_score: int | None
    m_score: int | None
    recency_days: float | None
    n_transactions: int | None
    avg_order_value: float | None


class ChurnSummary(BaseModel):
    probability: float
    score: int
    risk_tier: str
    top_reasons: list[str]


class Customer360(BaseModel):
    customer_id: str
    as_of: str | None
    region: str | None
    acquisition_channel: str | None
    tenure_days: float | None
    value: ValueSummary | None = Field(description="None when no value table was materialized.")
    rfm: RfmSummary | None
    churn: ChurnSummary | None = Field(description="None when no churn model is loaded.")
    tags: list[str]
    tag_score: float | None
    model_versions: dict[str, str | None]


class GroupSummary(BaseModel):
    name: str
    customers: int
    historical_value: float
    predicted_clv: float
    total_value: float
    mean_total_value: float


class Segments(BaseModel):
    as_of: str | None
    segments: list[GroupSummary] = Field(description="By RFM segment.")
    tiers: list[GroupSummary] = Field(description="By value tier.")


class ErrorBody(BaseModel):
    """Every error: a message (or, for 422, the list of problems with their fields) and a code."""

    detail: str | list[dict[str, Any]]
    code: str = Field(
        description="malformed_body (400), unauthorized (401), forbidden (403), not_found (404), "
        "payload_too_large (413), invalid_request (422), rate_limited (429), "
        "model_unavailable, store_unavailable, cache_mismatch (503)"
    )


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown id"}
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorBody,
        "description": "Model not loaded, cache empty, Redis down or slow, or (churn) a "
        "champion whose features the cache does not hold",
        "headers": RETRY_AFTER,
    },
    422: {"model": ErrorBody, "description": "Invalid request; detail names each field"},
}
PROTECTED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, unknown or revoked API key"},
    403: {"model": ErrorBody, "description": "The key's role may not call this route"},
    429: {
        "model": ErrorBody,
        "description": "Over the key's rate limit",
        "headers": RETRY_AFTER,
    },
}
WITH_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON"},
    413: {"model": ErrorBody, "description": "The body is larger than MAX_BODY_BYTES"},
}


class ModelsLoaded(BaseModel):
    models: dict[str, str | None] = Field(description="Loaded champion version per role.")
    errors: dict[str, str] = Field(description="Why a role's latest champion failed to load.")
