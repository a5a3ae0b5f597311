"""Read CSV or Parquet files and validate them against the data contracts in `features.schema`.

Every violation raises `DataError` naming the file, the column and (where there is one) the row,
so a user can fix their export without guessing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from features.schema import DEFAULTS, TABLES, Column, Table

SUFFIXES = (".csv", ".parquet", ".pq")
# Where `valuechain events export` output inside a data directory is picked up by training.
EVENTS_DIR = "events"


class DataError(ValueError):
    """A data file does not satisfy its contract."""

    def __init__(
        self, path: Path | str, message: str, *, column: str | None = None, row: int | None = None
    ) -> None:
        where = str(path)
        if column is not None:
            where += f", column {column!r}"
        if row is not None:
            where += f", row {row}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.column = column
        self.row = row


def find_table(data_dir: Path, table: str) -> Path:
    """The file holding `table` in a data directory: `<table>.parquet` or `<table>.csv`."""
    for suffix in SUFFIXES:
        candidate = data_dir / f"{table}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(data_dir, f"no {table}.parquet or {table}.csv in this directory")


def read_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file as is (no validation); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, usecols=columns, dtype_backend="numpy_nullable")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path, columns=columns)
    except ValueError as exc:
        raise DataError(path, f"cannot read: {exc}") from exc
    raise DataError(path, f"unsupported file type {suffix!r}; use .csv or .parquet")


def write_frame(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write CSV, or Parquet by suffix, via a temp file renamed into place: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_table(
    path: Path | str, table: str | Table, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read `path` and return it conformed to the contract of `table`.

    Args:
        path: A .csv or .parquet file.
        table: A table name from `features.schema.TABLES` or a `Table`.
        columns: Optional subset of contract columns to keep (all required ones are still checked).

    Returns:
        A DataFrame with the contract's columns in contract order and dtypes
        (ids and strings as `string`, datetimes as naive UTC `datetime64[ns]`).

    Raises:
        DataError: naming file, column and row of the first violation.
    """
    path = Path(path)
    spec = TABLES[table] if isinstance(table, str) else table
    frame = conform(path, read_frame(path), spec)
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame


def conform(path: Path, raw: pd.DataFrame, spec: Table) -> pd.DataFrame:
    """`raw` in `spec`'s columns and dtypes; errors name `path`, the column and the row."""
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    if missing:
        raise DataError(
            path,
            f"missing required column(s) for table {spec.name!r}; found {list(raw.columns)}",
            column=missing[0],
        )
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in raw.columns:
            out[col.name] = _conform(path, raw[col.name], col)
        elif (spec.name, col.name) in DEFAULTS:
            out[col.name] = pd.Series(DEFAULTS[(spec.name, col.name)], index=raw.index)
            out[col.name] = _conform(path, out[col.name], col)
        elif col.nullable:
            out[col.name] = _conform(path, pd.Series(pd.NA, index=raw.index, dtype="object"), col)
    frame = pd.DataFrame(out)
    _check_key(path, frame, spec)
    return frame


def load_dir(data_dir: Path | str, *tables: str) -> dict[str, pd.DataFrame]:
    """Load several tables of a data directory by name."""
    base = Path(data_dir)
    return {name: load_table(find_table(base, name), name) for name in tables}


def exported_event_files(data_dir: Path | str) -> list[Path]:
    """Parquet files `valuechain events export` wrote into `<data_dir>/events/`."""
    return sorted((Path(data_dir) / EVENTS_DIR).glob("*.parquet"))


def load_interactions(data_dir: Path | str) -> pd.DataFrame:
    """The interactions table plus the exported API events in `events/`, each event once.

    Exported rows carry their stream id (`event_id`); a repeated id (an export retried with
    another batch size) is kept once.
    """
    base = Path(data_dir)
    interactions = load_table(find_table(base, "interactions"), "interactions")
    files = exported_event_files(base)
    if not files:
        return interactions
    raw = pd.concat([read_frame(f) for f in files], ignore_index=True)
    if "event_id" not in raw.columns:
        raise DataError(
            base / EVENTS_DIR, "exported events lack their stream id", column="event_id"
        )
    raw = raw.drop_duplicates(subset="event_id", keep="first").reset_index(drop=True)
    events = conform(base / EVENTS_DIR, raw, TABLES["interactions"])
    return pd.concat([interactions, events], ignore_index=True)


