"""EASE (Steck 2019): a closed-form item-item model, restricted to the popular head.

EASE solves `min ||X - XB||^2 + lam ||B||^2` with `diag(B) = 0` through one inverse of the
item Gram matrix, so it needs a dense (m x m) matrix. The catalogue-size guard is explicit: only
the `max_items` most popular items with at least `min_users` customers take part (2,000 by
default: a 16 MB float32 matrix, about a second to invert). Long-tail items rarely reach a top-10
list, and ALS, co-purchases and popularity still cover them, so a 50,000-item catalogue keeps
working.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

MAX_ITEMS = 2000


@dataclass(frozen=True)
class EASEParams:
    """L2 strength and the catalogue guard of the EASE generator."""

    lam: float = 300.0
    max_items: int = MAX_ITEMS
    min_users: int = 3

    def as_dict(self) -> dict[str, float | int]:
        """Flat dict for MLflow params and the bundle manifest."""
        return asdict(self)


def ease_items(weights: sp.csr_matrix, params: EASEParams) -> np.ndarray:
    """Sorted indices of the items EASE covers: the popular head, at most `max_items`."""
    users_per_item = np.diff((weights > 0).tocsc().indptr)
    order = np.argsort(-users_per_item, kind="stable")[: params.max_items]
    return np.sort(order[users_per_item[order] >= params.min_users]).astype(np.int32)


def fit_ease(
    weights: sp.csr_matrix, params: EASEParams, num_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Fit EASE on the binarised users x items matrix.

    Returns (items, B): the covered item indices and the (m, m) float32 weight matrix; a
    customer's score for covered item j is the sum of B[h, j] over their covered history h.
    Fewer than two covered items give empty arrays (no EASE generator).
    """
    items, gram = ease_gram(weights, params)
    return items, solve_ease(gram, params.lam, num_threads)


def ease_gram(weights: sp.csr_matrix, params: EASEParams) -> tuple[np.ndarray, np.ndarray]:
    """The covered items and their (m, m) Gram matrix (co-occurrence counts), shared by every
    L2 strength tried on the same data."""
    items = ease_items(weights, params)
    if weights.shape[1] > params.max_items:
        logger.info(
            "EASE covers %d of %d items: its Gram matrix is items x items, capped at the %d most "
            "popular",
            len(items),
            weights.shape[1],
            params.max_items,
        )
    if len(items) < 2:
        return np.zeros(0, np.int32), np.zeros((0, 0), np.float64)
    x = (weights[:, items] > 0).astype(np.float64)
    return items, (x.T @ x).toarray()


def solve_ease(gram: np.ndarray, lam: float, num_threads: int = 1) -> np.ndarray:
    """B of EASE from a Gram matrix (left unchanged) and the L2 strength `lam`."""
    if len(gram) < 2:
        return np.zeros((0, 0), np.float32)
    regularised = gram.copy()
    regularised[np.diag_indices_from(regularised)] += lam
    with threadpool_limits(limits=num_threads, user_api="blas"):
        inverse = np.linalg.inv(regularised)
    b = -inverse / np.diag(inverse)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    logger.debug("EASE fitted: %d items, lam=%s", len(gram), lam)
    return b.astype(np.float32)


def ease_scores(
    weights: sp.csr_matrix, items: np.ndarray, b: np.ndarray, users: np.ndarray
) -> np.ndarray:
    """(len(users), n_items) EASE scores; items outside the model get -inf."""
    out = np.full((len(users), weights.shape[1]), -np.inf, dtype=np.float32)
    if len(items):
        x = (weights[users][:, items] > 0).astype(np.float32)
        out[:, items] = x @ b
    return out
