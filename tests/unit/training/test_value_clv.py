"""BG/NBD + Gamma-Gamma: likelihoods against direct formulas, parameter recovery, CLV."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from training.value import (
    BgNbdParams,
    ClvModel,
    GammaGammaParams,
    bgnbd_log_likelihood,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_clv,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
    predict_clv,
    summarize_transactions,
)
from training.value.lifetime import discounted_purchases
from training.value.optimize import distinct_rows, maximize_log_likelihood


def simulate_bgnbd(
    params: BgNbdParams, ages: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (frequency, recency) per customer from the BG/NBD story, first purchase at 0."""
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=len(ages))
    drop = rng.beta(params.a, params.b, size=len(ages))
    freq = np.zeros(len(ages))
    rec = np.zeros(len(ages))
    for i, age in enumerate(ages):
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > age:
                break
            freq[i] += 1
            rec[i] = t
            if rng.random() < drop[i]:  # may drop out after each repeat purchase
                break
    return freq, rec


def simulate_spend(
    params: GammaGammaParams, freq: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Mean spend of each customer's `freq` transactions (0 when freq == 0)."""
    nu = rng.gamma(params.q, 1.0 / params.gamma, size=len(freq))
    means = np.zeros(len(freq))
    for i, x in enumerate(freq.astype(int)):
        if x > 0:
            means[i] = rng.gamma(params.p, 1.0 / nu[i], size=x).mean()
    return means


def test_bgnbd_log_likelihood_matches_direct_formula() -> None:
    par = BgNbdParams(r=0.7, alpha=3.0, a=0.9, b=2.5)
    data = [(0, 0.0, 10.0), (1, 4.0, 12.0), (3, 7.5, 9.0)]

    def beta(x: float, y: float) -> float:
        return math.gamma(x) * math.gamma(y) / math.gamma(x + y)

    for x, tx, age in data:
        head = math.gamma(par.r + x) * par.alpha**par.r / math.gamma(par.r)
        alive = beta(par.a, par.b + x) / beta(par.a, par.b) / (par.alpha + age) ** (par.r + x)
        dead = 0.0
        if x > 0:
            dead = (
                beta(par.a + 1, par.b + x - 1)
                / beta(par.a, par.b)
                / (par.alpha + tx) ** (par.r + x)
            )
        expected = math.log(head * (alive + dead))
        got = bgnbd_log_likelihood(par, [x], [tx], [age])[0]
        assert got == pytest.approx(expected, rel=1e-10)


def test_gamma_gamma_log_likelihood_matches_direct_formula() -> None:
    par = GammaGammaParams(p=2.0, q=3.0, gamma=10.0)
    for x, z in [(1, 20.0), (4, 35.5)]:
        px = par.p * x
        density = (
            math.gamma(px + par.q)
            / (math.gamma(px) * math.gamma(par.q))
            * par.gamma**par.q
            * x**px
            * z ** (px - 1)
            / (par.gamma + x * z) ** (px + par.q)
        )
        got = gamma_gamma_log_likelihood(par, [x], [z])[0]
        assert got == pytest.approx(math.log(density), rel=1e-10)


def test_bgnbd_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(7)
    true = BgNbdParams(r=0.6, alpha=4.0, a=0.8, b=2.5)
    ages = rng.uniform(30, 52, size=4000)
    freq, rec = simulate_bgnbd(true, ages, rng)
    fit = fit_bgnbd(freq, rec, ages)
    assert fit.converged
    assert fit.n_customers == 4000
    # Mean purchase rate r/alpha is well identified; the individual parameters less so.
    assert fit.params.r / fit.params.alpha == pytest.approx(true.r / true.alpha, rel=0.1)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit.params, name) == pytest.approx(getattr(true, name), rel=0.35), name
    assert fit.log_likelihood > float(np.sum(bgnbd_log_likelihood(true, freq, rec, ages)))


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    true = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    freq = rng.integers(1, 20, size=3000).astype(float)
    spend = simulate_spend(true, freq, rng)
    fit = fit_gamma_gamma(freq, spend)
    assert fit.converged
    assert fit.n_customers == 3000
    # The population mean and q are sharp; p and gamma trade off along a ridge (loose).
    assert fit.params.population_mean == pytest.approx(true.population_mean, rel=0.05)
    assert fit.params.q == pytest.approx(true.q, rel=0.1)
    for name in ("p", "gamma"):
        assert getattr(fit.params, name) == pytest.approx(getattr(true, name), rel=0.35), name


