"""Tiers and percentiles of a calibrated probability (models.scoring.tiers)."""

from __future__ import annotations

import numpy as np

from models.scoring.tiers import BANDS, Population, Tiers, population_spec


def test_band_tiers_follow_the_probability() -> None:
    # Guards issue 10: a 0.73 churn probability came back "low" (tiers were population shares).
    tiers = Tiers({"names": ["high", "medium", "low"], "thresholds": [0.66, 0.33], "basis": BANDS})
    assert tiers.assign(np.array([0.73, 0.66, 0.5, 0.33, 0.329, 0.0])) == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
        "low",
    ]
    assert tiers.rule().startswith("high: probability >= 0.66; medium: probability >= 0.33")


def test_quantile_grades_name_their_shares() -> None:
    tiers = Tiers(
        {"names": ["A", "B", "C", "D"], "thresholds": [0.5, 0.3, 0.1], "shares": [0.1, 0.2, 0.3]}
    )
    rule = tiers.rule()
    assert "A: probability >= 0.5 (about the top 10%" in rule
    assert "C: probability >= 0.1 (about the top 60%" in rule and "D: below 0.1" in rule


def test_percentiles_match_the_population() -> None:
    rng = np.random.default_rng(0)
    held_out = rng.beta(2, 5, 20_000)
    population = Population(population_spec(held_out))
    fresh = rng.beta(2, 5, 2_000)
    pct = population.percentiles(fresh)
    empirical = 100 * np.searchsorted(np.sort(held_out), fresh) / len(held_out)
    assert np.abs(pct - empirical).max() < 1.0
    assert population.percentiles(np.array([0.0, 1.0])).tolist() == [0.0, 100.0]
    order = np.argsort(fresh)
    assert (np.diff(pct[order]) >= 0).all()


def test_a_run_of_equal_quantiles_gets_its_middle() -> None:
    # Isotonic calibration gives steps: 40% of the population at exactly 0.2.
    held_out = np.concatenate(
        [np.linspace(0.0, 0.19, 30), np.full(40, 0.2), np.linspace(0.3, 1, 30)]
    )
    pct = Population(population_spec(held_out)).percentiles(np.array([0.2]))[0]
    assert 45 <= pct <= 55


def test_bundles_without_a_population_have_no_percentile() -> None:
    population = Population(None)
    assert not population.known
    assert np.isnan(population.percentiles(np.array([0.4]))).all()
