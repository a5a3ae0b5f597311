"""Scores explained ahead of time: the bytes `valuechain materialize` caches beside each customer.

Per-request SHAP (`pred_contrib`) is the dearest step of a churn answer: on a few-hundred-tree
booster it costs about 25 times a plain predict, more than the rest of the request. A cached
customer's features change only with a new cache version, so materialize explains up to
`EXPLAIN_MAX` customers (all when they fit, else the riskiest active ones; `features.explained`) in
batches on all cores and stores, per customer, the blended log-odds and the strongest
contributions each way. `TabularScorer.score_explained` turns those into the answer
`score_records` gives (the same probability, tier, percentile and reasons) when the cache version
was explained by the loaded champion (`TabularScorer.fingerprint`); otherwise the API scores live.

A blob is `<B` (how many reasons each way it keeps, `top`), `<u8` (the explaining bundle: the
first 8 bytes of the SHA-256 of its fingerprint, so a blob is never read by another bundle, even
when records and metadata come from two cache versions), `<d` log-odds, `<d` calibrated
probability, `<d` population percentile (NaN when the bundle has none), `<B` tier index, then
`top` (index `<u2`, contribution `<d`) pairs for the strongest positive contributions and `top`
for the strongest negative ones, in the order `reasons.top_reasons` picks them. Entries of the
wrong sign are kept and skipped when read, as `top_reasons` skips them.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

# Reasons each way kept per customer: at least what the API asks (`service.scoring.TOP_REASONS`).
EXPLAINED_REASONS = 5


@dataclass(frozen=True)
class Explained:
    """One entity's score (log-odds, probability, percentile or None, tier index) and its
    strongest contributions, as (feature index, log-odds)."""

    logit: float
    probability: float
    percentile: float | None
    tier: int
    up: list[tuple[int, float]]
    down: list[tuple[int, float]]


def model_key(fingerprint: str) -> int:
    """The 64-bit key of a bundle's fingerprint that its blobs carry."""
    return int.from_bytes(hashlib.sha256(fingerprint.encode()).digest()[:8], "little")


@functools.lru_cache(maxsize=8)
def _row_dtype(top: int) -> np.dtype[Any]:
    pair = [("index", "<u2"), ("contribution", "<f8")]
    fields = [("top", "u1"), ("model", "<u8"), ("logit", "<f8"), ("probability", "<f8")]
    fields += [("percentile", "<f8"), ("tier", "u1")]
    return np.dtype([*fields, ("up", pair, (top,)), ("down", pair, (top,))])


@functools.lru_cache(maxsize=8)
def _row_struct(top: int) -> struct.Struct:
    """The same layout as `_row_dtype` for one blob (packed, little-endian): reading one row
    with `struct` costs a fraction of numpy's structured-array access."""
    return struct.Struct("<BQdddB" + "Hd" * (2 * top))


def pack(
    contributions: np.ndarray,
    scored: tuple[np.ndarray, np.ndarray, np.ndarray],
    model: int,
    top: int = EXPLAINED_REASONS,
) -> list[bytes]:
    """One blob per row of `contributions` (n, n_features + 1; the last column is the bias) and
    of `scored` (calibrated probability, percentile, tier index per row), of the bundle whose
    `model_key` is `model`."""
    features = contributions[:, :-1]
    if features.shape[1] > np.iinfo(np.uint16).max:
        raise ValueError(f"{features.shape[1]} features: too many to explain ahead of time")
    top = min(top, features.shape[1])
    order = np.argsort(-features, axis=1, kind="stable")
    rows = np.zeros(len(features), dtype=_row_dtype(top))
    rows["top"] = top
    rows["model"] = model
    rows["logit"] = contributions.sum(axis=1)
    rows["probability"], rows["percentile"], rows["tier"] = scored
    for name, picks in (("up", order[:, :top]), ("down", order[:, ::-1][:, :top])):
        rows[name]["index"] = picks
        rows[name]["contribution"] = np.take_along_axis(features, picks, axis=1)
    buffer, size = rows.tobytes(), rows.dtype.itemsize
    return [buffer[i * size : (i + 1) * size] for i in range(len(rows))]


def unpack(blob: bytes, top: int, n_features: int, model: int) -> Explained | None:
    """The `top` reasons each way of a blob; None when it keeps fewer, is not a blob or another
    bundle (`model_key`) than `model` wrote it."""
    kept = blob[0] if blob else 0
    if kept < min(top, n_features) or len(blob) != _row_struct(kept).size:
        return None
    row = _row_struct(kept).unpack(blob)
    if row[1] != model:
        return None
    logit, probability, pct, tier = row[2], row[3], row[4], row[5]
    take = 2 * min(top, kept)
    up, down = row[6 : 6 + take], row[6 + 2 * kept : 6 + 2 * kept + take]
    return Explained(
        logit,
        probability,
        None if math.isnan(pct) else pct,
        tier,
        [(i, c) for i, c in zip(up[::2], up[1::2], strict=True) if c > 0 and i < n_features],
        [(i, c) for i, c in zip(down[::2], down[1::2], strict=True) if c < 0 and i < n_features],
    )
