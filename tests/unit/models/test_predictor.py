"""The kept LightGBM predictor answers exactly what `Booster.predict` answers."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from models.predictor import KeptPredictor


def _booster() -> lgb.Booster:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 7, "seed": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=20)


def test_kept_predictor_matches_booster_predict_repeatedly() -> None:
    booster = _booster()
    kept = KeptPredictor(booster)
    rng = np.random.default_rng(4)
    for rows in (1, 7, 100):
        x = rng.normal(size=(rows, 5))
        x[0, 2] = np.nan
        for kwargs in ({}, {"raw_score": True}, {"pred_contrib": True}):
            expected = booster.predict(x, num_threads=1, **kwargs)
            assert np.array_equal(kept.predict(x, **kwargs), expected), (rows, kwargs)


def test_kept_predictor_matches_a_model_loaded_from_text(tmp_path: object) -> None:
    booster = _booster()
    path = f"{tmp_path}/model.txt"
    booster.save_model(path)
    loaded = lgb.Booster(model_file=path)
    x = np.random.default_rng(5).normal(size=(50, 5))
    assert np.array_equal(KeptPredictor(loaded).predict(x), loaded.predict(x, num_threads=1))
