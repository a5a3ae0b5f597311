"""Train / validation / calibration splits: by time when there is a time column, else stratified.

With a time column the latest rows are the calibration slice and the rows before them the
validation slice, so hyper-parameters and calibration are always chosen on data later than the
data the model learned from. Rows sharing a timestamp (e.g. a snapshot) stay in one slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from training.scoring.table import TableError

VALIDATION_FRACTION = 0.15
CALIBRATION_FRACTION = 0.15


@dataclass(frozen=True)
class Splits:
    """Row positions of each slice."""

    train: np.ndarray
    validation: np.ndarray
    calibration: np.ndarray
    by_time: bool


def split_rows(y: np.ndarray, times: pd.Series | None, seed: int = 0) -> Splits:
    """Split row positions into train < validation < calibration.

    Args:
        y: 0/1 labels.
        times: Per-row timestamps, or None for a stratified random split.
        seed: Random seed of the stratified split.

    Returns:
        The three slices; each holds both classes.
    """
    splits = _by_time(times) if times is not None else _stratified(y, seed)
    for name in ("train", "validation", "calibration"):
        part = y[getattr(splits, name)]
        if len(part) == 0 or part.min() == part.max():
            raise TableError(
                f"the {name} slice has {len(part)} rows and not both classes; "
                "need more rows or more time periods"
            )
    return splits


def _stratified(y: np.ndarray, seed: int) -> Splits:
    rows = np.arange(len(y))
    held = VALIDATION_FRACTION + CALIBRATION_FRACTION
    train, rest = train_test_split(rows, test_size=held, stratify=y, random_state=seed)
    val, cal = train_test_split(
        rest, test_size=CALIBRATION_FRACTION / held, stratify=y[rest], random_state=seed
    )
    return Splits(np.sort(train), np.sort(val), np.sort(cal), by_time=False)


def _by_time(times: pd.Series) -> Splits:
    values = times.to_numpy()
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) < 3:
        raise TableError(
            f"time column has {len(distinct)} distinct values; need at least 3 "
            "(or leave out --time-col for a random split)"
        )
    n = counts.sum()
    # Walk back from the latest time: calibration first, then validation, each >= its fraction.
    cal_start = _start_of_tail(counts, len(counts), CALIBRATION_FRACTION * n)
    val_start = _start_of_tail(counts, cal_start, VALIDATION_FRACTION * n)
    if val_start == 0:
        raise TableError("time column: not enough distinct times to keep rows for training")
    cal_from, val_from = distinct[cal_start], distinct[val_start]
    rows = np.arange(len(values))
    return Splits(
        rows[values < val_from],
        rows[(values >= val_from) & (values < cal_from)],
        rows[values >= cal_from],
        by_time=True,
    )


def _start_of_tail(counts: np.ndarray, end: int, need: float) -> int:
    """First index i < end such that counts[i:end] sums to at least `need` (at least one)."""
    start, total = end - 1, counts[end - 1]
    while total < need and start > 1:
        start -= 1
        total += counts[start]
    return start
