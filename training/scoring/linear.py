"""A regularized logistic model on the encoded matrix, stored as JSON for `LinearPart`.

Numerics are standardized (missing -> mean, i.e. no contribution) and categoricals one-hot
encoded (missing or unseen -> no contribution), so its terms are per-feature log-odds
contributions exactly like LightGBM's `pred_contrib`, and the two blend cleanly.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.scoring.reasons import CATEGORICAL
from models.scoring.scorer import LinearPart
from models.scoring.specs import FeatureSpec

C_GRID = (0.01, 0.1, 1.0)


def design(
    x: np.ndarray, specs: list[FeatureSpec], mean: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Standardized numerics plus one-hot categoricals."""
    blocks = []
    for j, spec in enumerate(specs):
        col = x[:, j]
        if spec.kind == CATEGORICAL:
            onehot = np.zeros((len(x), len(spec.categories)))
            known = ~np.isnan(col)
            onehot[np.flatnonzero(known), col[known].astype(int)] = 1.0
            blocks.append(onehot)
        else:
            blocks.append(np.nan_to_num((col - mean[j]) / scale[j])[:, None])
    return np.hstack(blocks)


def fit_linear(
    x: np.ndarray,
    y: np.ndarray,
    specs: list[FeatureSpec],
    c: float,
    sample_weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fit an L2 logistic model; return its JSON spec (intercept, mean, scale, coefs)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: mean 0, scale 1
        mean = np.nan_to_num(np.nanmean(x, axis=0))
        scale = np.nan_to_num(np.nanstd(x, axis=0), nan=1.0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(design(x, specs, mean, scale), y, sample_weight=sample_weight)
    coefs = model.coef_[0]
    spec: dict[str, Any] = {
        "intercept": float(model.intercept_[0]),
        "C": c,
        "mean": {},
        "scale": {},
        "coef": {},
        "cat_coef": {},
    }
    pos = 0
    for j, feat in enumerate(specs):
        if feat.kind == CATEGORICAL:
            spec["cat_coef"][feat.name] = [
                float(v) for v in coefs[pos : pos + len(feat.categories)]
            ]
            pos += len(feat.categories)
        else:
            spec["mean"][feat.name] = float(mean[j])
            spec["scale"][feat.name] = float(scale[j])
            spec["coef"][feat.name] = float(coefs[pos])
            pos += 1
    return spec


def linear_raw(spec: dict[str, Any], specs: list[FeatureSpec], x: np.ndarray) -> np.ndarray:
    """Log-odds of the linear model, through the same code the runtime uses."""
    raw: np.ndarray = LinearPart(spec, specs).contributions(x).sum(axis=1)
    return raw
