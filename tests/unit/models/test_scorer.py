"""The run-time scorer: records without pandas, missing/unseen values, reasons in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.scoring.reasons import reason_text, top_reasons, with_direction
from models.scoring.scorer import TabularScorer
from models.scoring.specs import encode_frame, encode_records
from tests.unit.training.test_scoring import TEXT, make_table
from training.scoring.train import TrainConfig, train_scorer


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> TabularScorer:
    bundle = tmp_path_factory.mktemp("runtime") / "bundle"
    config = TrainConfig("churn", "churned", "customer_id", feature_text=TEXT, n_trials=1)
    return train_scorer(make_table(1500, seed=2), config, bundle).scorer


def test_records_encode_like_frames(scorer: TabularScorer) -> None:
    frame = make_table(50, seed=5)
    frame.loc[3, "source"] = "tv"  # unseen category
    frame.loc[4, "recency_days"] = np.nan
    frame.loc[5, "source"] = pd.NA
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    from_records, _ = encode_records(records, scorer.specs)
    np.testing.assert_array_equal(from_records, encode_frame(frame, scorer.specs))
    batch = scorer.score_frame(frame)["probability"].to_numpy()
    online = [s.probability for s in scorer.score_records(records)]
    np.testing.assert_allclose(online, batch, rtol=1e-12)


def test_unseen_category_and_missing_values_score(scorer: TabularScorer) -> None:
    scored = scorer.score_records(
        [
            {
                "recency_days": 10.0,
                "unresolved_tickets": None,
                "source": "carrier pigeon",
                "vip": True,
            },
            {},
        ]
    )
    assert scored[0].missing == ["unresolved_tickets", "noise"]
    assert scored[1].missing == scorer.feature_names
    for item in scored:
        assert 0.0 < item.probability < 1.0
        assert 0 <= item.score <= 100
        assert item.tier in ("high", "medium", "low")


def test_idle_customer_with_tickets_reads_its_reasons(scorer: TabularScorer) -> None:
    base = {
        "recency_days": 3.0,
        "unresolved_tickets": 0.0,
        "source": "referral",
        "vip": False,
        "noise": 0.0,
    }
    idle = {**base, "recency_days": 200.0, "unresolved_tickets": 4.0, "source": "web"}
    calm, risky = scorer.score_records([base, idle], top_reasons=3)
    assert risky.probability > calm.probability
    assert risky.tier == "high"
    texts = {r.feature: r.text for r in risky.reasons_up}
    assert texts["recency_days"] == "no purchase for 200 days (raises churn risk)"
    assert texts["unresolved_tickets"] == "4 unresolved tickets (raises churn risk)"
    assert all(r.text.endswith("(lowers churn risk)") for r in calm.reasons_down)
    assert all(r.contribution > 0 for r in risky.reasons_up)
    assert all(r.contribution < 0 for r in calm.reasons_down)
    assert "recency_days" in {r.feature for r in calm.reasons_down}
    down = [r.contribution for r in calm.reasons_down]
    assert down == sorted(down)


def test_bad_value_names_record_and_feature(scorer: TabularScorer) -> None:
    with pytest.raises(ValueError, match=r"record 1, feature 'recency_days'"):
        scorer.score_records([{}, {"recency_days": "soon"}])


def test_reason_text_fallbacks() -> None:
    assert reason_text("source", "categorical", "referral", None) == "source: referral"
    assert reason_text("spend", "numeric", 12.5, None) == "spend = 12.5"
    assert reason_text("spend", "numeric", 12.5, "spent {value:.0f}") == "spent 12"
    assert reason_text("spend", "numeric", 12.5, "bad {value:d}") == "spend = 12.5"
    assert reason_text("spend", "numeric", None, "spent {value:.0f}") == "spend unknown"
    assert reason_text("vip", "bool", True, None) == "vip: yes"
    assert reason_text("vip", "bool", False, None) == "vip: no"


def test_plurals_follow_the_value() -> None:
    # Guards issue 10: "referred 1 customers".
    template = "referred {value:.0f} customer{|s}"
    assert reason_text("r", "numeric", 1.0, template) == "referred 1 customer"
    assert reason_text("r", "numeric", 2.0, template) == "referred 2 customers"
    assert reason_text("r", "numeric", 0.0, template) == "referred 0 customers"
    assert reason_text("c", "numeric", 1, "buys in {value:.0f} categor{y|ies}") == (
        "buys in 1 category"
    )
    assert reason_text("c", "numeric", 3, "buys in {value:.0f} categor{y|ies}") == (
        "buys in 3 categories"
    )


def test_a_boolean_template_reads_both_ways() -> None:
    template = "came through a referral|not referred by a customer"
    assert reason_text("was_referred", "bool", True, template) == "came through a referral"
    assert reason_text("was_referred", "bool", False, template) == "not referred by a customer"
    assert reason_text("was_referred", "bool", False, "came through a referral") == (
        "not came through a referral"
    )


def test_the_direction_follows_the_sign() -> None:
    # Guards issue 10: "0 spent in the last 90 days" listed as lowering churn risk, no hint why.
    up, down = top_reasons(
        np.array([0.4, -0.3]),
        [0.0, 5.0],
        ["monetary_90d", "orders"],
        ["numeric", "numeric"],
        {"monetary_90d": "spent {value:,.0f} in the last 90 days"},
        3,
        "churn risk",
    )
    assert up[0].text == "spent 0 in the last 90 days (raises churn risk)"
    assert down[0].text == "orders = 5 (lowers churn risk)"
    assert with_direction("x", -0.1, "conversion chance") == "x (lowers conversion chance)"
