"""A tabular model's inputs: feature specs from the bundle and their encoding to a float matrix.

Frames (batch scoring) and request records (serving, without pandas) encode to the same
matrix: categories to their training codes, booleans to 0/1, anything unknown to NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from models.scoring.reasons import BOOL, CATEGORICAL, is_missing


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its name, kind and (for categoricals) the known categories."""

    name: str
    kind: str
    categories: tuple[str, ...] = ()
    example: Any = None  # a typical training value (median / most frequent); None: older bundle

    def codes(self) -> dict[str, float]:
        """Category -> code; unseen categories are absent and encode as missing (NaN)."""
        return {c: float(i) for i, c in enumerate(self.categories)}

    @cached_property
    def known(self) -> frozenset[str]:
        """The categories seen in training (empty for other kinds)."""
        return frozenset(self.categories)


def specs_from_details(details: dict[str, Any]) -> list[FeatureSpec]:
    """Feature specs as stored in a manifest's details."""
    return [
        FeatureSpec(f["name"], f["kind"], tuple(f.get("categories", ())), f.get("example"))
        for f in details["features"]
    ]


def unseen_categories(record: dict[str, Any], specs: list[FeatureSpec]) -> dict[str, str]:
    """Categorical fields whose value training never saw (scored as unknown), with the value."""
    out = {}
    for spec in specs:
        value = record.get(spec.name)
        if spec.kind == CATEGORICAL and not is_missing(value) and str(value) not in spec.known:
            out[spec.name] = str(value)
    return out


def encode_frame(df: pd.DataFrame, specs: list[FeatureSpec]) -> np.ndarray:
    """A float matrix of `df` in model order; absent columns and unseen categories are NaN."""
    out = np.full((len(df), len(specs)), np.nan)
    for j, spec in enumerate(specs):
        if spec.name not in df.columns:
            continue
        col = df[spec.name]
        if spec.kind == CATEGORICAL:
            mapped = col.astype("string").map(spec.codes())
            out[:, j] = pd.to_numeric(mapped, errors="coerce").to_numpy(float, na_value=np.nan)
        elif spec.kind == BOOL and not pd.api.types.is_numeric_dtype(col):
            out[:, j] = col.map(_bool_value).to_numpy(float, na_value=np.nan)
        else:
            try:
                out[:, j] = pd.to_numeric(col).to_numpy(float, na_value=np.nan)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"column {spec.name!r}: not numeric ({exc})") from exc
    return out


def encode_records(
    records: list[dict[str, Any]], specs: list[FeatureSpec]
) -> tuple[np.ndarray, list[list[str]]]:
    """A float matrix of request records (no pandas) and, per record, its missing features."""
    maps = {s.name: s.codes() for s in specs if s.kind == CATEGORICAL}
    out = np.full((len(records), len(specs)), np.nan)
    missing: list[list[str]] = []
    for i, record in enumerate(records):
        lacking = []
        for j, spec in enumerate(specs):
            value = record.get(spec.name)
            if is_missing(value):
                lacking.append(spec.name)
            elif spec.kind == CATEGORICAL:
                out[i, j] = maps[spec.name].get(str(value), math.nan)
            else:
                out[i, j] = _number(value, spec, i)
        missing.append(lacking)
    return out, missing


def _number(value: Any, spec: FeatureSpec, row: int) -> float:
    if spec.kind == BOOL:
        flag = _bool_value(value)
        if flag is not None:
            return flag
    elif not isinstance(value, str):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise ValueError(f"record {row}, feature {spec.name!r}: {value!r} is not {spec.kind}")


def _bool_value(value: Any) -> float | None:
    if is_missing(value):
        return None
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "1", "y", "t"):
            return 1.0
        if low in ("false", "no", "0", "n", "f"):
            return 0.0
        return None
    return 1.0 if bool(value) else 0.0
