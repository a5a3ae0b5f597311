"""Train / validation / calibration splits and the folds that choose the model.

With a time column the latest rows are the calibration slice and the rows before them the
validation slice, so hyper-parameters and calibration are always chosen on data later than the
data the model learned from. Rows sharing a timestamp (e.g. a snapshot) stay in one slice.

Model selection runs on train + validation (the development rows). A small table without a time
column is judged by repeated stratified k-fold - one slice of a few hundred rows is too noisy to
rank models by - searched on one shuffle of the rows (`selection_folds`) and judged on a second
(`check_folds`). A time split or a large table uses the validation slice, with the search's rows
sampled so its cost stays bounded; the final fit always uses every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from training.scoring.table import TableError

VALIDATION_FRACTION = 0.15
CALIBRATION_FRACTION = 0.15
CV_MAX_ROWS = 20_000  # development rows up to which repeated k-fold decides
CV_FOLDS, CV_REPEATS = 5, 2
SEARCH_FIT_ROWS = 50_000  # rows the search trains on when one slice decides
SEARCH_VAL_ROWS = 25_000


@dataclass(frozen=True)
class Fold:
    """Row positions a candidate is fitted on and those it is judged on."""

    fit: np.ndarray
    val: np.ndarray


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


def selection_folds(y: np.ndarray, splits: Splits, seed: int = 0) -> tuple[list[Fold], bool]:
    """The folds that rank candidates, and whether they are k-fold over the development rows.

    Args:
        y: 0/1 labels of every row.
        splits: The train / validation / calibration slices.
        seed: Random seed of the folds and of row sampling.

    Returns:
        (folds, cross_validated). Without cross-validation there is one fold: the (sampled)
        train slice judged on the (sampled) validation slice.
    """
    dev = np.concatenate([splits.train, splits.validation])
    if not splits.by_time and len(dev) <= CV_MAX_ROWS:
        return _repeated_folds(y, dev, seed), True
    fit = sample_rows(splits.train, y, SEARCH_FIT_ROWS, seed)
    val = sample_rows(splits.validation, y, SEARCH_VAL_ROWS, seed)
    return [Fold(fit, val)], False


def check_folds(y: np.ndarray, splits: Splits, seed: int = 0) -> list[Fold] | None:
    """Fresh repeated k-fold over the development rows (a different shuffle from
    `selection_folds`), on which the candidates are judged after the search; None when the
    selection is not cross-validated (a time split or a large table: one slice decides).

    The search keeps the best of its trials by their mean over the selection folds, and that
    maximum is biased upwards by the folds' own noise; on folds it was not picked on, the tuned
    configuration competes with the default LightGBM on equal terms.
    """
    dev = np.concatenate([splits.train, splits.validation])
    if splits.by_time or len(dev) > CV_MAX_ROWS:
        return None
    return _repeated_folds(y, dev, seed + 1)


def _repeated_folds(y: np.ndarray, dev: np.ndarray, seed: int) -> list[Fold]:
    cv = RepeatedStratifiedKFold(n_splits=CV_FOLDS, n_repeats=CV_REPEATS, random_state=seed)
    return [Fold(dev[f], dev[v]) for f, v in cv.split(dev, y[dev])]


def sample_rows(rows: np.ndarray, y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` of `rows`, stratified by label, in their original order."""
    if len(rows) <= limit:
        return rows
    kept, _ = train_test_split(rows, train_size=limit, stratify=y[rows], random_state=seed)
    return np.sort(kept)
