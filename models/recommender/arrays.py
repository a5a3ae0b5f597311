"""The recommender bundle's arrays: one pickle-free `.npz` shared by training and serving.

Training fills `RecArrays` and calls `save_arrays`; the runtime calls `load_arrays`. Strings are
stored as fixed-width unicode arrays so `allow_pickle=False` works for every field.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.bundle import BundleError

KIND = "recommender"
ARRAYS_FILE = "recommender.npz"
RANKER_FILE = "ranker.txt"

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
STR = npt.NDArray[np.str_]


@dataclass
class RecArrays:
    """Everything the runtime needs, as numpy arrays indexed by user / item index."""

    user_ids: STR
    item_ids: STR
    user_factors: F32  # (n_users, f)
    item_factors: F32  # (n_items, f)
    hist_indptr: I64  # CSR rows of the users' training history
    hist_items: I32
    hist_weights: F32
    hist_events: I8
    hist_times: F64
    item_category: I32  # code into `categories`, -1 unknown
    categories: STR
    item_brand: I32
    brands: STR
    item_price: F64  # NaN when unknown
    item_popularity: F32  # distinct customers per item in the training period
    item_trend: F32  # distinct customers in the last `trend_days` before as_of
    segments: STR
    segment_popularity: F32  # (n_segments, n_items)
    user_segment: I32  # -1 unknown
    co_indptr: I64  # item x item co-purchase counts (top-N per item)
    co_items: I32
    co_counts: F32
    item_buyers: F32  # distinct buyers per item (co-purchase basis)
    # EASE over the popular head (training/recommender/ease.py); empty when not trained.
    ease_items: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    ease_weights: F32 = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def save_arrays(bundle_dir: Path, arrays: RecArrays) -> Path:
    """Write the arrays as `recommender.npz` (no pickle) into `bundle_dir`."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    path = bundle_dir / ARRAYS_FILE
    payload = {f.name: np.asarray(getattr(arrays, f.name)) for f in fields(RecArrays)}
    np.savez(path, allow_pickle=False, **payload)
    return path


def load_arrays(bundle_dir: Path) -> RecArrays:
    """Read `recommender.npz` from a bundle; missing required fields raise `BundleError`.

    Fields with a default (added later, e.g. EASE) may be absent: older bundles still load.
    """
    path = bundle_dir / ARRAYS_FILE
    if not path.is_file():
        raise BundleError(f"{bundle_dir}: no {ARRAYS_FILE}")
    with np.load(path, allow_pickle=False) as data:
        missing = [
            f.name
            for f in fields(RecArrays)
            if f.name not in data.files and f.default_factory is MISSING
        ]
        if missing:
            raise BundleError(f"{path}: missing arrays {missing}")
        return RecArrays(
            **{f.name: data[f.name] for f in fields(RecArrays) if f.name in data.files}
        )


def confidence(weights: npt.NDArray[np.floating], scheme: str, alpha: float, eps: float) -> F32:
    """Confidence of observed interactions: 1 + alpha * w (linear) or 1 + alpha * log1p(w/eps)."""
    w = np.asarray(weights, dtype=np.float64)
    if scheme == "linear":
        scaled = w
    elif scheme == "log":
        scaled = np.log1p(w / eps)
    else:
        raise ValueError(f"unknown confidence scheme {scheme!r}")
    return (1.0 + alpha * scaled).astype(np.float32)


def fold_in(item_factors: F32, yty: F64, items: I32, conf: F32, regularization: float) -> F32:
    """Least-squares user vector for the given items and confidences (the ALS user step).

    Solves (YtY + Y_I^T (C_I - 1) Y_I + reg * I) x = Y_I^T C_I, the exact update that
    implicit's ALS makes for a user, so new events change the recommendations at once.
    """
    n_factors = item_factors.shape[1]
    if len(items) == 0:
        return np.zeros(n_factors, dtype=np.float32)
    y = item_factors[items].astype(np.float64)
    c = conf.astype(np.float64)
    a = yty + (y.T * (c - 1.0)) @ y + regularization * np.eye(n_factors)
    b = y.T @ c
    return np.linalg.solve(a, b).astype(np.float32)


def top_k(scores: npt.NDArray[np.floating], k: int) -> I64:
    """Indices of the k best finite scores of a 1-d array, best first."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) <= k:
        return finite[np.argsort(-scores[finite], kind="stable")].astype(np.int64)
    part = finite[np.argpartition(-scores[finite], k - 1)[:k]]
    return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)
