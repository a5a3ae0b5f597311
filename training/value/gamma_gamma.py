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

from training.value.optimize import maximize_log_likelihood


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


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend z of x transactions.

    log f(z | x) = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + px ln(x) + (px-1) ln(z)
                   - (px+q) ln(gamma + x z)
    """
    x = np.asarray(frequency, dtype="float64")
    z = np.asarray(monetary_value, dtype="float64")
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + px * np.log(x)
        + (px - 1) * np.log(z)
        - (px + q) * np.log(g + x * z)
    )


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    penalizer: float = 0.0,
    max_iter: int = 2000,
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with frequency > 0.

    Args:
        frequency: Repeat transactions per customer (rows with 0 are skipped).
        monetary_value: Mean value of those repeat transactions (rows with <= 0 are skipped).
        penalizer: Optional L2 penalty on log-parameters (0 = plain MLE).
        max_iter: Iteration cap of the optimiser.

    Returns:
        The fit, including `converged`.

    Raises:
        ValueError: when fewer than 2 customers have frequency > 0 and positive spend.
    """
    x = np.asarray(frequency, dtype="float64")
    z = np.asarray(monetary_value, dtype="float64")
    keep = (x > 0) & (z > 0) & np.isfinite(z)
    x, z = x[keep], z[keep]
    if x.size < 2:
        raise ValueError(
            "Gamma-Gamma needs at least 2 customers with repeat purchases and "
            f"positive spend; got {x.size}"
        )

    def total(p: np.ndarray) -> float:
        return float(np.sum(gamma_gamma_log_likelihood(GammaGammaParams(*p), x, z)))

    # Start with mean spend = p*gamma/(q-1) equal to the observed mean.
    start = np.array([1.0, 2.0, float(np.mean(z))])
    res = maximize_log_likelihood(total, start, len(x), penalizer, max_iter)
    return GammaGammaFit(
        GammaGammaParams(*(float(v) for v in res.params)),
        res.log_likelihood,
        len(x),
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
