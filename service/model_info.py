"""What a tabular champion takes and how it grades, for GET /v1/models/{role} and the docs."""

from __future__ import annotations

from models.champions import CHURN, LEAD, LoadedModel, ModelSet
from models.scoring.fields import example_record, json_type
from models.scoring.scorer import TabularScorer
from service.errors import ModelUnavailable
from service.schemas import ModelField, ModelInfo, TierInfo
from service.scoring import LEAD_ID


def describe(role: str, models: ModelSet) -> ModelInfo:
    """The loaded champion of `role` ("churn" or "lead") described; 503 when none is loaded."""
    loaded = models.get(CHURN if role == "churn" else LEAD)
    if loaded is None:
        reason = models.errors.get(role, "not loaded")
        raise ModelUnavailable(f"the {role} model is not available: {reason}")
    return model_info(role, loaded)


def model_info(role: str, loaded: LoadedModel[TabularScorer]) -> ModelInfo:
    """The fields, tiers and an example request body of one loaded scorer."""
    scorer = loaded.model
    id_field = LEAD_ID if role == "lead" else (scorer.id_col or "customer_id")
    fields = [
        ModelField(
            name=s.name,
            type=json_type(s),
            kind=s.kind,
            categories=list(s.categories),
            example=example_record([s])[s.name],
        )
        for s in scorer.specs
    ]
    tiers = scorer.tier_rule
    example = example_record(scorer.specs)
    if role == "lead":
        example = {LEAD_ID: "L-1", **example}
    return ModelInfo(
        role=role,
        name=loaded.name,
        model_version=loaded.version,
        trained_at=scorer.manifest.trained_at,
        id_field=id_field,
        fields=fields,
        tiers=TierInfo(
            names=tiers.names,
            thresholds=[float(t) for t in tiers.thresholds],
            basis=tiers.basis,
            rule=tiers.rule(),
        ),
        example=example,
    )
