"""ALS hyper-parameter search on a validation split carved from the training period."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from training.recommender.als import ALSParams, fit_als
from training.recommender.ease import EASEParams, ease_scores, fit_ease
from training.recommender.evaluate import evaluate_scores

logger = logging.getLogger(__name__)

Trial = dict[str, float | int | str]
Progress = Callable[[int, int], None]


def default_grid(n_trials: int = 12, seed: int = 0) -> list[ALSParams]:
    """A deterministic random sample of the ALS search space (the default params first)."""
    rng = np.random.default_rng(seed)
    grid = [ALSParams()]
    space: dict[str, list[Any]] = {
        "factors": [32, 64, 128],
        "regularization": [0.01, 0.1, 1.0, 5.0, 20.0, 50.0],
        "alpha": [0.5, 1.0, 2.0, 5.0, 10.0],
        "iterations": [10, 15, 25],
        "scheme": ["log", "linear"],
    }
    while len(grid) < n_trials:
        pick = {name: values[int(rng.integers(len(values)))] for name, values in space.items()}
        candidate = replace(ALSParams(), **pick)
        if candidate not in grid:
            grid.append(candidate)
    return grid


def neighbours(params: ALSParams) -> list[ALSParams]:
    """One-step moves around a trial: regularization x3 / /3, alpha /2 / x2, factors x2 / /2."""
    reg, alpha, factors = params.regularization, params.alpha, params.factors
    return [
        replace(params, regularization=reg * 3),
        replace(params, regularization=reg / 3),
        replace(params, alpha=alpha / 2),
        replace(params, alpha=alpha * 2),
        replace(params, factors=min(factors * 2, 256)),
        replace(params, factors=max(factors // 2, 8)),
    ]


def search_als(
    fit_weights: sp.csr_matrix,
    val_truth: sp.csr_matrix,
    n_trials: int,
    *,
    k: int = 10,
    num_threads: int = 1,
    exclude: sp.csr_matrix | None = None,
    progress: Progress | None = None,
) -> tuple[ALSParams, list[Trial]]:
    """Random search (two thirds of the budget), then local moves around the best trial.

    The local phase walks to a better neighbour (see `neighbours`) while one exists and the
    budget lasts, so a good region at the edge of the random grid is still found. `exclude`:
    see `tune_als`.
    """
    tried = default_grid(max(1, n_trials - n_trials // 3))

    def report(done: int, _total: int) -> None:
        if progress is not None:
            progress(min(done + offset, n_trials), n_trials)

    offset = 0
    best, trials = tune_als(
        fit_weights,
        val_truth,
        tried,
        k=k,
        num_threads=num_threads,
        exclude=exclude,
        progress=report,
    )
    while len(tried) < n_trials:
        fresh = [p for p in neighbours(best) if p not in tried][: n_trials - len(tried)]
        if not fresh:
            break
        offset = len(tried)
        local, more = tune_als(
            fit_weights,
            val_truth,
            fresh,
            k=k,
            num_threads=num_threads,
            exclude=exclude,
            progress=report,
        )
        tried, trials = tried + fresh, trials + more
        if max(float(t["val_ndcg"]) for t in more) <= max(
            float(t["val_ndcg"]) for t in trials[: -len(more)]
        ):
            break  # a local optimum: no neighbour is better
        best = local
    if progress is not None:
        progress(n_trials, n_trials)
    return best, trials


def popularity_scores(weights: sp.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
    """Scorer ranking items by the number of distinct customers in `weights`."""
    pop = np.asarray((weights > 0).sum(axis=0), dtype=np.float64).ravel()
    return lambda users: np.tile(pop, (len(users), 1))


def als_scores(
    user_factors: np.ndarray, item_factors: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Scorer of dot products between user and item factors."""
    return lambda users: user_factors[users] @ item_factors.T


def tune_als(
    fit_weights: sp.csr_matrix,
    val_truth: sp.csr_matrix,
    grid: list[ALSParams],
    *,
    k: int = 10,
    metric: str = "ndcg",
    num_threads: int = 1,
    exclude: sp.csr_matrix | None = None,
    progress: Progress | None = None,
) -> tuple[ALSParams, list[Trial]]:
    """Fit each candidate on the fit split and score it on validation; return the best.

    The validation split lies after each customer's fit events, so the choice never sees the
    test period. `exclude`: the items masked out of each customer's list (default: every fit
    item; training passes the serving rule, purchased items only).
    """
    exclude = fit_weights if exclude is None else exclude
    trials: list[Trial] = []
    best, best_value = grid[0], -np.inf
    for n, params in enumerate(grid):
        factors = fit_als(fit_weights, params, num_threads=num_threads)
        scores = evaluate_scores(als_scores(*factors), exclude, val_truth, k)
        trials.append({**params.as_dict(), **{f"val_{m}": v for m, v in scores.items()}})
        logger.info(
            "trial %d/%d %s -> %s@%d=%.4f", n + 1, len(grid), params, metric, k, scores[metric]
        )
        if scores[metric] > best_value:
            best, best_value = params, scores[metric]
        if progress is not None:
            progress(n + 1, len(grid))
    return best, trials


def tune_ease(
    fit_weights: sp.csr_matrix,
    val_truth: sp.csr_matrix,
    grid: list[EASEParams],
    *,
    k: int = 10,
    num_threads: int = 1,
    exclude: sp.csr_matrix | None = None,
) -> tuple[EASEParams, list[Trial]]:
    """Pick the EASE L2 strength by NDCG@k on the validation split (like `tune_als`)."""
    exclude = fit_weights if exclude is None else exclude
    trials: list[Trial] = []
    best, best_value = grid[0], -np.inf
    for params in grid:
        items, b = fit_ease(fit_weights, params, num_threads=num_threads)
        scorer = functools.partial(ease_scores, fit_weights, items, b)
        scores = evaluate_scores(scorer, exclude, val_truth, k)
        trials.append({**params.as_dict(), **{f"val_{m}": v for m, v in scores.items()}})
        logger.info(
            "EASE lam=%s on %d items -> ndcg@%d=%.4f", params.lam, len(items), k, scores["ndcg"]
        )
        if scores["ndcg"] > best_value:
            best, best_value = params, scores["ndcg"]
    return best, trials
