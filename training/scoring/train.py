"""Train a churn or lead scorer from any table: search, blend, refit, calibrate, write a bundle.

Steps: type the columns, split (time or stratified), search LightGBM and a logistic model on
the validation slice, choose their log-odds blend weight on validation, refit on train +
validation, calibrate on the calibration slice, derive tier thresholds, write the bundle.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.bundle import Manifest, write_manifest
from models.scoring.drift import feature_profiles
from models.scoring.reasons import CATEGORICAL
from models.scoring.scorer import (
    CALIBRATION_FILE,
    LINEAR_FILE,
    MODEL_FILE,
    Calibrator,
    TabularScorer,
)
from models.scoring.specs import encode_frame
from training.scoring import calibrate, evaluate, linear, tune
from training.scoring.split import Splits, split_rows
from training.scoring.table import TableSpec, infer_spec, read_labels, read_times

logger = logging.getLogger(__name__)

BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class TrainConfig:
    """What to train: the task kind and the table's column roles, plus search settings."""

    kind: str
    label: str
    id_col: str | None = None
    time_col: str | None = None
    feature_text: dict[str, str] = field(default_factory=dict)
    n_trials: int = 8
    threads: int = 1
    seed: int = 0
    allow_linear: bool = True
    source: str = "table"
    data_hash: str | None = None
    dask_scheduler: str | None = None  # refit the final LightGBM on this Dask cluster


@dataclass
class TrainResult:
    """A trained bundle with everything worth logging about it."""

    bundle_dir: Path
    scorer: TabularScorer
    metrics: dict[str, float]
    params: dict[str, Any]
    trials: list[tune.Trial]
    importance: dict[str, float]
    booster: lgb.Booster | None
    example: pd.DataFrame
    holdout: tuple[np.ndarray, np.ndarray]  # (labels, out-of-fold calibrated probabilities)


@dataclass
class _Fit:
    weight: float
    booster: lgb.Booster | None
    linear_spec: dict[str, Any] | None
    params: dict[str, Any]
    val_metrics: dict[str, float]
    trials: list[tune.Trial]


def train_scorer(df: pd.DataFrame, config: TrainConfig, bundle_dir: Path) -> TrainResult:
    """Train on `df` and write a bundle into `bundle_dir` (created; should be fresh)."""
    if config.kind not in ("churn", "lead"):
        raise ValueError(f"kind must be churn or lead, not {config.kind!r}")
    if config.dask_scheduler is not None:
        from training.scoring.distributed import check_scheduler

        check_scheduler(config.dask_scheduler)  # fail before the search, not after it
    spec = infer_spec(df, config.label, config.id_col, config.time_col, config.source)
    y = read_labels(df, config.label, config.source)
    times = read_times(df, config.time_col, config.source) if config.time_col else None
    x = encode_frame(df, list(spec.features))
    splits = split_rows(y, times, config.seed)
    fit = _fit_models(x, y, splits, spec, config)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    raw_cal = _write_models(bundle_dir, fit, x[splits.calibration], spec)
    y_cal = y[splits.calibration]
    cal_spec, oof, briers = calibrate.choose_calibration(raw_cal, y_cal, config.seed)
    (bundle_dir / CALIBRATION_FILE).write_text(json.dumps(cal_spec))
    tiers = calibrate.tiers_for(config.kind, Calibrator(cal_spec)(raw_cal))
    metrics = evaluate.metrics(y_cal, oof)
    metrics["brier_uncalibrated"] = float(np.mean((1 / (1 + np.exp(-raw_cal)) - y_cal) ** 2))
    metrics.update({f"cv_brier_{m}": b for m, b in briers.items()})
    metrics.update({f"val_{k}": v for k, v in fit.val_metrics.items()})
    details = _details(spec, config, fit, cal_spec["method"], tiers, metrics, splits)
    # Training-time distributions, so drift is measured later without the training data.
    details["drift_profile"] = feature_profiles(x, list(spec.features))
    as_of = str(times.max()) if times is not None else None
    write_manifest(
        bundle_dir,
        Manifest(kind=config.kind, data_hash=config.data_hash, as_of=as_of, details=details),
    )
    scorer = TabularScorer.load(bundle_dir, config.kind)
    importance = _importance(scorer, x[splits.calibration])
    example = pd.DataFrame(x[:5], columns=spec.feature_names)
    return TrainResult(
        bundle_dir,
        scorer,
        metrics,
        fit.params,
        fit.trials,
        importance,
        fit.booster,
        example,
        (y_cal, oof),
    )


