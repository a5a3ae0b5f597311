"""Scores explained at materialization answer exactly what live scoring answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.explained import explain_first
from models.scoring.explained import pack, unpack
from models.scoring.scorer import TabularScorer
from tests.unit.training.test_scoring import TEXT, make_table
from training.scoring.train import TrainConfig, train_scorer


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> TabularScorer:
    bundle = tmp_path_factory.mktemp("explained") / "bundle"
    config = TrainConfig("churn", "churned", "customer_id", feature_text=TEXT, n_trials=1)
    return train_scorer(make_table(1500, seed=4), config, bundle).scorer


def _records() -> list[dict[str, object]]:
    frame = make_table(300, seed=9)
    frame.loc[3, "source"] = "tv"  # unseen category
    frame.loc[4, "recency_days"] = np.nan
    frame.loc[5, "source"] = pd.NA
    frame = frame.drop(columns=["churned", "customer_id"])
    records: list[dict[str, object]] = (
        frame.astype(object).where(frame.notna(), None).to_dict("records")
    )
    records.append({})  # every feature unknown
    return records


@pytest.mark.parametrize("top", [1, 3, 5])
def test_explained_answers_equal_live_answers(scorer: TabularScorer, top: int) -> None:
    records = _records()
    live = scorer.score_records(records, top_reasons=top)
    blobs = scorer.explain_records(records)
    cached = [scorer.score_explained(r, b, top) for r, b in zip(records, blobs, strict=True)]
    assert len({len(b) for b in blobs}) == 1
    for want, got in zip(live, cached, strict=True):
        assert got is not None
        assert got.probability == pytest.approx(want.probability, rel=1e-9, abs=1e-12)
        assert (got.score, got.tier, got.missing, got.unseen) == (
            want.score,
            want.tier,
            want.missing,
            want.unseen,
        )
        assert got.percentile == pytest.approx(want.percentile)
        for mine, theirs in (
            (got.reasons_up, want.reasons_up),
            (got.reasons_down, want.reasons_down),
        ):
            assert [(r.feature, r.value, r.text) for r in mine] == [
                (r.feature, r.value, r.text) for r in theirs
            ]
            np.testing.assert_allclose(
                [r.contribution for r in mine], [r.contribution for r in theirs], rtol=1e-9
            )


def test_a_blob_keeping_fewer_reasons_than_asked_is_not_used(scorer: TabularScorer) -> None:
    contributions = np.array([[0.5, -0.25, 0.125, -1.0, 0.0, 0.1]])
    scored = (np.array([0.4]), np.array([np.nan]), np.array([1]))
    (blob,) = pack(contributions, scored, 7, top=2)
    assert unpack(blob, 3, 5, 7) is None
    assert unpack(blob, 2, 5, 8) is None  # another bundle's blob
    found = unpack(blob, 2, 5, 7)
    assert found is not None
    assert found.logit == pytest.approx(contributions.sum())
    assert (found.probability, found.percentile, found.tier) == (0.4, None, 1)
    assert found.up == [(0, 0.5), (2, 0.125)]
    assert found.down == [(3, -1.0), (1, -0.25)]
    assert unpack(b"", 1, 5, 7) is None
    assert unpack(blob[:-1], 2, 5, 7) is None
    record = {name: None for name in scorer.feature_names}
    assert scorer.score_explained(record, b"\x09garbage", 3) is None


def test_signs_filter_like_top_reasons() -> None:
    scored = (np.array([0.9]), np.array([50.0]), np.array([0]))
    (blob,) = pack(np.array([[0.3, 0.2, 0.1, 0.0]]), scored, 1, top=3)
    found = unpack(blob, 3, 3, 1)
    assert found is not None
    assert found.up == [(0, 0.3), (1, 0.2), (2, 0.1)]
    assert found.down == []


def test_materialize_explains_the_riskiest_active_customers_first(scorer: TabularScorer) -> None:
    feats = make_table(400, seed=11).drop(columns=["churned"]).set_index("customer_id")
    assert explain_first(scorer, feats, feats.index[:0], 400) is feats.index  # all fit
    assert explain_first(scorer, feats, feats.index, 0) is None
    assert explain_first(None, feats, feats.index, 10) is None
    active = feats.index[::3]
    picked = explain_first(scorer, feats, active, 50)
    assert picked is not None and len(picked) == 50 and set(picked) <= set(active)
    risk = scorer.score_frame(feats)["probability"]
    floor = risk.loc[picked].min()
    assert (risk.loc[active.difference(picked)] <= floor).all()
    everyone_active = explain_first(scorer, feats, active, len(active) + 20)
    assert everyone_active is not None and set(active) < set(everyone_active)