def test_gamma_gamma_skips_customers_without_repeats_and_needs_two() -> None:
    with pytest.raises(ValueError, match="at least 2 customers"):
        fit_gamma_gamma([0, 0, 3], [0.0, 0.0, 10.0])


def test_fit_bgnbd_rejects_inconsistent_input() -> None:
    with pytest.raises(ValueError, match="recency <= T"):
        fit_bgnbd([1, 2], [5.0, 9.0], [4.0, 10.0])


def test_predictions_match_published_example() -> None:
    # Fader, Hardie & Lee (2005): CDNOW customer with x=2, t_x=30.43, T=38.86 -> 1.226 in 39 weeks.
    par = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert expected_purchases(par, 39.0, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=2e-3)
    alive = p_alive(par, [0, 2, 2], [0.0, 38.0, 5.0], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0
    assert alive[1] > alive[2]


def test_expected_spend_shrinks_to_population_mean() -> None:
    par = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    few, many = expected_spend(par, [1, 50], [100.0, 100.0])
    assert par.population_mean < few < many < 100.0


def test_summary_merges_same_day_and_excludes_later_rows() -> None:
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c"],
            "when": [
                "2024-01-01 09:00",
                "2024-01-01 17:00",
                "2024-01-15",
                "2024-02-01",
                "2024-01-08",
                "2024-03-01",
            ],
            "amt": [10.0, 5.0, 20.0, 40.0, 7.0, 99.0],
        }
    )
    s = summarize_transactions(tx, "cust", "when", "amt", "2024-01-29", "week")
    assert list(s.index) == ["a", "b"]  # c only bought after the calibration end
    a = s.loc["a"]
    assert (a["frequency"], a["n_transactions"]) == (1, 2)  # 2 days; the Feb row is later
    assert a["recency"] == pytest.approx(2.0)
    assert a["T"] == pytest.approx(4.0)
    assert a["monetary_value"] == pytest.approx(20.0)  # the first day's 15 is excluded
    assert a["total_amount"] == pytest.approx(35.0)
    assert s.loc["b", "frequency"] == 0 and s.loc["b", "monetary_value"] == 0.0


