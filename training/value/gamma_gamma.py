"""Gamma-Gamma model of spend per transaction (Fader & Hardie 2013 note), fitted by MLE.

Transaction values of a customer are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers.
Only customers with at least one repeat transaction (frequency > 0) and positive mean repeat
spend enter the fit; spend is assumed independent of the purchase process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from training.value.optimize import (
    as_weights,
    distinct_rows,
    maximize_log_likelihood,
    value_codes,
)


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        """The parameters as a JSON-ready dict."""
        return asdict(self)

    @property
    def population_mean(self) -> float:
        """Mean spend per transaction of a customer we know nothing about: p*gamma/(q-1)."""
        if self.q <= 1:
            return float("nan")
        return self.p * self.gamma / (self.q - 1)


@dataclass(frozen=True)
class GammaGammaFit:
    """A Gamma-Gamma fit: parameters, log-likelihood and convergence report."""

    params: GammaGammaParams
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    iterations: int
    method: str


def _log_likelihood(
    params: GammaGammaParams,
    x_values: np.ndarray,
    x_codes: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    log_z: np.ndarray,
) -> np.ndarray:
    # The gammaln and x-only terms are computed once per distinct x and gathered (few
    # distinct repeat counts); log z does not depend on the parameters, so callers pass it.
    p, q, g = params.p, params.q, params.gamma
    pxs = p * x_values
    head = gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + q * np.log(g) + pxs * np.log(x_values)
    px = p * x
    return np.asarray(head[x_codes] + (px - 1) * log_z - (px + q) * np.log(g + x * z))


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend z of x transactions.

    log f(z | x) = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + px ln(x) + (px-1) ln(z)
                   - (px+q) ln(gamma + x z)
    """
    x = np.asarray(frequency, dtype="float64")
    z = np.asarray(monetary_value, dtype="float64")
    return _log_likelihood(params, *value_codes(x), x, z, np.log(z))


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    max_iter: int = 2000,
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with frequency > 0.

    As for BG/NBD, the log-likelihood is evaluated once per distinct (frequency, spend) row
    and weighted by the row's customer count, which is exact.

    Args:
        frequency: Repeat transactions per customer (rows with 0 are skipped).
        monetary_value: Mean value of those repeat transactions (rows with <= 0 are skipped).
        weights: Customers per row (default 1 each; rows with 0 are skipped).
        penalizer: Optional L2 penalty on log-parameters (0 = plain MLE).
        max_iter: Iteration cap of the optimiser.

    Returns:
        The fit, including `converged`; `n_customers` is the total weight used (rounded).

    Raises:
        ValueError: when the customers with frequency > 0 and positive spend weigh < 2.
    """
    x = np.asarray(frequency, dtype="float64")
    z = np.asarray(monetary_value, dtype="float64")
    w = as_weights(weights, len(x))
    keep = (x > 0) & (z > 0) & np.isfinite(z) & (w > 0)
    x, z, w = x[keep], z[keep], w[keep]
    n = float(w.sum())
    if n < 2:
        raise ValueError(
            "Gamma-Gamma needs at least 2 customers with repeat purchases and "
            f"positive spend; got {n:g}"
        )
    (dx, dz), inverse = distinct_rows(x, z)
    counts = np.bincount(inverse, weights=w, minlength=len(dx))
    x_values, x_codes = value_codes(dx)
    log_z = np.log(dz)

    def total(p: np.ndarray) -> float:
        ll = _log_likelihood(GammaGammaParams(*p), x_values, x_codes, dx, dz, log_z)
        return float(np.sum(counts * ll))

    # Start with mean spend = p*gamma/(q-1) equal to the observed mean.
    start = np.array([1.0, 2.0, float(np.sum(z * w) / n)])
    res = maximize_log_likelihood(total, start, n, penalizer, max_iter)
    return GammaGammaFit(
        GammaGammaParams(*(float(v) for v in res.params)),
        res.log_likelihood,
        round(n),
        res.converged,
        res.message,
        res.iterations,
        res.method,
    )


def expected_spend(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> np.ndarray:
    """E[spend per transaction | x, z]: a weighted mean of the population and the customer.

    E = p (gamma + x z) / (p x + q - 1); for x = 0 this is the population mean.
    """
    x = np.asarray(frequency, dtype="float64")
    z = np.where(x > 0, np.asarray(monetary_value, dtype="float64"), 0.0)
    p, q, g = params.p, params.q, params.gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        value = p * (g + x * z) / (p * x + q - 1)
    return np.asarray(np.where(value > 0, value, np.nan))
