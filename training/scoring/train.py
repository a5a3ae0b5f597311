"""Train a churn or lead scorer from any table: search, blend, refit, calibrate, write a bundle.

Steps: type the columns, split (time or stratified), choose among default LightGBM, tuned
LightGBM, logistic regression and their blends on the selection folds (`select.py`), refit the
winner on train + validation, calibrate on the held-out calibration slice, derive tier
thresholds, write the bundle. The calibration slice is also the promotion gate's data.
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
from training.scoring.select import Selection, select_model
from training.scoring.split import CV_FOLDS, CV_REPEATS, Fold, Splits, selection_folds, split_rows
from training.scoring.table import TableSpec, infer_spec, read_labels, read_times

logger = logging.getLogger(__name__)

IMPORTANCE_ROWS = 20_000


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


@dataclass
class _Fit:
    weight: float
    booster: lgb.Booster | None
    linear_spec: dict[str, Any] | None
    params: dict[str, Any]
    val_metrics: dict[str, float]
    trials: list[tune.CvResult]
    candidates: dict[str, float]


def train_scorer(df: pd.DataFrame, config: TrainConfig, bundle_dir: Path) -> TrainResult:
    """Train on `df` and write a bundle into `bundle_dir` (created; should be fresh)."""
    if config.kind not in ("churn", "lead"):
        raise ValueError(f"kind must be churn or lead, not {config.kind!r}")
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
    metrics["holdout_roc_auc_raw"] = float(roc_auc_score(y_cal, raw_cal))
    metrics["brier_uncalibrated"] = float(np.mean((1 / (1 + np.exp(-raw_cal)) - y_cal) ** 2))
    metrics.update({f"cv_brier_{m}": b for m, b in briers.items()})
    metrics.update({f"val_{k}": v for k, v in fit.val_metrics.items()})
    details = _details(spec, config, fit, cal_spec["method"], tiers, metrics, splits)
    as_of = str(times.max()) if times is not None else None
    write_manifest(
        bundle_dir,
        Manifest(kind=config.kind, data_hash=config.data_hash, as_of=as_of, details=details),
    )
    scorer = TabularScorer.load(bundle_dir, config.kind)
    # Contributions cost a tree walk per row and feature: a sample of held-out rows is enough.
    importance = _importance(scorer, x[splits.calibration[:IMPORTANCE_ROWS]])
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
    )


def _fit_models(
    x: np.ndarray, y: np.ndarray, splits: Splits, spec: TableSpec, config: TrainConfig
) -> _Fit:
    """Choose the model on the selection folds, then refit it on the development rows."""
    specs = list(spec.features)
    folds, cross_validated = selection_folds(y, splits, config.seed)
    sel = select_model(
        x,
        y,
        folds,
        specs,
        config.n_trials,
        allow_linear=config.allow_linear,
        threads=config.threads,
        seed=config.seed,
    )
    dev = np.concatenate([splits.train, splits.validation])
    booster = _final_booster(sel, x, y, folds, splits, spec, config) if sel.weight > 0 else None
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
    }
    val_metrics = {f"auc_{_slug(k)}": v for k, v in sel.candidates.items()}
    val_metrics["auc_chosen"] = sel.val_auc
    return _Fit(sel.weight, booster, lin, params, val_metrics, sel.trials, sel.candidates)


def _final_booster(
    sel: Selection,
    x: np.ndarray,
    y: np.ndarray,
    folds: list[Fold],
    splits: Splits,
    spec: TableSpec,
    config: TrainConfig,
) -> lgb.Booster:
    """The chosen LightGBM fitted on every development row (the search may have sampled)."""
    choice = sel.choice or {}
    cats = [j for j, f in enumerate(spec.features) if f.kind == CATEGORICAL]
    dev = np.concatenate([splits.train, splits.validation])
    fit_rows = float(np.mean([len(f.fit) for f in folds]))
    if choice and len(folds) == 1 and fit_rows < len(splits.train):
        # The search saw a sample: the rounds it found do not carry over to all rows, so the
        # full train slice learns with early stopping on the full validation slice instead.
        tr, val = splits.train, splits.validation
        return tune.fit_early_stopped(
            choice,
            (x[tr], y[tr], x[val], y[val]),
            cats,
            spec.feature_names,
            config.threads,
            config.seed,
        )
    rounds = round(sel.rounds * len(dev) / fit_rows) if choice else tune.DEFAULT_ROUNDS
    return tune.fit_final(
        choice,
        max(1, rounds),
        x[dev],
        y[dev],
        cats,
        spec.feature_names,
        config.threads,
        config.seed,
    )


def _selection_name(folds: list[Fold], cross_validated: bool) -> str:
    if cross_validated:
        return f"repeated stratified {CV_FOLDS}-fold x{CV_REPEATS}"
    return f"validation slice ({len(folds[0].fit)} fit / {len(folds[0].val)} validation rows)"


def _slug(name: str) -> str:
    """An MLflow-safe metric name of a candidate."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name.lower()).strip("_")


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
