"""Assembling the customer 360 and the segment overview from cached rows."""

from __future__ import annotations

from typing import Any

from features.store import CustomerRecord
from models.champions import ModelSet
from service.schemas import (
    ChurnSummary,
    Customer360,
    GroupSummary,
    RfmSummary,
    Segments,
    ValueSummary,
)
from service.scoring import cache_gap, churn_scored


def customer_360(record: CustomerRecord, meta: dict[str, Any], models: ModelSet) -> Customer360:
    """One customer's view; parts whose source is missing (value table, churn model) are None."""
    feats, value = record.features, record.value
    churn = models.churn
    churn_summary = None
    # No churn summary from features the cache does not hold (all "unknown" would mislead).
    if churn is not None and cache_gap(meta, churn) is None:
        scored = churn_scored(churn, [record], meta)[0]
        churn_summary = ChurnSummary(
            probability=scored.probability,
            score=scored.score,
            risk_tier=scored.tier,
            top_reasons=[r.text for r in scored.reasons_up],
        )
    versions = dict(models.versions())
    versions["value_table"] = value.get("as_of")
    return Customer360(
        customer_id=record.customer_id,
        as_of=meta.get("as_of"),
        region=feats.get("region"),
        acquisition_channel=feats.get("acquisition_channel"),
        tenure_days=feats.get("tenure_days"),
        value=ValueSummary.model_validate(_pick(value, ValueSummary)) if value else None,
        rfm=RfmSummary.model_validate(_pick(value, RfmSummary)) if value else None,
        churn=churn_summary,
        tags=list(value.get("tags") or []),
        tag_score=value.get("tag_score"),
        model_versions=versions,
    )


def segment_overview(meta: dict[str, Any]) -> Segments:
    """The per-segment and per-tier summary written by materialize."""
    summary = meta.get("segments") or {}
    return Segments(
        as_of=meta.get("as_of"),
        segments=[GroupSummary.model_validate(g) for g in summary.get("segment", [])],
        tiers=[GroupSummary.model_validate(g) for g in summary.get("value_tier", [])],
    )


def _pick(row: dict[str, Any], model: type[ValueSummary] | type[RfmSummary]) -> dict[str, Any]:
    return {name: row.get(name) for name in model.model_fields}
