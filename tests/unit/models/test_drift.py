"""Population stability index: training profiles in the bundle, the current side at materialize."""

from __future__ import annotations

import json

import numpy as np

from models.scoring.drift import THRESHOLD, drift, feature_profiles, psi, shares
from models.scoring.specs import FeatureSpec

SPECS = [
    FeatureSpec("spend", "numeric"),
    FeatureSpec("region", "categorical", ("east", "west", "north")),
    FeatureSpec("vip", "bool"),
]


def _matrix(rng: np.random.Generator, n: int, mean: float, west: float) -> np.ndarray:
    x = np.column_stack(
        [
            rng.normal(mean, 1.0, n),
            rng.choice([0.0, 1.0, 2.0], n, p=[1 - west - 0.1, west, 0.1]),
            rng.integers(0, 2, n).astype(float),
        ]
    )
    x[rng.random(n) < 0.05, 0] = np.nan  # some spend unknown
    return x


def test_the_same_population_is_stable_and_a_shift_is_flagged() -> None:
    rng = np.random.default_rng(0)
    profiles = feature_profiles(_matrix(rng, 20_000, 0.0, 0.3), SPECS)
    json.dumps(profiles)  # lives in manifest.json
    same = drift(profiles, _matrix(rng, 5_000, 0.0, 0.3), SPECS)
    assert max(same.values()) < 0.02
    shifted = drift(profiles, _matrix(rng, 5_000, 1.0, 0.6), SPECS)
    assert shifted["spend"] > THRESHOLD
    assert shifted["region"] > THRESHOLD
    assert shifted["vip"] < 0.02


def test_profiles_have_a_missing_bin_and_sum_to_one() -> None:
    rng = np.random.default_rng(1)
    profiles = feature_profiles(_matrix(rng, 1_000, 0.0, 0.3), SPECS)
    spend = profiles["spend"]
    assert len(spend["shares"]) == len(spend["edges"]) + 2  # bins between edges, ends, missing
    assert abs(spend["shares"][-1] - 0.05) < 0.02
    assert all(abs(sum(p["shares"]) - 1) < 1e-9 for p in profiles.values())


def test_psi_is_finite_when_a_bin_empties() -> None:
    profile = {"codes": 3, "shares": [0.5, 0.5, 0.0, 0.0]}
    actual = shares(profile, np.array([2.0, 2.0, np.nan]))
    assert np.isfinite(psi(np.asarray(profile["shares"]), actual))
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
