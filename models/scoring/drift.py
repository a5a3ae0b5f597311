"""Feature drift: the population stability index (PSI) of each model input.

At training time each feature's distribution is summarised in the bundle manifest (bin edges
from the training deciles, or the category codes, plus a missing bin, with the share of rows in
each), so serving and materialize need no training data. At materialize time the current
population is binned the same way and compared:

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

Rule of thumb: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 a shift worth retraining for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.scoring.reasons import NUMERIC
from models.scoring.specs import FeatureSpec

BINS = 10
# Shares are floored at EPS so that an empty bin on either side gives a large, finite PSI.
EPS = 1e-4
THRESHOLD = 0.2


def feature_profiles(x: np.ndarray, specs: list[FeatureSpec]) -> dict[str, dict[str, Any]]:
    """Each feature's training distribution: `edges` (numeric) or `codes`, and `shares`.

    `shares` has one entry per bin and a last entry for missing (or unseen) values.
    """
    profiles: dict[str, dict[str, Any]] = {}
    for j, spec in enumerate(specs):
        col = x[:, j]
        present = col[~np.isnan(col)]
        if spec.kind == NUMERIC:
            qs = np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]) if len(present) else []
            profile: dict[str, Any] = {"edges": sorted({float(q) for q in qs})}
        else:  # categorical codes, or 0/1 for booleans
            profile = {"codes": max(2, len(spec.categories))}
        profile["shares"] = shares(profile, col).tolist()
        profiles[spec.name] = profile
    return profiles


def shares(profile: dict[str, Any], col: np.ndarray) -> np.ndarray:
    """The share of `col`'s values in each bin of `profile` (last bin: missing)."""
    missing = np.isnan(col)
    present = col[~missing]
    if "edges" in profile:
        edges = np.asarray(profile["edges"], dtype=float)
        idx = np.searchsorted(edges, present, side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1)
    else:
        counts = np.bincount(present.astype(int), minlength=int(profile["codes"]))
    counts = np.append(counts, missing.sum()).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def drift(
    profiles: dict[str, dict[str, Any]], x: np.ndarray, specs: list[FeatureSpec]
) -> dict[str, float]:
    """PSI of each profiled feature between training (`profiles`) and the rows of `x`."""
    out = {}
    for j, spec in enumerate(specs):
        profile = profiles.get(spec.name)
        if profile is not None and len(x):
            out[spec.name] = round(psi(np.asarray(profile["shares"]), shares(profile, x[:, j])), 6)
    return out
