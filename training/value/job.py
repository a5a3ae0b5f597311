"""The per-customer value table as of a date: history, predicted CLV, influence, RFM, tiers, tags.

Only rows with a timestamp at or before `as_of` are read (purchases, sign-ups), so a table
built for a past date is exactly what was knowable then. Column meanings: docs/value.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.load import DataError, load_world, write_frame
from training.value import rfm
from training.value.lifetime import ClvModel, fit_clv, predict_clv
from training.value.summary import (
    TimeUnit,
    align,
    positions,
    sorted_ids,
    summarize_transactions,
    take_float,
)
from training.value.tags import Tag, apply_tags

logger = logging.getLogger(__name__)

DAY = pd.Timedelta(days=1)
VALUE_COLUMNS = (
    "customer_id",
    "as_of",
    "region",
    "acquisition_channel",
    "n_transactions",
    "frequency",
    "first_purchase",
    "last_purchase",
    "recency_days",
    "tenure_days",
    "historical_revenue",
    "historical_margin",
    "historical_value",
    "avg_order_value",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "predicted_clv",
    "n_referred",
    "influence_value",
    "total_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "segment",
    "value_tier",
    "tags",
    "tag_score",
)


@dataclass(frozen=True)
class ValueConfig:
    """Knobs of the value table.

    Attributes:
        horizon_months: CLV / expected-purchases horizon in months.
        monthly_discount: CLV discount rate per month.
        time_unit: Time unit of the BG/NBD fit ("day" or "week").
        referral_share: Share of a referred customer's historical value credited to the referrer.
        penalizer: L2 penalty on the CLV models' log-parameters (0 = plain MLE).
        tiers: Value tier thresholds.
    """

    horizon_months: int = 12
    monthly_discount: float = 0.01
    time_unit: TimeUnit = "week"
    referral_share: float = 0.1
    penalizer: float = 0.0
    tiers: rfm.TierThresholds = field(default_factory=rfm.TierThresholds)


@dataclass(frozen=True)
class ValueResult:
    """The value table (columns `VALUE_COLUMNS`), the CLV model behind it (None if unfit)."""

    table: pd.DataFrame
    model: ClvModel | None
    as_of: pd.Timestamp


def purchases_as_of(
    interactions: pd.DataFrame, items: pd.DataFrame | None, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Purchases at or before `as_of` with their revenue and (where items carry cost) margin.

    Revenue is `amount`; a purchase with amount 0 falls back to quantity x item price.
    Margin is revenue - quantity x cost, NaN when the item has no cost.
    """
    mask = (interactions["event_type"] == "purchase") & (interactions["timestamp"] <= as_of)
    buys = interactions.loc[mask.fillna(False)]
    qty = pd.to_numeric(buys.get("quantity", pd.Series(1, index=buys.index))).astype("float64")
    amount = pd.to_numeric(buys.get("amount", pd.Series(0.0, index=buys.index)))
    amount = amount.astype("float64").fillna(0.0)
    price = pd.Series(np.nan, index=buys.index)
    cost = pd.Series(np.nan, index=buys.index)
    if items is not None:
        by_item = items.set_index("item_id")
        at = positions(buys["item_id"], by_item.index)
        price = pd.Series(take_float(by_item["price"], at), index=buys.index)
        if "cost" in by_item.columns:
            cost = pd.Series(take_float(by_item["cost"], at), index=buys.index)
    revenue = amount.where(amount > 0, (qty.fillna(1.0) * price).fillna(0.0))
    return pd.DataFrame(
        {
            "customer_id": buys["customer_id"].astype("string"),
            "timestamp": buys["timestamp"],
            "revenue": revenue,
            "margin": revenue - qty.fillna(1.0) * cost,
        }
    )


