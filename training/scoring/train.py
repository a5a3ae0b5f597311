"""Train a churn or lead scorer from any table: search, blend, refit, calibrate, write a bundle.

Steps: type the columns, split (time or stratified), choose among default LightGBM, tuned
LightGBM, logistic regression and their blends on the selection folds (`select.py`), refit the
winner on train + validation, calibrate on the held-out calibration slice, derive tier
thresholds, store the quantiles of the calibrated held-out probabilities (for percentiles),
write the bundle. The calibration slice is also the promotion gate's data.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.bundle import Manifest, write_manifest
from models.scoring.calibration import Calibrator
from models.scoring.drift import feature_profiles
from models.scoring.reasons import CATEGORICAL
from models.scoring.scorer import CALIBRATION_FILE, LINEAR_FILE, MODEL_FILE, TabularScorer
from models.scoring.specs import encode_frame
from models.scoring.tiers import population_spec
from training.scoring import calibrate, evaluate, linear, tune
from training.scoring.fit import Fit, TrainConfig, fit_models
from training.scoring.split import Splits, split_rows
from training.scoring.table import TableSpec, infer_spec, read_labels, read_times

__all__ = ["TrainConfig", "TrainResult", "train_scorer"]

logger = logging.getLogger(__name__)

# Mean |contribution| of a feature over 2,000 rows has a standard error of a few percent of
# itself; TreeSHAP costs a tree walk per row, feature and tree (20,000 rows took minutes at 1M).
IMPORTANCE_ROWS = 2_000


@dataclass
class TrainResult:
    """A trained bundle with everything worth logging about it."""

    bundle_dir: Path
    scorer: TabularScorer
    metrics: dict[str, float]
    params: dict[str, Any]
    trials: list[tune.CvResult]
    importance: dict[str, float]
    booster: lgb.Booster | None
    example: pd.DataFrame
    holdout: tuple[np.ndarray, np.ndarray]  # (labels, out-of-fold calibrated probabilities)
    holdout_rows: np.ndarray  # positions of the held-out calibration rows in the training frame
    candidates: dict[str, float]  # validation AUC of every candidate
    searched: dict[str, float]  # AUC of the plain candidates on the search folds


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
    fit = fit_models(x, y, splits, spec, config)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    raw_cal = _write_models(bundle_dir, fit, x[splits.calibration], spec)
    y_cal = y[splits.calibration]
    cal_spec, oof, briers = calibrate.choose_calibration(raw_cal, y_cal, config.seed)
    (bundle_dir / CALIBRATION_FILE).write_text(json.dumps(cal_spec))
    calibrated = Calibrator(cal_spec)(raw_cal)
    tiers = calibrate.tiers_for(config.kind, calibrated, config.tier_bands)
    metrics = evaluate.metrics(y_cal, oof)
    metrics["holdout_roc_auc_raw"] = float(roc_auc_score(y_cal, raw_cal))
    metrics["brier_uncalibrated"] = float(np.mean((1 / (1 + np.exp(-raw_cal)) - y_cal) ** 2))
    metrics.update({f"cv_brier_{m}": b for m, b in briers.items()})
    metrics.update({f"val_{k}": v for k, v in fit.val_metrics.items()})
    details = _details(spec, config, fit, cal_spec["method"], tiers, metrics, splits)
    details["population"] = population_spec(calibrated)
    # Training-time distributions, so drift is measured later without the training data.
    details["drift_profile"] = feature_profiles(x, list(spec.features))
    as_of = str(times.max()) if times is not None else None
    write_manifest(
        bundle_dir,
        Manifest(kind=config.kind, data_hash=config.data_hash, as_of=as_of, details=details),
    )
    scorer = TabularScorer.load(bundle_dir, config.kind)
    # Contributions cost a tree walk per row and feature: a sample of held-out rows is enough.
    rows = np.random.default_rng(config.seed).permutation(splits.calibration)[:IMPORTANCE_ROWS]
    importance = _importance(scorer, x[np.sort(rows)])
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
        splits.calibration,
        fit.candidates,
        fit.searched,
    )


def _write_models(bundle_dir: Path, fit: Fit, x_cal: np.ndarray, spec: TableSpec) -> np.ndarray:
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
    fit: Fit,
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
            **({"example": f.example} if f.example is not None else {}),
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
