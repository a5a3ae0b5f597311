"""Bring-your-own-data tables: read a file, check its columns, type its features, read its label.

Every column other than the label, id and time columns is a feature when it is numeric, boolean
or string; strings become LightGBM categoricals whose category list is kept in the bundle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.load import read_frame
from models.scoring.reasons import BOOL, CATEGORICAL, NUMERIC
from models.scoring.specs import FeatureSpec

logger = logging.getLogger(__name__)

MAX_CATEGORIES = 200
MIN_CATEGORY_COUNT = 3
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class TableError(ValueError):
    """A training or scoring table cannot be used; the message names file and column."""


@dataclass(frozen=True)
class TableSpec:
    """Roles of a table's columns."""

    label: str
    id_col: str | None
    time_col: str | None
    features: tuple[FeatureSpec, ...]

    @property
    def feature_names(self) -> list[str]:
        """Feature names in model order."""
        return [f.name for f in self.features]


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (errors name the file)."""
    return read_frame(Path(path))


def require_columns(df: pd.DataFrame, source: str, *columns: str | None) -> None:
    """Raise `TableError` naming the file and the first absent column."""
    for col in columns:
        if col is not None and col not in df.columns:
            have = ", ".join(map(str, df.columns))
            raise TableError(f"{source}: no column {col!r} (columns: {have})")


def infer_spec(
    df: pd.DataFrame, label: str, id_col: str | None, time_col: str | None, source: str = "table"
) -> TableSpec:
    """Type every remaining column as a numeric, bool or categorical feature."""
    require_columns(df, source, label, id_col, time_col)
    roles = {label, id_col, time_col}
    features = []
    for name in df.columns:
        if name in roles:
            continue
        spec = _feature_spec(df[name], str(name))
        if spec is None:
            logger.warning(
                "%s: column %r (%s) is not numeric, boolean or text; ignored",
                source,
                name,
                df[name].dtype,
            )
            continue
        features.append(spec)
    if not features:
        raise TableError(f"{source}: no feature columns besides {sorted(r for r in roles if r)}")
    return TableSpec(label, id_col, time_col, tuple(features))


def _feature_spec(col: pd.Series, name: str) -> FeatureSpec | None:
    values = col.dropna()
    if pd.api.types.is_bool_dtype(col):
        flag = bool(values.mode().iloc[0]) if len(values) else None
        return FeatureSpec(name, BOOL, example=flag)
    if pd.api.types.is_numeric_dtype(col):
        median = round(float(values.astype(float).median()), 4) if len(values) else None
        return FeatureSpec(name, NUMERIC, example=median)
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(col):
        counts = values.astype("string").value_counts()
        kept = counts[counts >= MIN_CATEGORY_COUNT].head(MAX_CATEGORIES)
        if len(kept) < len(counts):
            logger.info(
                "column %r: %d rare categories map to missing", name, len(counts) - len(kept)
            )
        common = str(kept.index[0]) if len(kept) else None
        return FeatureSpec(name, CATEGORICAL, tuple(sorted(str(c) for c in kept.index)), common)
    return None


def read_labels(df: pd.DataFrame, label: str, source: str = "table") -> np.ndarray:
    """The label column as 0/1 ints; accepts bool, 0/1 numbers and yes/no/true/false text."""
    require_columns(df, source, label)
    col = df[label]
    if col.isna().any():
        row = int(np.flatnonzero(col.isna().to_numpy())[0]) + 1  # 1-based data rows
        raise TableError(f"{source}, column {label!r}, row {row}: missing label")
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.astype(float).to_numpy()
    else:
        text = col.astype("string").str.strip().str.lower()
        values = np.where(text.isin(_TRUE), 1.0, np.where(text.isin(_FALSE), 0.0, np.nan))
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise TableError(
            f"{source}, column {label!r}, row {row}: label {col.iloc[row - 1]!r} "
            "is not 0/1, true/false or yes/no"
        )
    if len(np.unique(values)) < 2:
        raise TableError(
            f"{source}, column {label!r}: all labels are {values[0]:.0f}; need both classes"
        )
    return values.astype(int)


def read_times(df: pd.DataFrame, time_col: str, source: str = "table") -> pd.Series:
    """The time column as timestamps (text is parsed); errors name the file and column."""
    col = df[time_col]
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
        times = col
    else:
        try:
            times = pd.to_datetime(col)
        except (ValueError, TypeError) as exc:
            raise TableError(f"{source}, column {time_col!r}: not a date/time ({exc})") from exc
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0]) + 1
        raise TableError(f"{source}, column {time_col!r}, row {row}: missing time")
    return times
