"""The run-time scorer: records without pandas, missing/unseen values, reasons in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.scoring.reasons import reason_text
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
    assert texts["recency_days"] == "no purchase for 200 days"
    assert texts["unresolved_tickets"] == "4 unresolved tickets"
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
    assert reason_text("was_referred", "bool", True, "came through a referral") == (
        "came through a referral"
    )
    assert reason_text("was_referred", "bool", False, "came through a referral") == (
        "not: came through a referral"
    )
    assert reason_text("spend", "numeric", None, "spent {value:.0f}") == "spend unknown"
