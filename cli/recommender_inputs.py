"""The input tables of `train recommender`: --interactions/--items/--customers or --data DIR."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cli.common import fail
from features.load import DataError, find_table, load_interactions, read_frame


def inputs(
    interactions: Path | None, items: Path | None, customers: Path | None, data: Path | None
) -> tuple[Path, Path | None, Path | None]:
    if (interactions is None) == (data is None):
        raise fail("give exactly one of --interactions FILE or --data DIR")
    if data is not None:
        try:
            interactions = find_table(data, "interactions")
        except DataError as exc:
            raise fail(str(exc)) from exc
        items = items or _optional_table(data, "items")
        customers = customers or _optional_table(data, "customers")
    assert interactions is not None
    return interactions, items, customers


def _optional_table(data: Path, name: str) -> Path | None:
    try:
        return find_table(data, name)
    except DataError:
        return None


def read_frames(
    inter_path: Path, items_path: Path | None, cust_path: Path | None, data: Path | None
) -> dict[str, pd.DataFrame | None]:
    """Read the input tables; the optional ones must have their id column.

    With `--data`, interactions include the API events exported into `<data>/events/`.
    """
    frames = {
        name: read_frame(p) if p else None
        for name, p in (
            ("interactions", inter_path),
            ("items", items_path),
            ("customers", cust_path),
        )
    }
    if data is not None:
        frames["interactions"] = load_interactions(data)
    require(frames["customers"], cust_path, "customer_id")
    require(frames["items"], items_path, "item_id")
    return frames


def require(frame: pd.DataFrame | None, path: Path | None, column: str) -> None:
    if frame is not None and column not in frame.columns:
        raise DataError(
            str(path), f"missing required column; found {list(frame.columns)}", column=column
        )
