"""Probability calibration on held-out data and the tier thresholds of the bundle.

Platt scaling and isotonic regression are both fitted on the calibration slice; the one with
the lower cross-validated Brier score wins (Platt underfits bent curves). Isotonic is only a
candidate from ISOTONIC_MIN_ROWS rows on: below that its steps follow the slice's noise, and a
cross-validated Brier on a few hundred rows is too noisy to catch it. Both are stored as JSON
for `models.scoring.scorer.Calibrator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold

from models.scoring.calibration import Calibrator
from models.scoring.tiers import BANDS

METHODS = ("platt", "isotonic")
ISOTONIC_MIN_ROWS = 1000  # scikit-learn's guidance: isotonic overfits below ~1,000 samples
CHURN_TIERS = ("high", "medium", "low")
# Churn risk reads as a probability: high from 0.66, medium from 0.33, low below (the fixed
# bands CRM users know, e.g. Klaviyo's). A tier of "top 10%" called a 0.73 probability "low".
CHURN_BANDS = (0.66, 0.33)
LEAD_TIERS = ("A", "B", "C", "D")
LEAD_SHARES = (0.10, 0.20, 0.30)  # A = top 10%, B = next 20%, C = next 30%, D = rest


def fit_calibration(method: str, raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Fit one calibration method on (raw log-odds, label); return its JSON spec."""
    if method == "platt":
        model = LogisticRegression(C=1e6, max_iter=1000).fit(raw[:, None], y)
        return {"method": "platt", "a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])}
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    return {
        "method": "isotonic",
        "x": [float(v) for v in iso.X_thresholds_],
        "y": [float(v) for v in iso.y_thresholds_],
    }


def out_of_fold(method: str, raw: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Calibrated probabilities of each row from a calibrator fitted without it."""
    folds = min(5, int(np.bincount(y).min()))
    if folds < 2:
        return np.asarray(Calibrator(fit_calibration(method, raw, y))(raw))
    out = np.zeros(len(y))
    for fit_idx, pred_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(raw, y):
        spec = fit_calibration(method, raw[fit_idx], y[fit_idx])
        out[pred_idx] = Calibrator(spec)(raw[pred_idx])
    return out


def choose_calibration(
    raw: np.ndarray, y: np.ndarray, seed: int = 0
) -> tuple[dict[str, Any], np.ndarray, dict[str, float]]:
    """Pick the method with the lowest cross-validated Brier; refit it on the whole slice.

    Returns:
        (calibration spec, out-of-fold probabilities of the winner, Brier per method).
    """
    methods = METHODS if len(y) >= ISOTONIC_MIN_ROWS else ("platt",)
    oof = {m: out_of_fold(m, raw, y, seed) for m in methods}
    briers = {m: float(brier_score_loss(y, p)) for m, p in oof.items()}
    best = min(methods, key=lambda m: briers[m])
    spec = fit_calibration(best, raw, y)
    spec["cv_brier"] = briers
    return spec, oof[best], briers


def tier_thresholds(probability: np.ndarray, shares: tuple[float, ...]) -> list[float]:
    """Descending probability thresholds: the top `shares[0]`, the next `shares[1]`, ..."""
    cuts = np.cumsum(shares)
    thresholds = [float(np.quantile(probability, 1 - c)) for c in cuts]
    # Ties (isotonic steps) can make cuts equal; keep them non-increasing.
    return list(np.minimum.accumulate(thresholds))


def tiers_for(
    kind: str, probability: np.ndarray, bands: tuple[float, ...] | None = None
) -> dict[str, Any]:
    """The tier names and thresholds of a kind.

    Churn: fixed probability bands (`bands`, default `CHURN_BANDS`). Lead: grades by quantiles
    of the held-out calibrated probabilities, unless `bands` are given.
    """
    names = CHURN_TIERS if kind == "churn" else LEAD_TIERS
    if kind == "churn" and bands is None:
        bands = CHURN_BANDS
    if bands is not None:
        return {"names": list(names), "thresholds": check_bands(names, bands), "basis": BANDS}
    return {
        "names": list(names),
        "thresholds": [float(t) for t in tier_thresholds(probability, LEAD_SHARES)],
        "shares": list(LEAD_SHARES),
        "basis": "quantiles of calibrated held-out probability",
    }


def check_bands(names: tuple[str, ...], bands: tuple[float, ...]) -> list[float]:
    """Thresholds as floats, or ValueError: one per tier but the last, descending, in (0, 1)."""
    values = [float(b) for b in bands]
    if len(values) != len(names) - 1:
        raise ValueError(
            f"--tier-thresholds needs {len(names) - 1} values for tiers {list(names)}, "
            f"got {len(values)}"
        )
    if not all(0 < v < 1 for v in values) or values != sorted(set(values), reverse=True):
        raise ValueError(
            f"--tier-thresholds {values}: probabilities in (0, 1), strictly descending"
        )
    return values
