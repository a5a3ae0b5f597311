"""Training tables for the built-in world: features at past snapshots, labels closed by `as_of`.

A churn row is (customer, snapshot): features as of the snapshot, label from the `horizon_days`
after it. Snapshots step back from `as_of` so that every label window closes at or before
`as_of`: no label sees the future, and the latest snapshot is the natural validation slice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from features import customer, lead
from features.load import find_table, load_table, load_world

DAY = pd.Timedelta(days=1)
# A customer without a purchase for this long is lost (win-back), not at risk: the usual
# "active in the last six months" of retail CRM.
ACTIVE_DAYS = 180


def latest_timestamp(interactions: pd.DataFrame) -> pd.Timestamp:
    """The default `as_of`: the last interaction in the data."""
    return pd.Timestamp(interactions["timestamp"].max())


ChurnDefinition = Literal["no-purchase", "cancellation", "either"]


def churn_labels(
    customers: pd.DataFrame,
    interactions: pd.DataFrame,
    snapshot: pd.Timestamp,
    horizon_days: int,
    *,
    definition: ChurnDefinition = "either",
) -> pd.Series:
    """Churn in (snapshot, snapshot + horizon]: 1 or 0 per customer, indexed by customer_id.

    `definition`: "no-purchase" = no purchase in the window; "cancellation" = a `cancelled_at`
    in the window (for businesses with explicit cancellations); "either" = one or the other.
    """
    end = snapshot + horizon_days * DAY
    ids = customers["customer_id"]
    churned = pd.Series(False, index=customers.index)
    if definition in ("no-purchase", "either"):
        window = interactions.loc[
            (interactions["timestamp"] > snapshot)
            & (interactions["timestamp"] <= end)
            & (interactions["event_type"] == "purchase")
        ]
        churned |= ~ids.isin(set(window["customer_id"].unique()))
    if definition in ("cancellation", "either"):
        cancelled = customers["cancelled_at"]
        churned |= ((cancelled > snapshot) & (cancelled <= end)).fillna(False)
    return pd.Series(churned.astype(int).to_numpy(), index=ids.to_numpy(), name="churned")


def active_customers(
    features: pd.DataFrame,
    customers: pd.DataFrame,
    as_of: pd.Timestamp,
    active_days: int = ACTIVE_DAYS,
) -> pd.Index:
    """Customers who can still churn: bought within `active_days` and not cancelled by `as_of`.

    Those gone longer are lost already; they belong to win-back, not to early warning.
    """
    cancelled = customers.set_index("customer_id")["cancelled_at"].reindex(features.index)
    keep = (features["recency_days"] <= active_days) & ~(cancelled <= as_of).fillna(False)
    return features.index[keep.to_numpy(dtype=bool)]


def churn_table(
    data_dir: Path,
    as_of: pd.Timestamp | None,
    horizon_days: int = 60,
    snapshots: int = 3,
    definition: ChurnDefinition = "either",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Churn training table of a world directory and the reason templates of its features.

    Rows: active customers at each snapshot (see `active_customers`).
    Columns: customer_id, snapshot, the customer features, `churned`.
    """
    tables = load_world(data_dir)
    interactions = tables["interactions"]
    as_of = pd.Timestamp(as_of) if as_of is not None else latest_timestamp(interactions)
    frames = []
    for i in range(snapshots, 0, -1):
        snap = as_of - i * horizon_days * DAY
        feats = customer.customer_features(
            tables["customers"], interactions, tables.get("tickets"), tables.get("items"), snap
        )
        feats = feats.loc[active_customers(feats, tables["customers"], snap)]
        labels = churn_labels(
            tables["customers"], interactions, snap, horizon_days, definition=definition
        )
        frame = feats.assign(snapshot=snap, churned=labels.reindex(feats.index).to_numpy())
        frames.append(frame.reset_index())
    if not frames or sum(len(f) for f in frames) == 0:
        raise ValueError(
            f"{data_dir}: no customer with purchases before {as_of} minus "
            f"{horizon_days} days; nothing to train churn on"
        )
    table = pd.concat(frames, ignore_index=True)
    cols = ["customer_id", "snapshot", *customer.FEATURES, "churned"]
    return table[cols], dict(customer.FEATURE_TEXT)


def lead_table(
    data_dir: Path, as_of: pd.Timestamp | None, horizon_days: int = 90
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Lead training table: leads old enough that their `horizon_days` window closed by `as_of`.

    Label `converted` = converted within `horizon_days` of creation (and by `as_of`).
    """
    leads = load_table(find_table(Path(data_dir), "leads"), "leads")
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(leads["created_at"].max())
    mature = leads.loc[leads["created_at"] <= as_of - horizon_days * DAY].copy()
    if mature.empty:
        raise ValueError(f"{data_dir}: no lead created {horizon_days} days before {as_of}")
    deadline = mature["created_at"] + horizon_days * DAY
    converted_at = mature["converted_at"]
    in_time = converted_at.notna() & (converted_at <= deadline) & (converted_at <= as_of)
    label = (mature["converted"].astype(bool) & in_time.fillna(False)).astype(int)
    feats = lead.lead_features(mature)
    table = feats.reset_index().assign(
        created_at=mature["created_at"].to_numpy(), converted=label.to_numpy()
    )
    return table[["lead_id", "created_at", *lead.FEATURES, "converted"]], dict(lead.FEATURE_TEXT)
