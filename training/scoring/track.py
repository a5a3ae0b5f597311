"""Log a trained scorer to MLflow: parameters, metrics, search trials, plots and the models.

Search trials become nested child runs and a table (`search/trials.json`); the validation AUC
of every candidate goes to `search/candidates.json` and `val_auc_*` metrics. The full scorer is
logged as an MLflow pyfunc model (signature + input example; code-defined in `pyfunc_model.py`,
no pickle) over the valuechain bundle, which `register_bundle` registers.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
import mlflow.artifacts
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from features.settings import Settings
from training.registry import CHAMPION, RegisteredVersion, register_bundle
from training.scoring import evaluate
from training.scoring.train import TrainConfig, TrainResult

logger = logging.getLogger(__name__)


def log_training(
    result: TrainResult,
    config: TrainConfig,
    example: pd.DataFrame | None = None,
    *,
    log_model: bool = True,
) -> None:
    """Log everything about `result` into the active MLflow run.

    `example`: a few raw training rows; with it the full scorer is logged as an MLflow model
    with a signature and that input example.
    """
    mlflow.log_params(_params(result, config))
    mlflow.log_metrics({k: v for k, v in result.metrics.items() if np.isfinite(v)})
    for i, trial in enumerate(result.trials):
        with mlflow.start_run(run_name=f"trial-{i:02d}", nested=True):
            mlflow.log_params(trial.choice)
            mlflow.log_metrics(
                {"val_auc": trial.val_auc, "best_iteration": float(trial.best_iteration)}
            )
    if result.trials:
        rows = [
            {**t.choice, "val_auc": t.val_auc, "best_iteration": t.best_iteration}
            for t in result.trials
        ]
        mlflow.log_table(pd.DataFrame(rows), "search/trials.json")
    mlflow.log_dict(result.candidates, "search/candidates.json")
    y, p = result.holdout
    for name, fig in evaluate.plots(y, p, result.importance).items():
        mlflow.log_figure(fig, f"plots/{name}.png")
    mlflow.log_dict(result.scorer.manifest.details["tiers"], "tiers.json")
    if log_model and example is not None:
        _log_scorer(result, example)


def _params(result: TrainResult, config: TrainConfig) -> dict[str, Any]:
    details = result.scorer.manifest.details
    params = {f"search.{k}": v for k, v in result.params.items()}
    params.update(
        {
            "kind": config.kind,
            "label": config.label,
            "id_col": config.id_col,
            "time_col": config.time_col,
            "n_features": len(result.scorer.feature_names),
            "calibration": details["model"]["calibration"],
            "source": config.source,
            **{f"rows.{k}": v for k, v in details["rows"].items()},
        }
    )
    return params


def _log_scorer(result: TrainResult, example: pd.DataFrame) -> None:
    """The served model - calibrated blend, tiers - as a code-defined pyfunc over the bundle."""
    rows = example[result.scorer.feature_names].head(5).copy()
    # Integer columns cannot hold missing values in an MLflow schema; scoring accepts them.
    ints = rows.select_dtypes("integer").columns
    rows[ints] = rows[ints].astype("float64")
    output = result.scorer.score_frame(rows)[["probability", "score", "tier"]]
    with warnings.catch_warnings():
        # The integer output `score` is never missing; MLflow's hint about integers is moot.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(rows, output.reset_index(drop=True))
    mlflow.pyfunc.log_model(
        name="scorer",
        python_model=str(Path(__file__).with_name("pyfunc_model.py")),
        artifacts={"bundle": str(result.bundle_dir)},
        signature=signature,
        input_example=rows,
        pip_requirements=[f"lightgbm=={lgb.__version__}", f"pandas=={pd.__version__}"],
    )


def register(settings: Settings, result: TrainResult, alias: str = CHAMPION) -> RegisteredVersion:
    """Register the bundle under the kind's model name and point `alias` at it."""
    name = settings.churn_model if result.scorer.kind == "churn" else settings.lead_model
    return register_bundle(
        settings,
        name,
        result.bundle_dir,
        alias=alias,
        description=f"valuechain {result.scorer.kind} scorer",
    )