def _fit_models(
    x: np.ndarray, y: np.ndarray, splits: Splits, spec: TableSpec, config: TrainConfig
) -> _Fit:
    """Search both model families on validation, pick the blend weight, refit on train+val."""
    tr, val = splits.train, splits.validation
    cats = [j for j, f in enumerate(spec.features) if f.kind == CATEGORICAL]
    specs = list(spec.features)
    data = (x[tr], y[tr], x[val], y[val])
    trials = tune.search(data, cats, config.n_trials, config.threads, config.seed)
    best = trials[0]
    weight, c = 1.0, None
    val_metrics = {"auc_lightgbm": best.val_auc, "auc_chosen": best.val_auc}
    if config.allow_linear:
        c, c_scores = linear.search_linear(*data, specs)
        lin_val = linear.linear_raw(linear.fit_linear(x[tr], y[tr], specs, c), specs, x[val])
        weight, blend_scores = _choose_weight(best.raw_val, lin_val, y[val])
        val_metrics.update({f"auc_linear_C{k}": v for k, v in c_scores.items()})
        val_metrics.update({f"auc_blend_w{w}": v for w, v in blend_scores.items()})
        val_metrics["auc_chosen"] = blend_scores[weight]
    tv = np.concatenate([tr, val])
    rounds = max(1, round(best.best_iteration * len(tv) / len(tr)))
    booster, dask_workers = (
        _fit_final(best.choice, rounds, x[tv], y[tv], cats, spec, config)
        if weight > 0
        else (None, 0)
    )
    lin = linear.fit_linear(x[tv], y[tv], specs, c) if weight < 1 and c is not None else None
    params = {
        **best.choice,
        "rounds": rounds,
        "blend_weight_lightgbm": weight,
        "linear_C": c,
        "split": "time" if splits.by_time else "stratified",
        "dask_workers": dask_workers,
    }
    return _Fit(weight, booster, lin, params, val_metrics, trials)


def _fit_final(
    choice: dict[str, Any],
    rounds: int,
    x: np.ndarray,
    y: np.ndarray,
    cats: list[int],
    spec: TableSpec,
    config: TrainConfig,
) -> tuple[lgb.Booster, int]:
    """The final refit: here, or through LightGBM's Dask interface (0 workers = local)."""
    names = spec.feature_names
    if config.dask_scheduler is None:
        return tune.fit_final(choice, rounds, x, y, cats, names, config.threads, config.seed), 0
    from training.scoring.distributed import fit_final_dask

    params = tune.lgb_params(choice, y, config.threads, config.seed)
    return fit_final_dask(params, rounds, x, y, cats, names, config.dask_scheduler)


def _choose_weight(
    lgb_raw: np.ndarray, lin_raw: np.ndarray, y: np.ndarray
) -> tuple[float, dict[float, float]]:
    """The LightGBM weight of the log-odds blend with the best validation AUC (ties: more trees)."""
    scores = {w: float(roc_auc_score(y, w * lgb_raw + (1 - w) * lin_raw)) for w in BLEND_WEIGHTS}
    best = max(scores, key=lambda w: (round(scores[w], 4), w))
    return best, scores


def _write_models(bundle_dir: Path, fit: _Fit, x_cal: np.ndarray, spec: TableSpec) -> np.ndarray:
    """Write model.txt / linear.json; return the blended raw scores of the calibration slice."""
    raw = np.zeros(len(x_cal))
    if fit.booster is not None:
        fit.booster.save_model(str(bundle_dir / MODEL_FILE))
        raw += fit.weight * np.asarray(fit.booster.predict(x_cal, raw_score=True))
    if fit.linear_spec is not None:
        (bundle_dir / LINEAR_FILE).write_text(json.dumps(fit.linear_spec))
        raw += (1 - fit.weight) * linear.linear_raw(fit.linear_spec, list(spec.features), x_cal)
    return raw


def _details(
    spec: TableSpec,
    config: TrainConfig,
    fit: _Fit,
    method: str,
    tiers: dict[str, Any],
    metrics: dict[str, float],
    splits: Splits,
) -> dict[str, Any]:
    features = [
        {
            "name": f.name,
            "kind": f.kind,
            **({"categories": list(f.categories)} if f.kind == CATEGORICAL else {}),
        }
        for f in spec.features
    ]
    return {
        "task": config.kind,
        "features": features,
        "label_col": spec.label,
        "id_col": spec.id_col,
        "time_col": spec.time_col,
        "feature_text": dict(config.feature_text),
        "tiers": tiers,
        "model": {
            "weight": fit.weight,
            "lightgbm": fit.booster is not None,
            "linear": fit.linear_spec is not None,
            "calibration": method,
        },
        "params": fit.params,
        "metrics": metrics,
        "rows": {
            "train": len(splits.train),
            "validation": len(splits.validation),
            "calibration": len(splits.calibration),
        },
    }


def _importance(scorer: TabularScorer, x: np.ndarray) -> dict[str, float]:
    """Mean absolute log-odds contribution per feature on held-out rows."""
    contrib = np.abs(scorer.contributions(x)[:, :-1]).mean(axis=0)
    return {name: float(v) for name, v in zip(scorer.feature_names, contrib, strict=True)}
