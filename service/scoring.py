"""Turning cached features or inline leads into scored responses (shared by the score routes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from features.lead import lead_record_features
from features.store import OnlineStore
from models.champions import LoadedModel
from models.scoring.scorer import TabularScorer
from service.schemas import ChurnScore, LeadIn, LeadScore, Reason

# Reasons each way per score: enough that correlated signals (recency, orders, visits) don't
# crowd out a second cause such as open tickets.
TOP_REASONS = 5


def churn_scores(
    store: OnlineStore, churn: LoadedModel[TabularScorer], customer_ids: Sequence[str]
) -> tuple[list[ChurnScore], list[str]]:
    """Score cached customers in one round trip; returns (scores, ids not in the cache)."""
    records = store.read_customers(list(dict.fromkeys(customer_ids)))
    known = [r for r in records if r.materialized]
    missing = [r.customer_id for r in records if not r.materialized]
    if not known:
        return [], missing
    as_of = store.read_meta().get("as_of")
    scored = churn.model.score_records([r.features for r in known], top_reasons=TOP_REASONS)
    results = [
        ChurnScore(
            customer_id=r.customer_id,
            probability=s.probability,
            score=s.score,
            risk_tier=s.tier,
            reasons_up=_reasons(s.reasons_up),
            reasons_down=_reasons(s.reasons_down),
            model_version=churn.version,
            as_of=as_of,
        )
        for r, s in zip(known, scored, strict=True)
    ]
    return results, missing


def lead_scores(lead: LoadedModel[TabularScorer], leads: Sequence[LeadIn]) -> list[LeadScore]:
    """Score inline leads; absent attributes are scored as unknown and listed in `missing`."""
    records = [lead_record_features(item.model_dump(exclude={"lead_id"})) for item in leads]
    scored = lead.model.score_records(records, top_reasons=TOP_REASONS)
    return [
        LeadScore(
            lead_id=item.lead_id,
            probability=s.probability,
            score=s.score,
            grade=s.tier,
            reasons_up=_reasons(s.reasons_up),
            reasons_down=_reasons(s.reasons_down),
            missing=list(s.missing),
            model_version=lead.version,
        )
        for item, s in zip(leads, scored, strict=True)
    ]


def _reasons(reasons: Sequence[Any]) -> list[Reason]:
    return [
        Reason(feature=r.feature, value=r.value, contribution=float(r.contribution), text=r.text)
        for r in reasons
    ]