def load_world(data_dir: Path | str) -> dict[str, pd.DataFrame]:
    """Customers and interactions (with exported events) of a directory; items, tickets, leads
    if any."""
    base = Path(data_dir)
    tables = load_dir(base, "customers")
    tables["interactions"] = load_interactions(base)
    for optional in ("items", "tickets", "leads"):
        if any((base / f"{optional}{suffix}").is_file() for suffix in SUFFIXES):
            tables.update(load_dir(base, optional))
    return tables


def _first_bad_row(mask: pd.Series) -> int:
    positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
    # Row numbers are 1-based data rows (the header is not counted).
    return int(positions[0]) + 1


def _conform(path: Path, series: pd.Series, col: Column) -> pd.Series:
    nulls = series.isna()
    if not col.nullable and bool(nulls.any()):
        raise DataError(
            path, "empty value where one is required", column=col.name, row=_first_bad_row(nulls)
        )
    converted = _convert(path, series, col)
    bad = converted.isna() & ~nulls
    if bool(bad.any()):
        row = _first_bad_row(bad)
        value = series.iloc[row - 1]
        raise DataError(path, f"{value!r} is not a valid {col.kind}", column=col.name, row=row)
    if col.choices is not None:
        outside = ~converted.isin(col.choices) & converted.notna()
        if bool(outside.any()):
            row = _first_bad_row(outside)
            raise DataError(
                path,
                f"{converted.iloc[row - 1]!r} is not one of {list(col.choices)}",
                column=col.name,
                row=row,
            )
    if col.min_value is not None and col.kind in ("int", "float"):
        below = (converted < col.min_value).fillna(False)
        if bool(below.any()):
            row = _first_bad_row(below)
            raise DataError(
                path,
                f"{converted.iloc[row - 1]} is below the minimum {col.min_value}",
                column=col.name,
                row=row,
            )
    return converted


def _convert(path: Path, series: pd.Series, col: Column) -> pd.Series:
    if col.kind in ("id", "str"):
        if pd.api.types.is_float_dtype(series.dtype):
            # Integer ids read as floats because of missing values: 12.0 -> "12".
            series = series.astype("Int64")
        return series.astype("string").str.strip()
    if col.kind == "int":
        numeric = pd.to_numeric(series, errors="coerce")
        fractional = (numeric.notna() & (numeric != numeric.round())).fillna(False)
        if bool(fractional.any()):
            row = _first_bad_row(fractional)
            raise DataError(
                path, f"{series.iloc[row - 1]!r} is not a whole number", column=col.name, row=row
            )
        return numeric.astype("Int64")
    if col.kind == "float":
        return pd.to_numeric(series, errors="coerce").astype("Float64")
    if col.kind == "bool":
        return _to_bool(series)
    return _to_datetime(series)


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _to_bool(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    text = series.astype("string").str.strip().str.lower()
    result = pd.Series(pd.NA, index=series.index, dtype="boolean")
    result[text.isin(_TRUE).fillna(False)] = True
    result[text.isin(_FALSE).fillna(False)] = False
    return result


def _to_datetime(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return cast(pd.Series, utc.astype("datetime64[ns]"))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("datetime64[ns]")
    parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def _check_key(path: Path, frame: pd.DataFrame, spec: Table) -> None:
    if not spec.key:
        return
    dup = frame.duplicated(subset=list(spec.key), keep="first")
    if bool(dup.any()):
        row = _first_bad_row(dup)
        key = ", ".join(str(frame[k].iloc[row - 1]) for k in spec.key)
        raise DataError(path, f"duplicate {'/'.join(spec.key)} {key}", column=spec.key[0], row=row)
