"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase the
customer drops out with probability p ~ Beta(a, b). Inputs per customer are the summary
statistics of `training.value.summary`: frequency x, recency t_x and age T.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln, hyp2f1

from training.value.optimize import (
    as_weights,
    distinct_rows,
    maximize_log_likelihood,
    value_codes,
)


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        """The parameters as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class BgNbdFit:
    """A BG/NBD fit: parameters, log-likelihood and convergence report."""

    params: BgNbdParams
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    iterations: int
    method: str


def _arrays(*values: ArrayLike) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype="float64") for v in values)


@dataclass(frozen=True)
class _Rows:
    """Rows (x, t_x, T) with each column also as codes into its distinct values.

    The costly terms (gammaln, betaln of x; log of alpha + T, alpha + t_x) depend on one
    column each, and a shop has few distinct values per column (days, repeat counts), so they
    are computed once per distinct value and gathered: the same numbers, far fewer calls.
    """

    x: np.ndarray
    x_values: np.ndarray
    x_codes: np.ndarray
    t_values: np.ndarray
    t_codes: np.ndarray
    age_values: np.ndarray
    age_codes: np.ndarray


def _rows(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> _Rows:
    return _Rows(x, *value_codes(x), *value_codes(t_x), *value_codes(age))


def _log_likelihood(params: BgNbdParams, rows: _Rows) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, x = rows.x_values, rows.x
    common = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha) - betaln(a, b))[rows.x_codes]
    rx = r + x
    alive_term = (
        betaln(a, b + xs)[rows.x_codes] - rx * np.log(alpha + rows.age_values)[rows.age_codes]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped_x = betaln(a + 1, np.maximum(b + xs - 1, 1e-300))
        dropped = np.where(
            x > 0,
            dropped_x[rows.x_codes] - rx * np.log(alpha + rows.t_values)[rows.t_codes],
            -np.inf,
        )
    return np.asarray(common + np.logaddexp(alive_term, dropped))


def bgnbd_log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood (FHL 2005, eq. 6), computed in log space.

    L = B(a, b+x)/B(a, b) * G(r+x) a^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
    """
    return _log_likelihood(params, _rows(*_arrays(frequency, recency, T)))


def _start(frequency: np.ndarray, T: np.ndarray) -> np.ndarray:
    # Mean purchase rate r/alpha ~ repeat purchases per unit of time among all customers.
    rate = max(float(frequency.sum()) / max(float(T.sum()), 1e-9), 1e-6)
    return np.array([1.0, 1.0 / rate, 1.0, 1.0])


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    max_iter: int = 2000,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood.

    The log-likelihood is a sum over customers, so it is evaluated once per distinct
    (frequency, recency, T) row and weighted by the row's customer count: exact, and the
    cost follows the number of distinct rows rather than customers.

    Args:
        frequency: Repeat transactions per customer.
        recency: Time of the last transaction since the first (same unit as T).
        T: Time since the first transaction at the end of calibration.
        weights: Customers per row (default 1 each), e.g. counts of already distinct rows.
        penalizer: Optional L2 penalty on log-parameters (0 = plain MLE).
        max_iter: Iteration cap of the optimiser.

    Returns:
        The fit, including `converged` and the optimiser message; `n_customers` is the
        total weight (rounded).

    Raises:
        ValueError: on empty, negative or inconsistent input (recency > T) or weights.
    """
    x, t_x, age = _arrays(frequency, recency, T)
    _check_inputs(x, t_x, age)
    w = as_weights(weights, len(x))
    if not w.sum() > 0:
        raise ValueError("BG/NBD needs a positive total weight")
    used = w > 0  # a zero weight times a -inf log-likelihood would be NaN
    distinct, inverse = distinct_rows(x[used], t_x[used], age[used])
    counts = np.bincount(inverse, weights=w[used], minlength=len(distinct[0]))
    rows = _rows(*distinct)
    n = float(counts.sum())

    def total(p: np.ndarray) -> float:
        return float(np.sum(counts * _log_likelihood(BgNbdParams(*p), rows)))

    res = maximize_log_likelihood(total, _start(x * w, age * w), n, penalizer, max_iter)
    return BgNbdFit(
        BgNbdParams(*(float(v) for v in res.params)),
        res.log_likelihood,
        round(n),
        res.converged,
        res.message,
        res.iterations,
        res.method,
    )


def _check_inputs(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> None:
    if x.size == 0:
        raise ValueError("BG/NBD needs at least one customer")
    if not (x.shape == t_x.shape == age.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(t_x)) or np.any(~np.isfinite(age)):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T for every customer")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("a customer with frequency 0 must have recency 0")


def _log_odds_dead(
    params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, -inf for x == 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        )
    return np.where(x > 0, value, -np.inf)


def p_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T) (FHL 2005, eq. 13)."""
    x, t_x, age = _arrays(frequency, recency, T)
    return np.asarray(np.exp(-np.logaddexp(0.0, _log_odds_dead(params, x, t_x, age))))


def expected_purchases(
    params: BgNbdParams, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected transactions in (T, T + t] given x, t_x, T (FHL 2005, eq. 10)."""
    x, t_x, age = _arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros_like(x)
    z = t / (alpha + age + t)
    ratio = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
    bracket = 1.0 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z)
    numer = (a + b + x - 1) / (a - 1) * bracket
    return np.asarray(numer * p_alive(params, x, t_x, age))


def expected_purchases_new(params: BgNbdParams, t: ArrayLike) -> np.ndarray:
    """Expected transactions of a new customer in (0, t] (FHL 2005, eq. 9)."""
    (tt,) = _arrays(t)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    bracket = 1.0 - (alpha / (alpha + tt)) ** r * hyp2f1(r, b, a + b - 1, tt / (alpha + tt))
    return np.asarray((a + b - 1) / (a - 1) * bracket)
