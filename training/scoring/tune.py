"""LightGBM on the selection folds: the library-default model and an Optuna search.

Every configuration is scored the same way - trained on each fold's fit rows, evaluated by ROC-AUC
on that fold's validation rows - so the default, the tuned model and the logistic model compete
on equal terms (`training.scoring.select`). Tuned trials stop early on validation log-loss; the
search is Optuna's TPE sampler, seeded, with a conservative configuration enqueued first. The
calibration slice (the promotion gate's data) never takes part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
from sklearn.metrics import roc_auc_score

from training.scoring.split import Fold

logger = logging.getLogger(__name__)

CONSERVATIVE: dict[str, Any] = {
    "learning_rate": 0.03,
    "num_leaves": 8,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "lambda_l2": 10.0,
}
DEFAULT_ROUNDS = 100  # LightGBM's own default, the "default LightGBM" baseline
MAX_ROUNDS = 3000
# Rounds a trial may run when the search sees a sample of a large table. The final fit on every
# row reuses the sample's early-stopped rounds, so this also bounds the final fit's cost: at
# 1M customers an unbounded early-stopped fit ran 2,788 rounds for 25 minutes.
SAMPLED_MAX_ROUNDS = 500
PATIENCE = 100
_DATASET_PARAMS = {"feature_pre_filter": False, "verbose": -1}


@dataclass
class FoldData:
    """One fold's LightGBM datasets, built once and reused by every trial (binning is costly)."""

    train: lgb.Dataset
    valid: lgb.Dataset
    x_val: np.ndarray
    y_val: np.ndarray
    n_fit: int


@dataclass
class CvResult:
    """A configuration scored on every fold: mean AUC, rounds, per-fold raw validation scores."""

    choice: dict[str, Any]
    val_auc: float
    best_iteration: int
    raw: list[np.ndarray] = field(repr=False)


Trial = CvResult  # a searched configuration, as logged to MLflow


def fold_data(
    x: np.ndarray, y: np.ndarray, folds: list[Fold], categorical: list[int]
) -> list[FoldData]:
    """LightGBM datasets of each fold (feature pre-filtering off so trials may vary leaf sizes)."""
    out = []
    for fold in folds:
        train = lgb.Dataset(
            x[fold.fit],
            y[fold.fit],
            categorical_feature=categorical,
            params=_DATASET_PARAMS,
            free_raw_data=False,
        )
        valid = lgb.Dataset(x[fold.val], y[fold.val], reference=train, params=_DATASET_PARAMS)
        out.append(FoldData(train, valid, x[fold.val], y[fold.val], len(fold.fit)))
    return out


def base_params(threads: int, seed: int) -> dict[str, Any]:
    """Parameters shared by every configuration, the library default included."""
    return {
        "objective": "binary",
        "verbose": -1,
        "num_threads": threads,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
    }


def lgb_params(choice: dict[str, Any], n_rows: int, threads: int, seed: int) -> dict[str, Any]:
    """Full parameters of a searched choice; `{}` is LightGBM's default configuration."""
    params = base_params(threads, seed)
    if not choice:
        return params
    # Early stopping watches log-loss: on small validation folds AUC is too jumpy and stops
    # after a handful of rounds. Configurations are still ranked by validation AUC.
    params.update(
        {"metric": "binary_logloss", "bagging_freq": 1, "cat_smooth": 10.0, "cat_l2": 10.0}
    )
    params.update(choice)
    params["min_data_in_leaf"] = int(min(choice["min_data_in_leaf"], max(5, n_rows // 20)))
    return params


def cross_validate(
    choice: dict[str, Any],
    data: list[FoldData],
    threads: int,
    seed: int,
    max_rounds: int = MAX_ROUNDS,
) -> CvResult:
    """Train `choice` on each fold; `{}` is the default model (100 rounds, no early stopping)."""
    aucs, rounds, raws = [], [], []
    for fold in data:
        params = lgb_params(choice, fold.n_fit, threads, seed)
        if choice:
            booster = lgb.train(
                params,
                fold.train,
                num_boost_round=max_rounds,
                valid_sets=[fold.valid],
                callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
            )
            best = max(1, int(booster.best_iteration or booster.current_iteration()))
        else:
            booster, best = lgb.train(params, fold.train, num_boost_round=DEFAULT_ROUNDS), 0
        raw = np.asarray(booster.predict(fold.x_val, num_iteration=best or None, raw_score=True))
        aucs.append(float(roc_auc_score(fold.y_val, raw)))
        rounds.append(best or DEFAULT_ROUNDS)
        raws.append(raw)
    return CvResult(dict(choice), float(np.mean(aucs)), round(float(np.mean(rounds))), raws)


def _suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 200, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
    }


def search(
    data: list[FoldData],
    n_trials: int,
    threads: int,
    seed: int,
    max_rounds: int = MAX_ROUNDS,
) -> list[CvResult]:
    """Optuna TPE search maximising mean fold AUC; every trial, best first."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # trials are logged below and to MLflow
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, n_trials)),
    )
    study.enqueue_trial(CONSERVATIVE)
    results: list[CvResult] = []

    def objective(trial: optuna.Trial) -> float:
        result = cross_validate(_suggest(trial), data, threads, seed, max_rounds)
        # Keep only the best trial's fold predictions: they feed the blend, the rest is waste.
        if not results or result.val_auc > results[0].val_auc:
            if results:
                results[0].raw = []
            results.insert(0, result)
        else:
            result.raw = []
            results.append(result)
        logger.info(
            "trial %d: mean validation AUC %.4f at %d rounds %s",
            trial.number,
            result.val_auc,
            result.best_iteration,
            result.choice,
        )
        return result.val_auc

    study.optimize(objective, n_trials=n_trials)
    return [results[0], *sorted(results[1:], key=lambda t: -t.val_auc)]


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
    """Refit a configuration on all development rows for a fixed number of rounds."""
    params = lgb_params(choice, len(y), threads, seed)
    params.pop("metric", None)
    data = lgb.Dataset(x, y, feature_name=names, categorical_feature=categorical)
    return lgb.train(params, data, num_boost_round=rounds)
