"""The training data of a recommender run: validated events up to the cut-off, their indices,
and the time-based validation split (with a seeded sample of validation customers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.recommender.catalog import repeat_blocked
from training.recommender.data import (
    Index,
    resolve_split,
    temporal_split,
    user_item_matrix,
    validate_interactions,
)
from training.recommender.evaluate import sample_truth


@dataclass
class TrainingData:
    """The validated events up to the cut-off, their indices and the validation split."""

    df: pd.DataFrame
    cutoff: float
    users: Index
    items: Index
    items_df: pd.DataFrame | None
    customers: pd.DataFrame | None
    val_fraction: float
    eval_users: int | None
    seed: int
    split_mode: str = "last"
    include_purchased: bool = False

    @functools.cached_property
    def split(self) -> tuple[pd.DataFrame, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
        """Fit events, fit weights, validation truth and the items a list may not repeat.

        The truth keeps a seeded sample of `eval_users` validation customers (the fit keeps
        everyone), so validation costs the same at 100k and at 1M customers. Unless
        `include_purchased`, it holds new items only: serving leaves purchased items out, so a
        re-bought item is a hit no served list can make.
        """
        fit_df, val_df = temporal_split(self.df, self.val_fraction, mode=self.split_mode)
        blocked = fit_df[repeat_blocked(fit_df["event"].to_numpy())]
        truth = user_item_matrix(val_df, self.users, self.items)
        blocked_w = user_item_matrix(blocked, self.users, self.items)
        if not self.include_purchased:
            truth = sp.csr_matrix(truth - truth.multiply(blocked_w > 0))
            truth.eliminate_zeros()
        return (
            fit_df,
            user_item_matrix(fit_df, self.users, self.items),
            sample_truth(truth, self.eval_users, self.seed),
            sp.csr_matrix(blocked_w.shape, dtype=np.float32)
            if self.include_purchased
            else blocked_w,
        )


def prepare(
    interactions: pd.DataFrame,
    items: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    as_of: Any,
    source: str,
    *,
    event_weights: dict[str, float],
    val_fraction: float,
    eval_users: int | None,
    seed: int,
    split_mode: str = "last",
    include_purchased: bool = False,
) -> TrainingData:
    """Validate the events and keep those at or before the cut-off."""
    df = validate_interactions(interactions, source, event_weights)
    cutoff = float(df["ts"].max()) if as_of is None else pd.Timestamp(as_of).timestamp()
    df = df[df["ts"] <= cutoff]
    if df.empty:
        raise ValueError(f"{source}: no interactions at or before as_of")
    users, items_idx = Index.of(df["customer_id"]), Index.of(df["item_id"])
    split_mode = resolve_split(df, split_mode)
    return TrainingData(
        df,
        cutoff,
        users,
        items_idx,
        items,
        customers,
        val_fraction,
        eval_users,
        seed,
        split_mode,
        include_purchased,
    )
