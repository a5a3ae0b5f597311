"""Fit the chosen tabular model: selection on the folds, then the final fit on every row.

`fit_models` chooses among the candidates (`select.py`) and refits the winner on the development
rows (train + validation). The calibration slice stays held out from the served model, so its
calibration, the reported metrics and the promotion gate all describe exactly the model served.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from models.scoring.reasons import CATEGORICAL
from training.scoring import linear, tune
from training.scoring.select import Selection, select_model
from training.scoring.split import (
    CV_FOLDS,
    CV_REPEATS,
    Fold,
    Splits,
    check_folds,
    selection_folds,
)
from training.scoring.table import TableSpec

logger = logging.getLogger(__name__)

FIT_THREADS_ROWS = 100_000


@dataclass
class TrainConfig:
    """What to train: the task kind and the table's column roles, plus search settings."""

    kind: str
    label: str
    id_col: str | None = None
    time_col: str | None = None
    feature_text: dict[str, str] = field(default_factory=dict)
    n_trials: int = 20
    threads: int = 1
    seed: int = 0
    allow_linear: bool = True
    source: str = "table"
    data_hash: str | None = None
    tier_bands: tuple[float, ...] | None = None  # None: the kind's default (churn: 0.66/0.33)
    dask_scheduler: str | None = None  # refit the final LightGBM on this Dask cluster


@dataclass
class Fit:
    """The fitted models of a run and what chose them."""

    weight: float
    booster: lgb.Booster | None
    linear_spec: dict[str, Any] | None
    params: dict[str, Any]
    val_metrics: dict[str, float]
    trials: list[tune.CvResult]
    candidates: dict[str, float]
    choice: dict[str, Any] | None  # the LightGBM configuration ({} = library default)
    cross_validated: bool
    searched: dict[str, float] = field(default_factory=dict)  # AUC on the search folds


def fit_models(
    x: np.ndarray, y: np.ndarray, splits: Splits, spec: TableSpec, config: TrainConfig
) -> Fit:
    """Choose the model on the selection folds, then refit it on the development rows."""
    specs = list(spec.features)
    folds, cross_validated = selection_folds(y, splits, config.seed)
    sel = select_model(
        x,
        y,
        folds,
        specs,
        config.n_trials,
        check=check_folds(y, splits, config.seed),
        allow_linear=config.allow_linear,
        threads=config.threads,
        seed=config.seed,
        max_rounds=tune.SAMPLED_MAX_ROUNDS if sampled(folds, splits) else tune.MAX_ROUNDS,
    )
    dev = np.concatenate([splits.train, splits.validation])
    booster, dask_workers = (
        _final_booster(sel, x, y, folds, splits, spec, config) if sel.weight > 0 else (None, 0)
    )
    lin = None
    if sel.weight < 1 and sel.linear_c is not None:
        lin = linear.fit_linear(x[dev], y[dev], specs, sel.linear_c)
    params = {
        **(sel.choice or {}),
        "chosen": sel.name,
        "rounds": booster.current_iteration() if booster is not None else 0,
        "blend_weight_lightgbm": sel.weight,
        "linear_C": sel.linear_c,
        "split": "time" if splits.by_time else "stratified",
        "selection": _selection_name(folds, cross_validated),
        "dask_workers": dask_workers,
    }
    val_metrics = {f"auc_{_slug(k)}": v for k, v in sel.candidates.items()}
    val_metrics.update({f"auc_search_{_slug(k)}": v for k, v in sel.search_candidates.items()})
    val_metrics["auc_chosen"] = sel.val_auc
    return Fit(
        sel.weight,
        booster,
        lin,
        params,
        val_metrics,
        sel.trials,
        sel.candidates,
        sel.choice,
        cross_validated,
        sel.search_candidates,
    )


def _final_booster(
    sel: Selection,
    x: np.ndarray,
    y: np.ndarray,
    folds: list[Fold],
    splits: Splits,
    spec: TableSpec,
    config: TrainConfig,
) -> tuple[lgb.Booster, int]:
    """The chosen LightGBM fitted on every development row for a fixed number of rounds, here or
    through LightGBM's Dask interface; (booster, Dask workers used or 0).

    After k-fold (or a whole-slice validation) the early-stopped rounds are scaled to the larger
    set. After a sampled search the sample's rounds are kept as they are: they are a lower bound
    for more rows, and `tune.SAMPLED_MAX_ROUNDS` bounds them, so the fit on every row costs a
    known number of rounds (early stopping on the full slices ran 2,788 rounds, 25 minutes).
    """
    choice = sel.choice or {}
    cats = [j for j, f in enumerate(spec.features) if f.kind == CATEGORICAL]
    dev = np.concatenate([splits.train, splits.validation])
    fit_rows = float(np.mean([len(f.fit) for f in folds]))
    if not choice:
        rounds = tune.DEFAULT_ROUNDS
    elif sampled(folds, splits):
        rounds = sel.rounds
    else:
        rounds = round(sel.rounds * len(dev) / fit_rows)
    rounds = max(1, rounds)
    if config.dask_scheduler is not None:
        from training.scoring.distributed import fit_final_dask

        params = tune.lgb_params(choice, len(dev), config.threads, config.seed)
        return fit_final_dask(
            params, rounds, x[dev], y[dev], cats, spec.feature_names, config.dask_scheduler
        )
    booster = tune.fit_final(
        choice,
        rounds,
        x[dev],
        y[dev],
        cats,
        spec.feature_names,
        fit_threads(config.threads, len(dev)),
        config.seed,
    )
    return booster, 0


def sampled(folds: list[Fold], splits: Splits) -> bool:
    """Whether the selection trained on a sample of the train slice (a large table)."""
    return len(folds) == 1 and len(folds[0].fit) < len(splits.train)


def fit_threads(requested: int, rows: int) -> int:
    """LightGBM threads of the final fit: the idle cores (1-minute load average) from
    FIT_THREADS_ROWS rows on, else `requested`.

    Measured on the 2-core machine at load ~10 (743 rounds, 62,000 rows): 2 threads took 57 s
    of CPU and 235 s wall against 4 s and 21 s on one - OpenMP threads spin while a busy core
    holds their partner - so extra threads only go to cores nobody else is using.
    """
    if rows < FIT_THREADS_ROWS:
        return requested
    busy = os.getloadavg()[0] - 1.0  # minus this process, busy for the last minute
    idle = int((os.cpu_count() or 1) - busy + 0.5)
    threads = max(requested, min(os.cpu_count() or 1, idle))
    logger.info("final fit: %d LightGBM threads (load average %.1f)", threads, busy + 1.0)
    return threads


def _selection_name(folds: list[Fold], cross_validated: bool) -> str:
    if cross_validated:
        kfold = f"repeated stratified {CV_FOLDS}-fold x{CV_REPEATS}"
        return f"{kfold}: searched on one shuffle, candidates judged on a second"
    return f"validation slice ({len(folds[0].fit)} fit / {len(folds[0].val)} validation rows)"


def _slug(name: str) -> str:
    """An MLflow-safe metric name of a candidate."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name.lower()).strip("_")
