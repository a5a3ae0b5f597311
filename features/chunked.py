"""A table written chunk by chunk (CSV or Parquet by suffix), all or nothing.

Bulk exports of millions of rows cannot be held in one DataFrame; chunks go to a temporary file
beside the target, renamed into place only when every chunk is written, so a failed or
interrupted export never leaves a partial file where a CRM import would pick it up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET = (".parquet", ".pq")
LIST_SEPARATOR = "|"  # CSV cells of list columns (tags), as the value table's CSV does


class ChunkedTableWriter:
    """`with ChunkedTableWriter(path) as w: w.write(frame)...`; renamed into place on success."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in (*PARQUET, ".csv"):
            raise ValueError(f"{self.path}: unsupported file type; use .csv or .parquet")
        self.rows = 0
        self._tmp: Path | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> ChunkedTableWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=self.suffix
        )
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from an importer
        self._tmp = Path(tmp)
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk; every chunk must have the first chunk's columns."""
        if self._tmp is None:
            raise RuntimeError("ChunkedTableWriter.write outside its `with` block")
        if self.suffix == ".csv":
            frame = _join_lists(frame)
            frame.to_csv(self._tmp, mode="a", header=self.rows == 0, index=False)
        else:
            self._write_parquet(frame)
        self.rows += len(frame)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            # A column that is all-null in the first chunk would be typed null for good.
            fields = [
                pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                for f in table.schema
            ]
            self._schema = pa.schema(fields)
            self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
        assert self._schema is not None
        self._parquet.write_table(table.select(self._schema.names).cast(self._schema))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tmp, self._tmp = self._tmp, None
        assert tmp is not None
        try:
            if self._parquet is not None:
                self._parquet.close()
            elif exc_type is None and self.suffix in PARQUET:
                pq.write_table(pa.table({}), str(tmp))  # no chunk at all: an empty file
            if exc_type is None:
                os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _join_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """List cells (only object columns can hold them) joined with `LIST_SEPARATOR`."""
    objects = [c for c in frame.columns if frame[c].dtype == object]
    if not objects:
        return frame
    frame = frame.copy()
    for col in objects:
        frame[col] = frame[col].map(_csv_cell)
    return frame


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(map(str, value))
    return value
