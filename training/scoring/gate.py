"""The promotion gate for churn and lead: the current champion scored on the new run's holdout.

Both models are judged by ROC-AUC of their raw log-odds on the new run's held-out calibration
slice, which the new model never trained on. Calibration is monotone, so raw scores rank as the
served probabilities do, without isotonic ties. When the table changed since the champion was
trained, the champion may have seen some of those rows; that favours the champion, so the gate
errs towards keeping it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.settings import Settings
from models.bundle import BundleError
from models.champions import ChampionError, resolve_bundle
from models.scoring.scorer import TabularScorer
from models.scoring.specs import encode_frame
from training.registry import CHAMPION, Promotion, current_champion, decide_promotion
from training.scoring.select import DEFAULT_LGBM, LOGISTIC
from training.scoring.train import TrainResult

logger = logging.getLogger(__name__)

METRIC = "holdout_roc_auc_raw"


def model_name(settings: Settings, kind: str) -> str:
    """The registered-model name of a scorer kind."""
    return settings.churn_model if kind == "churn" else settings.lead_model


def judge(
    settings: Settings,
    result: TrainResult,
    df: pd.DataFrame,
    cache_dir: Path,
    *,
    margin: float = 0.0,
    force: bool = False,
) -> Promotion:
    """Compare the new scorer with the registered champion on the new holdout rows."""
    name = model_name(settings, result.scorer.kind)
    version = current_champion(settings, name)
    champion = None
    if version is not None:
        champion = champion_auc(settings, name, result, df, cache_dir)
    return decide_promotion(
        METRIC, result.metrics[METRIC], champion, version, margin=margin, force=force
    )


def champion_auc(
    settings: Settings, name: str, result: TrainResult, df: pd.DataFrame, cache_dir: Path
) -> float | None:
    """ROC-AUC of the champion's raw scores on the holdout; None when it cannot score them."""
    y, _ = result.holdout
    rows = df.iloc[result.holdout_rows]
    try:
        bundle = resolve_bundle(settings.mlflow_tracking_uri, name, CHAMPION, cache_dir)
        scorer = TabularScorer.load(bundle.path, result.scorer.kind)
        raw = scorer.raw_score(encode_frame(rows, scorer.specs))
    except (ChampionError, BundleError, ValueError, OSError) as exc:
        logger.warning("the %s champion cannot score the new holdout: %s", name, exc)
        return None
    return float(roc_auc_score(y, np.nan_to_num(raw)))


def baselines(result: TrainResult) -> dict[str, float]:
    """Validation ROC-AUC of the simple baselines, on the folds that chose the new model."""
    return {k: v for k, v in result.candidates.items() if k in (DEFAULT_LGBM, LOGISTIC)}
