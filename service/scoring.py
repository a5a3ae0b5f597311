"""Turning cached features or inline leads into scored responses (shared by the score routes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from features.store import CustomerRecord, OnlineStore
from models.champions import LoadedModel
from models.scoring.fields import check_record
from models.scoring.scorer import Scored, TabularScorer
from service.errors import BadRequest
from service.schemas import ChurnScore, LeadScore, LeadScores, Reason

# Reasons each way per score: enough that correlated signals (recency, orders, visits) don't
# crowd out a second cause such as open tickets.
TOP_REASONS = 5  # at most what materialize keeps (`models.scoring.explained.EXPLAINED_REASONS`)
LEAD_ID = "lead_id"
BATCH_KEY = "leads"


def churn_scores(
    store: OnlineStore, churn: LoadedModel[TabularScorer], customer_ids: Sequence[str]
) -> tuple[list[ChurnScore], list[str]]:
    """Score cached customers in one round trip; returns (scores, ids not in the cache)."""
    records = store.read_customers(list(dict.fromkeys(customer_ids)))
    # Customers cached with recommender state only (from an interactions file) have no churn
    # features: not found, rather than a score from all-unknown features.
    known = [r for r in records if r.features]
    missing = [r.customer_id for r in records if not r.features]
    if not known:
        return [], missing
    meta = store.read_meta()
    scored = churn_scored(churn, known, meta)
    as_of = meta.get("as_of")
    results = [
        ChurnScore(
            customer_id=r.customer_id,
            probability=s.probability,
            score=s.score,
            risk_tier=s.tier,
            percentile=s.percentile,
            reasons_up=_reasons(s.reasons_up),
            reasons_down=_reasons(s.reasons_down),
            model_version=churn.version,
            as_of=as_of,
        )
        for r, s in zip(known, scored, strict=True)
    ]
    return results, missing


def churn_scored(
    churn: LoadedModel[TabularScorer], records: Sequence[CustomerRecord], meta: dict[str, Any]
) -> list[Scored]:
    """Scores with reasons of cached customers: as materialize explained them when the loaded
    champion did (no SHAP on the request path), else computed now in one model call."""
    model = churn.model
    explained = meta.get("explained", {}).get("churn") == model.fingerprint
    out: list[Scored | None] = [
        model.score_explained(r.features, r.explained["churn"], TOP_REASONS)
        if explained and "churn" in r.explained
        else None
        for r in records
    ]
    live = [i for i, s in enumerate(out) if s is None]
    if live:
        fresh = model.score_records([records[i].features for i in live], top_reasons=TOP_REASONS)
        for i, s in zip(live, fresh, strict=True):
            out[i] = s
    return [s for s in out if s is not None]


def cache_gap(meta: dict[str, Any], churn: LoadedModel[TabularScorer]) -> str | None:
    """Why the current cache cannot serve `churn` (features it does not hold), or None.

    Scoring a customer whose cached features are not the model's would answer every feature
    "unknown": a confident-looking score from nothing. Cache versions written before feature
    sets were recorded (no `features` in their meta) are taken as they are.
    """
    held = meta.get("features")
    if held is None:
        return None
    held_set = set(held)
    missing = [f for f in churn.model.feature_names if f not in held_set]
    if not missing:
        return None
    shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
    return (
        f"the churn champion ({churn.name} version {churn.version}) needs {len(missing)} "
        f"feature(s) the feature cache does not hold ({shown}); materialize the data it was "
        "trained on, e.g. `valuechain materialize --table FILE --id COLUMN`"
    )


def lead_records(body: dict[str, Any], max_batch: int) -> tuple[list[Any], bool]:
    """The inline leads of a body - one flat lead or `{"leads": [...]}` - and whether a batch."""
    if set(body) == {BATCH_KEY} and isinstance(body[BATCH_KEY], list):
        leads: list[Any] = body[BATCH_KEY]
        if not leads:
            raise BadRequest("`leads` must hold at least one lead")
        if len(leads) > max_batch:
            raise BadRequest(f"at most {max_batch} leads per request, got {len(leads)}")
        return leads, True
    return [body], False


def lead_scores(
    lead: LoadedModel[TabularScorer], body: dict[str, Any], max_batch: int
) -> LeadScores:
    """Validate inline leads against the champion's fields and score them (422 names each field)."""
    leads, batch = lead_records(body, max_batch)
    scorer = lead.model
    id_fields = (
        (LEAD_ID, scorer.id_col) if scorer.id_col and scorer.id_col != LEAD_ID else (LEAD_ID,)
    )
    problems = [
        p
        for i, record in enumerate(leads)
        for p in check_record(record, scorer.specs, id_fields, i if batch else None)
    ]
    if problems:
        detail = [p.as_error(BATCH_KEY) for p in problems]
        raise BadRequest(f"{len(problems)} invalid field(s)", detail)
    scored = scorer.score_records(leads, top_reasons=TOP_REASONS)
    results = [
        _lead_score(_lead_id(record, id_fields), s, lead.version)
        for record, s in zip(leads, scored, strict=True)
    ]
    return LeadScores(
        results=results, model_version=lead.version, grade_rule=scorer.tier_rule.rule()
    )


def lead_id_fields(scorer: TabularScorer) -> tuple[str, ...]:
    """Fields that carry a lead's id: `lead_id`, and the training table's id column if other."""
    if scorer.id_col and scorer.id_col != LEAD_ID:
        return (LEAD_ID, scorer.id_col)
    return (LEAD_ID,)


def _lead_score(lead_id: str | None, s: Scored, version: str) -> LeadScore:
    return LeadScore(
        lead_id=lead_id,
        probability=s.probability,
        score=s.score,
        grade=s.tier,
        percentile=s.percentile,
        reasons_up=_reasons(s.reasons_up),
        reasons_down=_reasons(s.reasons_down),
        missing=list(s.missing),
        unseen_categories=dict(s.unseen),
        model_version=version,
    )


def _lead_id(record: dict[str, Any], id_fields: tuple[str, ...]) -> str | None:
    for name in id_fields:
        if record.get(name) is not None:
            value = record[name]
            # A whole float id (401600.0) is the integer id it spells.
            return str(int(value)) if isinstance(value, float) else str(value)
    return None


def _reasons(reasons: Sequence[Any]) -> list[Reason]:
    return [
        Reason(feature=r.feature, value=r.value, contribution=float(r.contribution), text=r.text)
        for r in reasons
    ]
