"""Request and response bodies (they are the OpenAPI docs at /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    store: bool = Field(description="The Redis feature cache answers.")
    cache_version: str | None = Field(description="The materialization being served.")
    as_of: str | None = Field(description="The data cut-off of that materialization.")
    models: dict[str, str | None] = Field(description="Loaded champion version per model role.")
    errors: dict[str, str] = Field(default_factory=dict)


class FeatureDrift(BaseModel):
    name: str
    psi: float = Field(description="Population stability index vs the training data.")
    drifted: bool = Field(description="psi >= the server's DRIFT_PSI_THRESHOLD.")


class Drift(BaseModel):
    measured_against: str | None = Field(
        description="Model version whose training data the last materialize compared with."
    )
    rows: int = Field(description="Rows of the current population (active customers, leads).")
    max_psi: float
    drifted: bool = Field(description="Any feature at or over the threshold: consider retraining.")
    features: list[FeatureDrift] = Field(description="Highest PSI first.")


class ModelStatus(BaseModel):
    role: str
    name: str = Field(description="MLflow registered model name.")
    version: str | None = Field(description="Loaded version (None: not loaded, see `error`).")
    run_id: str | None
    error: str | None = None
    drift: Drift | None = Field(
        description="Churn and lead only, from the last materialization (None before one)."
    )


class ModelsOverview(BaseModel):
    cache_version: str | None
    as_of: str | None
    psi_threshold: float
    models: list[ModelStatus]


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


class ChurnScore(BaseModel):
    customer_id: str
    probability: float = Field(ge=0, le=1)
    score: int = Field(ge=0, le=100)
    risk_tier: Literal["high", "medium", "low"]
    reasons_up: list[Reason] = Field(description="What raises the churn risk most.")
    reasons_down: list[Reason] = Field(description="What lowers it most.")
    model_version: str
    as_of: str | None = None


class ChurnBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_ids: list[str] = Field(min_length=1)


class ChurnBatch(BaseModel):
    results: list[ChurnScore]
    not_found: list[str]
    model_version: str


class AtRisk(BaseModel):
    customers: list[ChurnScore]
    model_version: str


COUNT_MAX = 1_000_000


class LeadIn(BaseModel):
    """A lead's attributes; every field is optional, missing ones are reported back."""

    model_config = ConfigDict(extra="forbid")
    lead_id: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=200)
    industry: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    company_size: int | None = Field(default=None, ge=0, le=10_000_000)
    email_opens: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    web_visits: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    content_downloads: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    meetings: int | None = Field(default=None, ge=0, le=COUNT_MAX)


class LeadBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leads: list[LeadIn] = Field(min_length=1)


class LeadScore(BaseModel):
    lead_id: str | None
    probability: float = Field(ge=0, le=1)
    score: int = Field(ge=0, le=100)
    grade: Literal["A", "B", "C", "D"]
    reasons_up: list[Reason]
    reasons_down: list[Reason]
    missing: list[str] = Field(description="Fields the lead did not have; scored as unknown.")
    model_version: str


class LeadScores(BaseModel):
    results: list[LeadScore]
    model_version: str


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    customer_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    event_type: Literal["view", "cart", "purchase"]
    timestamp: float | None = Field(
        default=None,
        ge=0,
        le=4_102_444_800,
        description="Unix seconds (before 2100); default: now.",
    )
    quantity: int = Field(default=1, ge=1, le=10000)
    amount: float = Field(default=0.0, ge=0, le=1e9)


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
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
        description="not_found, invalid_request, payload_too_large, "
        "model_unavailable, store_unavailable"
    )


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown id"}
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "Model not loaded, cache empty or Redis down"},
    422: {"model": ErrorBody, "description": "Invalid request; detail names each field"},
}
