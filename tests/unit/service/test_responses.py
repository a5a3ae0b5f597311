"""Payloads serialised once by orjson are what the response models would have produced."""

from __future__ import annotations

import math
from typing import Any

import orjson

from models.recommender.types import RecItem, RecResult
from models.scoring.reasons import Reason
from models.scoring.scorer import Scored
from service.responses import json_model, json_payload, recommendations_payload
from service.schemas import ChurnScore, Health, LeadScores, Recommendations
from service.scoring import _lead_score, _reasons


def _as_models_would(model: Any, payload: Any) -> Any:
    """The JSON FastAPI would send for `payload` under `response_model=model`."""
    return orjson.loads(model.model_validate(payload).model_dump_json())


def _sent(payload: Any) -> Any:
    return orjson.loads(json_payload(payload).body)


REASONS = [
    Reason("orders", 3, 0.25, "3 orders (raises churn risk)"),
    Reason("region", "north", -0.1, "region: north (lowers churn risk)"),
    Reason("referred", True, 0.05, "came through a referral (raises churn risk)"),
    Reason("spend", float("nan"), -0.01, "spend unknown (lowers churn risk)"),
]


def test_churn_payload_matches_the_model() -> None:
    payload = {
        "customer_id": "c1",
        "probability": 0.42,
        "score": 42,
        "risk_tier": "medium",
        "percentile": None,
        "reasons_up": _reasons(REASONS[:2]),
        "reasons_down": _reasons(REASONS[2:]),
        "model_version": "3",
        "as_of": "2024-01-01",
    }
    sent = _sent(payload)
    assert sent == _as_models_would(ChurnScore, payload)
    assert sent["reasons_up"][0]["value"] == 3.0 and sent["reasons_down"][1]["value"] is None


def test_lead_payload_matches_the_model() -> None:
    scored = Scored(0.9, 90, "A", [REASONS[0]], [REASONS[1]], ["meetings"], 97.5, {"x": "y"})
    payload = {
        "results": [_lead_score("L1", scored, "7"), _lead_score(None, scored, "7")],
        "model_version": "7",
        "grade_rule": "A: p >= 0.5",
    }
    assert _sent(payload) == _as_models_would(LeadScores, payload)


def test_recommendations_payload_matches_the_model() -> None:
    result = RecResult([RecItem("i1", 0.5, "because", "als"), RecItem("i2", 0.25, "pop", "p")])
    for ids in ({"customer_id": "c1"}, {"item_id": "i9"}):
        payload = recommendations_payload(result, "5", **ids)
        assert _sent(payload) == _as_models_would(Recommendations, payload)
    fallback = RecResult([], fallback="store_unavailable")
    assert _sent(recommendations_payload(fallback, "5", customer_id="c"))["fallback"] == (
        "store_unavailable"
    )


def test_json_responses_are_json() -> None:
    response = json_payload({"x": math.inf}, status_code=202)
    assert response.status_code == 202 and response.media_type == "application/json"
    assert orjson.loads(response.body) == {"x": None}
    assert orjson.loads(json_model(Health()).body) == {"status": "ok"}
