"""Shared maximum-likelihood machinery: log-parameterised minimisation, distinct weighted rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

logger = logging.getLogger(__name__)

# Log-parameters are kept in a box so exp() never overflows while the optimiser explores.
LOG_BOUND = 12.0


@dataclass(frozen=True)
class MleResult:
    """Outcome of a maximum-likelihood fit on log-parameters."""

    params: np.ndarray
    log_likelihood: float
    converged: bool
    message: str
    iterations: int
    method: str


def maximize_log_likelihood(
    total_log_likelihood: Callable[[np.ndarray], float],
    start: np.ndarray,
    n: float,
    penalizer: float = 0.0,
    max_iter: int = 2000,
) -> MleResult:
    """Maximise a log-likelihood over positive parameters via their logarithms.

    The objective is the negative mean log-likelihood (plus `penalizer * sum(log_params**2)`),
    which keeps gradients of order one whatever the number of customers. L-BFGS-B runs first;
    if it does not report convergence, Nelder-Mead polishes from where it stopped.

    Args:
        total_log_likelihood: Maps positive parameters to the summed log-likelihood.
        start: Positive starting parameters.
        n: Number of customers, i.e. the total weight of the rows (for the mean).
        penalizer: L2 penalty on the log-parameters (0 = plain MLE).
        max_iter: Iteration cap per method.

    Returns:
        The fitted positive parameters, the unpenalised log-likelihood and convergence info.
    """

    def objective(log_params: np.ndarray) -> float:
        value = total_log_likelihood(np.exp(log_params))
        if not np.isfinite(value):
            return 1e10
        return -value / n + penalizer * float(np.sum(log_params**2))

    x0 = np.log(np.asarray(start, dtype="float64"))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    res = optimize.minimize(
        objective,
        x0,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9},
    )
    method = "L-BFGS-B"
    if not res.success:
        logger.info("L-BFGS-B did not converge (%s); polishing with Nelder-Mead", res.message)
        res = optimize.minimize(
            objective,
            res.x,
            method="Nelder-Mead",
            options={"maxiter": max_iter * len(x0), "xatol": 1e-8, "fatol": 1e-12},
        )
        method = "L-BFGS-B+Nelder-Mead"
    params = np.exp(res.x)
    return MleResult(
        params=params,
        log_likelihood=float(total_log_likelihood(params)),
        converged=bool(res.success),
        message=str(res.message),
        iterations=int(res.nit),
        method=method,
    )


def as_weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    """Per-row weights (customer counts) as float64; None means one customer per row.

    Raises:
        ValueError: unless there is one finite, non-negative weight per row.
    """
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype="float64")
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per row ({n}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    return w


def distinct_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of equal-length 1-d columns, and where each input row went.

    Returns:
        The distinct rows' columns (sorted by the first column, then the next, ...) and
        `inverse` such that `column[i] == distinct_column[inverse[i]]` for every column.
    """
    order = np.lexsort(columns[::-1])  # lexsort's last key is the primary one
    ordered = [c[order] for c in columns]
    starts = np.zeros(len(order), dtype=bool)
    starts[:1] = True
    for c in ordered:
        starts[1:] |= c[1:] != c[:-1]
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return tuple(c[starts] for c in ordered), inverse


def value_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and each element's position among them (`values == distinct[codes]`)."""
    distinct, codes = np.unique(values, return_inverse=True)
    return distinct, codes.reshape(-1)