def _model_and_summary() -> tuple[ClvModel, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ages = rng.uniform(20, 52, size=800)
    freq, rec = simulate_bgnbd(BgNbdParams(0.8, 4.0, 0.8, 3.0), ages, rng)
    spend = simulate_spend(GammaGammaParams(5.0, 4.0, 20.0), freq, rng)
    summary = pd.DataFrame({"frequency": freq, "recency": rec, "T": ages, "monetary_value": spend})
    return fit_clv(summary, "week"), summary


def test_clv_discounting_and_json_round_trip(tmp_path) -> None:
    model, summary = _model_and_summary()
    flat = predict_clv(model, summary, horizon_months=12, monthly_discount=0.0)
    # Without discounting, CLV = expected spend x expected purchases over the horizon.
    assert np.allclose(flat["predicted_clv"], flat["expected_spend"] * flat["expected_purchases"])
    discounted = predict_clv(model, summary, horizon_months=12, monthly_discount=0.02)
    assert (discounted["predicted_clv"] < flat["predicted_clv"]).all()
    path = tmp_path / "clv.json"
    model.save(path)
    assert set(json.loads(path.read_text())) >= {"r", "alpha", "a", "b", "p", "q", "gamma"}
    again = predict_clv(ClvModel.load(path), summary, 12, 0.02)
    pd.testing.assert_frame_equal(again, discounted)


def test_calibration_end_cuts_on_the_timestamp_not_the_day() -> None:
    # Guards the bug where a purchase later on the end day was counted in the period.
    tx = pd.DataFrame(
        {
            "c": ["a", "a", "a"],
            "amount": [10.0, 20.0, 30.0],
            "at": pd.to_datetime(["2024-01-01 09:00", "2024-01-05 08:00", "2024-01-10 18:00"]),
        }
    )
    summary = summarize_transactions(tx, "c", "at", "amount", calibration_end="2024-01-10 12:00")
    assert summary.loc["a", "n_transactions"] == 2
    assert summary.loc["a", "total_amount"] == 30.0


def _with_duplicates(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """A summary in whole weeks: few distinct rows, as with whole days at a million customers."""
    ages = np.floor(rng.uniform(20, 52, size=n))
    freq, rec = simulate_bgnbd(BgNbdParams(0.5, 6.0, 0.8, 3.0), ages, rng)
    spend = np.round(simulate_spend(GammaGammaParams(5.0, 4.0, 20.0), freq, rng) / 5) * 5
    frame = pd.DataFrame({"frequency": freq, "recency": np.floor(rec), "T": ages})
    return frame.assign(monetary_value=spend)


def _counted(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    counts = frame.groupby(columns).size()
    return counts.index.to_frame(index=False), counts.to_numpy(dtype="float64")


def test_weighted_bgnbd_fit_on_distinct_rows_matches_the_fit_on_every_customer() -> None:
    summary = _with_duplicates(np.random.default_rng(5), 3000)
    distinct, counts = _counted(summary, ["frequency", "recency", "T"])
    assert len(distinct) < 0.6 * len(summary)  # whole weeks repeat, so the weights matter
    x, t_x, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    weighted = fit_bgnbd(distinct["frequency"], distinct["recency"], distinct["T"], weights=counts)

    def every(p: np.ndarray) -> float:  # the unweighted fit as it was: sum over every customer
        return float(np.sum(bgnbd_log_likelihood(BgNbdParams(*p), x, t_x, age)))

    plain = maximize_log_likelihood(every, np.array([1, age.sum() / x.sum(), 1, 1]), len(x))
    assert weighted.n_customers == len(summary)
    # Exact: the weighted sum is the sum over every customer, up to rounding.
    fitted = np.array([*weighted.params.as_dict().values()])
    assert weighted.log_likelihood == pytest.approx(every(fitted), rel=1e-12)
    # Same optimum; parameters to the optimiser's precision (~1e-5 along a flat ridge).
    assert weighted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-11)
    assert np.allclose(fitted, plain.params, rtol=1e-4, atol=0)


def test_weighted_gamma_gamma_fit_on_distinct_rows_matches_the_fit_on_every_customer() -> None:
    summary = _with_duplicates(np.random.default_rng(6), 3000)
    buyers = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    distinct, counts = _counted(buyers, ["frequency", "monetary_value"])
    assert len(distinct) < len(buyers) / 2
    x, z = buyers["frequency"].to_numpy(), buyers["monetary_value"].to_numpy()
    weighted = fit_gamma_gamma(distinct["frequency"], distinct["monetary_value"], weights=counts)

    def every(p: np.ndarray) -> float:
        return float(np.sum(gamma_gamma_log_likelihood(GammaGammaParams(*p), x, z)))

    plain = maximize_log_likelihood(every, np.array([1.0, 2.0, z.mean()]), len(x))
    assert weighted.n_customers == len(buyers)
    assert weighted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-11)
    assert np.allclose([*weighted.params.as_dict().values()], plain.params, rtol=1e-4, atol=0)


def test_predictions_from_the_weighted_fit_match_and_equal_the_per_customer_formulas() -> None:
    summary = _with_duplicates(np.random.default_rng(8), 2000)
    bg_rows, bg_counts = _counted(summary, ["frequency", "recency", "T"])
    buyers = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    gg_rows, gg_counts = _counted(buyers, ["frequency", "monetary_value"])
    bg = fit_bgnbd(bg_rows["frequency"], bg_rows["recency"], bg_rows["T"], weights=bg_counts)
    gg = fit_gamma_gamma(gg_rows["frequency"], gg_rows["monetary_value"], weights=gg_counts)
    got = predict_clv(ClvModel(bg, gg, "week"), summary, 12, 0.01)
    every = predict_clv(fit_clv(summary, "week"), summary, 12, 0.01)
    pd.testing.assert_frame_equal(got, every, rtol=1e-4)
    # Scored once per distinct row and handed out: exactly the per-customer formulas.
    x, t_x, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_array_equal(got["p_alive"], p_alive(bg.params, x, t_x, age))
    expected = expected_purchases(bg.params, 12 * 365.25 / 12 / 7, x, t_x, age)
    np.testing.assert_array_equal(got["expected_purchases"], expected)
    clv = got["expected_spend"] * discounted_purchases(bg.params, summary, 12, 0.01, "week")
    np.testing.assert_array_equal(got["predicted_clv"], clv)


def test_distinct_rows_and_weights_validation() -> None:
    a, b = np.array([2.0, 1.0, 2.0, 1.0, 2.0]), np.array([0.5, 0.5, 0.5, 0.7, 0.1])
    (da, db), inverse = distinct_rows(a, b)
    assert list(zip(da, db, strict=True)) == [(1.0, 0.5), (1.0, 0.7), (2.0, 0.1), (2.0, 0.5)]
    assert np.array_equal(da[inverse], a) and np.array_equal(db[inverse], b)
    with pytest.raises(ValueError, match="weights"):
        fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="one value per row"):
        fit_gamma_gamma([1, 2], [1.0, 2.0], weights=[1.0])
