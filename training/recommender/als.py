"""Implicit-feedback ALS (implicit's CPU solver) with our own confidence scaling.

Confidence is computed here (`1 + alpha * f(weight)`) and passed to implicit with alpha=1, so the
runtime fold-in (`models.recommender.arrays.fold_in`) uses exactly the same definition.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from models.recommender.arrays import confidence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ALSParams:
    """Hyper-parameters of the ALS model and its confidence scaling."""

    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 15
    scheme: str = "log"  # "log": 1 + alpha*log1p(w/eps); "linear": 1 + alpha*w
    eps: float = 1.0
    seed: int = 42

    def as_dict(self) -> dict[str, float | int | str]:
        """Flat dict for MLflow params and the bundle manifest."""
        return asdict(self)


def confidence_matrix(weights: sp.csr_matrix, params: ALSParams) -> sp.csr_matrix:
    """Same sparsity as `weights`, values replaced by their confidence."""
    conf = weights.copy().astype(np.float32)
    conf.data = confidence(conf.data, params.scheme, params.alpha, params.eps)
    return conf


def fit_als(
    weights: sp.csr_matrix,
    params: ALSParams,
    num_threads: int = 1,
    warm: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ALS on a users x items weight matrix; returns (user_factors, item_factors) float32.

    `warm`: factors of the same users and items fitted on a subset of these events (the
    validation fit); ALS then starts from them and runs `warm_iterations` instead of
    `params.iterations`. BLAS is limited to one thread: implicit parallelises itself and
    nested BLAS threads only oversubscribe the CPU.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=1.0,
            iterations=params.iterations if warm is None else warm_iterations(params),
            random_state=params.seed,
            num_threads=num_threads,
            calculate_training_loss=False,
        )
        if warm is not None:
            model.user_factors, model.item_factors = warm[0].copy(), warm[1].copy()
        model.fit(confidence_matrix(weights, params), show_progress=False)
    logger.debug("ALS fitted: %s users, %s items, %s", *weights.shape, params)
    return (
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
    )


def warm_iterations(params: ALSParams) -> int:
    """Iterations of a warm-started fit: a third of a cold one (at least 2).

    The validation fit already converged on ~80% of each customer's events; a few sweeps
    absorb the rest, and at 1M customers each sweep costs ~10 s per thread.
    """
    return max(2, params.iterations // 3)