def _history(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    grouped = purchases.groupby("customer_id")
    revenue = grouped["revenue"].sum()
    hist = pd.DataFrame(
        {
            "historical_revenue": revenue,
            "historical_margin": grouped["margin"].sum(min_count=1),
        }
    )
    hist["recency_days"] = (as_of - grouped["timestamp"].max()).dt.total_seconds() / 86400.0
    return hist


def _predictions(
    purchases: pd.DataFrame, as_of: pd.Timestamp, config: ValueConfig
) -> tuple[pd.DataFrame, ClvModel | None]:
    summary = summarize_transactions(
        purchases, "customer_id", "timestamp", "revenue", as_of, config.time_unit
    )
    try:
        model = fit_clv(summary, config.time_unit, penalizer=config.penalizer)
    except ValueError as exc:
        logger.warning("CLV models not fitted (%s); predicted columns are empty", exc)
        empty = pd.DataFrame(
            index=summary.index, columns=list(value_prediction_columns()), dtype="float64"
        )
        return summary.join(empty), None
    for name, fit in (("BG/NBD", model.bgnbd), ("Gamma-Gamma", model.gamma_gamma)):
        if not fit.converged:
            logger.warning("%s fit did not converge: %s", name, fit.message)
    preds = predict_clv(model, summary, config.horizon_months, config.monthly_discount)
    return summary.join(preds), model


def value_prediction_columns() -> tuple[str, ...]:
    """The model-based columns; empty (NaN) when the CLV models could not be fitted."""
    return ("p_alive", "expected_purchases", "expected_spend", "predicted_clv")


def _influence(customers: pd.DataFrame, revenue: pd.Series, share: float) -> pd.DataFrame:
    if "referred_by" not in customers.columns:
        return pd.DataFrame(columns=["n_referred", "influence_value"], dtype="float64")
    referred = customers.loc[customers["referred_by"].notna(), ["customer_id", "referred_by"]]
    at = positions(referred["customer_id"], revenue.index)
    referred = referred.assign(value=np.nan_to_num(take_float(revenue, at), nan=0.0))
    grouped = referred.groupby(referred["referred_by"].astype("string"))
    return pd.DataFrame(
        {"n_referred": grouped.size(), "influence_value": grouped["value"].sum() * share}
    )


def compute_value_table(
    customers: pd.DataFrame,
    interactions: pd.DataFrame,
    items: pd.DataFrame | None,
    as_of: pd.Timestamp | str,
    *,
    config: ValueConfig | None = None,
    tags: list[Tag] | None = None,
) -> ValueResult:
    """Build the per-customer value table as of `as_of`.

    Args:
        customers: The customers table (features.schema.CUSTOMERS).
        interactions: The interactions table; only purchases at or before `as_of` count.
        items: The items table (price fallback and cost for margin), or None.
        as_of: The cut-off instant.
        config: Horizon, discounting, referral share, tier thresholds.
        tags: Weighted tags to evaluate on the table (None = no tags).

    Returns:
        A `ValueResult`; its table has one row per customer who signed up or bought by
        `as_of`, columns `VALUE_COLUMNS`, sorted by customer_id.
    """
    cfg = config or ValueConfig()
    cut = pd.Timestamp(as_of)
    known = customers.loc[(customers["signup_date"] <= cut).fillna(False)].copy()
    known["customer_id"] = known["customer_id"].astype("string")
    purchases = purchases_as_of(interactions, items, cut)
    history = _history(purchases, cut)
    predicted, model = _predictions(purchases, cut, cfg)
    ids = sorted_ids(known["customer_id"], history.index)
    frame = _assemble(ids, known, history, predicted, cut)
    influence = align(_influence(known, frame["historical_revenue"], cfg.referral_share), ids)
    frame["n_referred"] = influence["n_referred"].fillna(0).astype("int64")
    frame["influence_value"] = influence["influence_value"].astype("float64").fillna(0.0)
    frame["total_value"] = (
        frame["historical_value"] + frame["predicted_clv"].fillna(0.0) + frame["influence_value"]
    )
    frame = _score(frame, cfg.tiers, tags or [])
    return ValueResult(frame.reset_index()[list(VALUE_COLUMNS)], model, cut)


def _score(frame: pd.DataFrame, tiers: rfm.TierThresholds, tags: list[Tag]) -> pd.DataFrame:
    """Add RFM scores, segment, value tier, then tags (which may read all of those)."""
    frame = frame.join(
        rfm.rfm_scores(frame["recency_days"], frame["n_transactions"], frame["historical_revenue"])
    )
    frame["segment"] = rfm.rfm_segment(
        frame["r_score"], frame["f_score"], frame["m_score"], frame["n_transactions"]
    )
    frame["value_tier"] = rfm.value_tiers(
        frame["historical_value"], frame["predicted_clv"], frame["total_value"], tiers
    )
    return frame.join(apply_tags(frame, tags))


def _assemble(
    ids: pd.Index,
    known: pd.DataFrame,
    history: pd.DataFrame,
    predicted: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    info = align(known.set_index("customer_id"), ids)
    history, predicted = align(history, ids), align(predicted, ids)
    frame = pd.DataFrame(index=ids)
    frame["as_of"] = as_of
    for col in ("region", "acquisition_channel"):
        frame[col] = info[col] if col in info.columns else pd.NA
    frame["n_transactions"] = predicted["n_transactions"].fillna(0).astype("int64")
    frame["frequency"] = predicted["frequency"].fillna(0).astype("int64")
    frame["first_purchase"] = predicted["first_purchase"]
    frame["last_purchase"] = predicted["last_purchase"]
    frame["recency_days"] = history["recency_days"]
    frame["tenure_days"] = (as_of - info["signup_date"]).dt.total_seconds() / 86400.0
    frame["historical_revenue"] = history["historical_revenue"].fillna(0.0)
    frame["historical_margin"] = history["historical_margin"]
    frame["historical_value"] = frame["historical_revenue"]
    frame["avg_order_value"] = frame["historical_revenue"] / frame["n_transactions"].where(
        frame["n_transactions"] > 0
    )
    for col in value_prediction_columns():
        frame[col] = predicted[col].astype("float64")
    # Customers without a purchase are outside BG/NBD: nothing expected, P(alive) unknown.
    frame["expected_purchases"] = frame["expected_purchases"].fillna(0.0)
    frame["predicted_clv"] = frame["predicted_clv"].fillna(0.0)
    return frame


def value_table_from_dir(
    data_dir: Path | str,
    as_of: pd.Timestamp | str | None = None,
    *,
    config: ValueConfig | None = None,
    tags: list[Tag] | None = None,
) -> ValueResult:
    """Load customers, interactions (and items if present) from a directory and build the table.

    `as_of` defaults to the last interaction timestamp. Raises `features.load.DataError`
    naming file, column and row on invalid data.
    """
    base = Path(data_dir)
    tables = load_world(base)  # interactions include the exported API events in events/
    items = tables.get("items")
    interactions = tables["interactions"]
    if as_of is None:
        if interactions.empty:
            raise DataError(base, "interactions table is empty; pass --as-of")
        as_of = pd.Timestamp(interactions["timestamp"].max())
    return compute_value_table(
        tables["customers"], interactions, items, as_of, config=config, tags=tags
    )


def write_table(table: pd.DataFrame, path: Path | str) -> None:
    """Write atomically as Parquet (.parquet/.pq) or CSV (.csv; tags joined with '|')."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"{path}: unsupported output type {suffix!r}; use .csv or .parquet")
    if suffix == ".csv" and "tags" in table:
        table = table.assign(tags=table["tags"].map("|".join))
    write_frame(table, path)
