"""Append-only table sinks (Parquet row groups or CSV) typed from the data contracts."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.schema import TABLES, Column

_ARROW = {
    "id": pa.string(),
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


def arrow_type(col: Column, fmt: str) -> pa.DataType:
    """Arrow type of a contract column; CSV timestamps are written to the second."""
    if col.kind == "datetime":
        return pa.timestamp("s" if fmt == "csv" else "ms")
    return _ARROW[col.kind]


def arrow_schema(table: str, fmt: str) -> pa.Schema:
    """The full contract of `table` (optional columns included) as an Arrow schema."""
    cols = TABLES[table].columns
    return pa.schema([pa.field(c.name, arrow_type(c, fmt), nullable=c.nullable) for c in cols])


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Seconds since the epoch as an Arrow timestamp array; rows where `valid` is False are null."""
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype(np.int64), type=pa.timestamp("s"), mask=mask)


def labels(names: tuple[str, ...] | np.ndarray, codes: np.ndarray) -> pa.Array:
    """Codes -> plain string array (never dictionary-encoded, so readers see strings)."""
    return pa.array(np.asarray(names, dtype=object)).take(pa.array(codes.astype(np.int64)))


def ids(prefix: str, positions: np.ndarray, width: int) -> pa.Array:
    """Positions -> ids like C0000042 (1-based)."""
    return pa.array([f"{prefix}{p + 1:0{width}d}" for p in positions.tolist()], type=pa.string())


class Sink(Protocol):
    """Where the rows of one table go, chunk after chunk."""

    rows: int

    def write(self, columns: dict[str, pa.Array | np.ndarray]) -> None:
        """Append rows given as contract columns."""

    def close(self) -> None:
        """Finish the file."""


class _ArrowSink:
    def __init__(self, path: Path, table: str, fmt: str) -> None:
        self.schema = arrow_schema(table, fmt)
        self.rows = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(path, self.schema)

    def write(self, columns: dict[str, pa.Array | np.ndarray]) -> None:
        arrays = [
            pa.array(columns[f.name])
            if isinstance(columns[f.name], np.ndarray)
            else columns[f.name]
            for f in self.schema
        ]
        batch = pa.Table.from_arrays(arrays, names=self.schema.names).cast(self.schema)
        self._writer.write_table(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()


def open_sink(directory: Path, table: str, fmt: str) -> Sink:
    """A sink writing `directory/<table>.<fmt>`."""
    ext = "parquet" if fmt == "parquet" else "csv"
    return _ArrowSink(directory / f"{table}.{ext}", table, fmt)
