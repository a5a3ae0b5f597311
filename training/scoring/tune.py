"""Hyper-parameter search for the LightGBM scorer on the validation slice only.

A small random sample of a grid (always including a conservative default) is trained with early
stopping on validation log-loss and ranked by validation AUC; class imbalance (none vs
`scale_pos_weight`) is one of the searched choices. The test period never takes part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score

logger = logging.getLogger(__name__)

GRID: dict[str, list[Any]] = {
    "learning_rate": [0.02, 0.05],
    "num_leaves": [4, 8, 16, 31],
    "min_data_in_leaf": [20, 50, 100],
    "feature_fraction": [0.6, 0.8, 1.0],
    "lambda_l2": [0.0, 1.0, 10.0],
    "balance": ["none", "scale_pos_weight"],
}
DEFAULT_TRIAL: dict[str, Any] = {
    "learning_rate": 0.02,
    "num_leaves": 8,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "lambda_l2": 10.0,
    "balance": "none",
}
MAX_ROUNDS = 3000
PATIENCE = 150


@dataclass
class Trial:
    """One searched configuration and its validation result."""

    choice: dict[str, Any]
    val_auc: float
    best_iteration: int
    raw_val: np.ndarray = field(repr=False)


def base_params(threads: int, seed: int) -> dict[str, Any]:
    """Parameters shared by every trial."""
    # Early stopping watches log-loss: on small validation slices AUC is too jumpy and stops
    # after a handful of rounds. Trials are still ranked by validation AUC.
    return {
        "objective": "binary",
        "metric": "binary_logloss",
        "verbose": -1,
        "num_threads": threads,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "cat_smooth": 10.0,
        "cat_l2": 10.0,
        "min_data_per_group": 20,
        "max_cat_threshold": 32,
    }


def lgb_params(choice: dict[str, Any], y: np.ndarray, threads: int, seed: int) -> dict[str, Any]:
    """Full LightGBM parameters of a searched choice (min_data_in_leaf capped for small data)."""
    params = base_params(threads, seed)
    params.update({k: v for k, v in choice.items() if k != "balance"})
    params["min_data_in_leaf"] = int(min(choice["min_data_in_leaf"], max(5, len(y) // 20)))
    if choice["balance"] == "scale_pos_weight":
        params["scale_pos_weight"] = float((y == 0).sum() / max(1, (y == 1).sum()))
    return params


def sample_choices(n_trials: int, seed: int) -> list[dict[str, Any]]:
    """The default configuration plus `n_trials - 1` distinct random grid points."""
    rng = np.random.default_rng(seed)
    choices = [dict(DEFAULT_TRIAL)]
    attempts = 0
    while len(choices) < n_trials and attempts < 50 * n_trials:
        attempts += 1
        choice = {k: v[int(rng.integers(len(v)))] for k, v in GRID.items()}
        if choice not in choices:
            choices.append(choice)
    return choices


def run_trial(
    choice: dict[str, Any],
    data: tuple[np.ndarray, ...],
    categorical: list[int],
    threads: int,
    seed: int,
) -> Trial:
    """Train one configuration with early stopping on the validation slice."""
    x_tr, y_tr, x_val, y_val = data
    params = lgb_params(choice, y_tr, threads, seed)
    train_set = lgb.Dataset(x_tr, y_tr, categorical_feature=categorical, free_raw_data=False)
    val_set = lgb.Dataset(x_val, y_val, reference=train_set, categorical_feature=categorical)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[val_set],
        callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
    )
    best = max(1, int(booster.best_iteration or booster.current_iteration()))
    raw = np.asarray(booster.predict(x_val, num_iteration=best, raw_score=True))
    return Trial(choice, float(roc_auc_score(y_val, raw)), best, raw)


def search(
    data: tuple[np.ndarray, ...],
    categorical: list[int],
    n_trials: int = 8,
    threads: int = 1,
    seed: int = 0,
) -> list[Trial]:
    """Run the search; trials sorted best first by validation AUC."""
    trials = []
    for choice in sample_choices(n_trials, seed):
        trial = run_trial(choice, data, categorical, threads, seed)
        logger.info(
            "trial %s: val AUC %.4f at %d rounds", choice, trial.val_auc, trial.best_iteration
        )
        trials.append(trial)
    return sorted(trials, key=lambda t: -t.val_auc)


def fit_final(
    choice: dict[str, Any],
    rounds: int,
    x: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    names: list[str],
    threads: int,
    seed: int,
) -> lgb.Booster:
    """Refit the chosen configuration on train + validation for a fixed number of rounds."""
    params = lgb_params(choice, y, threads, seed)
    params.pop("metric", None)
    data = lgb.Dataset(x, y, feature_name=names, categorical_feature=categorical)
    return lgb.train(params, data, num_boost_round=rounds)
