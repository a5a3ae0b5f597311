"""Offline -> online: write customer features, model state and rankings into a new cache version.

Everything goes into a fresh version that is made current only at the end, so a failed run leaves
the cache the service reads untouched.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import customer
from features.cache_version import version_meta, write_version
from features.explained import explain_first, explained_meta
from features.lead import lead_features
from features.store import CustomerRecord, OnlineStore
from features.tables import active_customers

logger = logging.getLogger(__name__)

CHUNK = 20_000
# Leads the lead model scores now, for drift: those created in the last RECENT_LEAD_DAYS.
RECENT_LEAD_DAYS = 90


@dataclass
class MaterializeReport:
    """What a materialization wrote."""

    version: str
    as_of: str
    customers: int
    at_risk_ranked: int
    models: dict[str, str | None] = field(default_factory=dict)
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)


def materialize(
    store: OnlineStore,
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp | None = None,
    *,
    recommender: Any | None = None,
    churn: Any | None = None,
    lead: Any | None = None,
    value_table: pd.DataFrame | None = None,
    model_versions: dict[str, str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    explain_max: int = 50_000,
) -> MaterializeReport:
    """Write one cache version for every customer and make it current.

    Args:
        store: The online store.
        tables: Raw tables from `load_world`.
        as_of: Feature cut-off; default: the last interaction.
        recommender: A `models.recommender.model.RecommenderModel` whose per-customer state
            is stored under `r:` fields.
        churn: A `models.scoring.scorer.TabularScorer`; its probabilities fill the `churn`
            ranking (active customers, see `features.tables.active_customers`).
        lead: A lead `TabularScorer`: only for drift, against the leads of the last 90 days.
        value_table: Per-customer value rows, indexed by customer_id, stored as field `v`.
        model_versions: Recorded in the version's metadata.
        progress: Called with (done, total) after each chunk.
        explain_max: How many customers' churn reasons to compute ahead (`explain_first`).
    """
    interactions = tables["interactions"]
    if as_of is None:
        as_of = pd.Timestamp(interactions["timestamp"].max())
    as_of = pd.Timestamp(as_of)
    feats = customer.customer_features(
        tables["customers"], interactions, tables.get("tickets"), tables.get("items"), as_of
    )
    check_churn_features(churn, list(feats.columns), "the built-in world's customer features")

    active = feats.loc[active_customers(feats, tables["customers"], as_of)]
    explain = explain_first(churn, feats, active.index, explain_max)

    def write(version: str) -> tuple[int, int, dict[str, Any]]:
        written = store.write_customers(
            version, feature_rows(feats, recommender, value_table, progress, churn, explain)
        )
        ranked = _write_churn_ranking(store, version, active, churn)
        meta = version_meta(as_of.isoformat(), written, ranked, model_versions, list(feats.columns))
        meta.update(explained_meta(churn if explain is not None else None))
        if value_table is not None:
            meta["segments"] = group_summary(value_table)
        try:  # drift is a statistic: it must never abort the cache version
            drift = population_drift(active, churn, lead, tables.get("leads"), as_of)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("feature drift not computed: %s", exc)
            drift = {}
        if drift:
            meta["drift"] = drift
        return written, ranked, meta

    version, (written, ranked), meta = write_version(store, write)
    logger.info("materialized %d customers as of %s into version %s", written, as_of, version)
    return MaterializeReport(
        version, as_of.isoformat(), written, ranked, model_versions or {}, meta.get("drift", {})
    )


class FeatureGap(ValueError):
    """The churn champion needs features the data being materialized does not have."""


def check_churn_features(churn: Any | None, columns: list[str], source: str) -> None:
    """Refuse to cache features a churn champion cannot be served from (it would score every
    customer on "unknown" features).

    Raises:
        FeatureGap: naming the champion's features that `source` lacks.
    """
    if churn is None:
        return
    have = set(columns)
    missing = [f for f in churn.feature_names if f not in have]
    if missing:
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise FeatureGap(
            f"{source} lacks {len(missing)} of the churn champion's features ({shown}); "
            "materialize the table it was trained on (`materialize --table FILE --id COL`), "
            "or pass --without-models"
        )


def group_summary(value_table: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Customers and value per RFM `segment` and per `value_tier`, largest total value first."""
    out: dict[str, list[dict[str, Any]]] = {}
    money = ["historical_value", "predicted_clv", "total_value"]
    for by in ("segment", "value_tier"):
        if by not in value_table.columns:
            continue
        frame = value_table[[by, *money]].copy()
        frame[money] = frame[money].astype(float).fillna(0.0)
        groups = frame.groupby(by, observed=True)
        table = groups[money].sum().assign(customers=groups.size())
        table["mean_total_value"] = table["total_value"] / table["customers"]
        table = table.sort_values("total_value", ascending=False)
        out[by] = [
            {"name": str(name), **{str(k): _plain(v) for k, v in row.items()}}
            for name, row in table.iterrows()
        ]
    return out


def feature_rows(
    feats: pd.DataFrame,
    recommender: Any | None,
    value_table: pd.DataFrame | None,
    progress: Callable[[int, int], None] | None,
    churn: Any | None = None,
    explain: pd.Index | None = None,
) -> Iterator[CustomerRecord]:
    """Customer records of the rows of `feats` (indexed by customer id), chunk by chunk.

    With a churn `TabularScorer`, the records of the ids in `explain` also carry their churn
    score explained ahead (`models.scoring.explained`): the API serves it without SHAP."""
    total = len(feats)
    # One hash lookup for all customers: reindexing per chunk rebuilt the index's hash table
    # each time (a third of materialize at 1M customers).
    positions = value_table.index.get_indexer(feats.index) if value_table is not None else None
    # Likewise which rows to explain (`isin` hashes up to EXPLAIN_MAX ids per call).
    to_explain = feats.index.isin(explain) if churn is not None and explain is not None else None
    for start in range(0, total, CHUNK):
        chunk = feats.iloc[start : start + CHUNK]
        values = None
        if value_table is not None and positions is not None:
            values = _value_rows(value_table, positions[start : start + CHUNK], chunk.index)
        records = _records(chunk)
        value_records = _records(values) if values is not None else None
        blobs: dict[int, bytes] = {}
        if churn is not None and to_explain is not None:
            rows = np.flatnonzero(to_explain[start : start + CHUNK]).tolist()
            found = churn.explain_records([records[i] for i in rows])
            blobs = dict(zip(rows, found, strict=True))
        for i, cid in enumerate(map(str, chunk.index)):
            yield CustomerRecord(
                cid,
                features=records[i],
                value=value_records[i] if value_records is not None else {},
                rec_state=recommender.online_state(cid) if recommender is not None else {},
                explained={"churn": blobs[i]} if i in blobs else {},
            )
        if progress is not None:
            progress(min(start + CHUNK, total), total)


def _value_rows(value_table: pd.DataFrame, positions: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """`value_table.reindex(index)`, given the rows' positions (-1 = absent) in `value_table`."""
    if (positions >= 0).all():
        return value_table.iloc[positions].set_axis(index)
    return value_table.reindex(index)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with JSON-safe values (NaN/NA/+-inf -> None, numpy -> Python): the
    values the cache returns, so reasons explained from them match the API's (`feature_rows`).

    Converted column by column (one numpy pass per numeric or string column) rather than cell
    by cell: about 5x faster, which matters at a million customers.
    """
    names = [str(c) for c in frame.columns]
    if not names:
        return [{} for _ in range(len(frame))]
    columns = [_column_values(frame.iloc[:, j]) for j in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _column_values(col: pd.Series) -> list[Any]:
    """One column as JSON-safe Python values; the same values `_plain` gives cell by cell."""
    np_dtype = getattr(col.dtype, "numpy_dtype", col.dtype)
    if isinstance(np_dtype, np.dtype) and np_dtype.kind in "biuf":
        fill = np.zeros((), np_dtype).item()
        array = col.to_numpy(dtype=np_dtype, na_value=fill)
        missing = col.isna().to_numpy(dtype=bool)
        if np_dtype.kind == "f":  # +-inf too: JSON (the cache) has no infinity, orjson writes null
            missing = missing | ~np.isfinite(array)
        return _with_none(array.tolist(), missing)
    if pd.api.types.is_string_dtype(col.dtype) and col.dtype != object:
        return _with_none(col.to_numpy(dtype=object).tolist(), col.isna().to_numpy(dtype=bool))
    if col.dtype.kind == "M" and isinstance(col.dtype, np.dtype):
        stamps = col.to_numpy()
        missing = np.isnat(stamps)
        present = stamps[~missing]
        if (present.astype("datetime64[s]") == present).all():
            # Whole seconds: numpy's ISO text equals Timestamp.isoformat(), without a loop.
            text = np.datetime_as_string(stamps, unit="s").tolist()
            return _with_none(text, missing)
    return [_plain(v) for v in col.astype(object).tolist()]


def _with_none(values: list[Any], missing: np.ndarray) -> list[Any]:
    for i in np.flatnonzero(missing).tolist():
        values[i] = None
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        items = value.tolist()
        # Tag lists are arrays of str: nothing to convert.
        return items if all(type(v) is str for v in items) else [_plain(v) for v in items]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())  # a numpy scalar's Python value (float32 inf included)
    return value


def _write_churn_ranking(
    store: OnlineStore, version: str, active: pd.DataFrame, churn: Any | None
) -> int:
    if churn is None or active.empty:
        return 0
    scored = churn.score_frame(active)
    probs = dict(zip(active.index.astype(str), scored["probability"].astype(float), strict=True))
    store.write_ranking(version, "churn", probs)
    return len(probs)


def population_drift(
    active: pd.DataFrame,
    churn: Any | None,
    lead: Any | None,
    leads: pd.DataFrame | None,
    as_of: pd.Timestamp,
) -> dict[str, dict[str, Any]]:
    """PSI per feature of the populations the models score now vs their training data.

    Churn: the active customers (the at-risk ranking's population). Lead: leads created in the
    last `RECENT_LEAD_DAYS`. Each entry: {"psi": {feature: value}, "rows": n}.
    """
    out: dict[str, dict[str, Any]] = {}
    if churn is not None and not active.empty:
        out["churn"] = {"psi": churn.drift(active), "rows": len(active)}
    if lead is not None and leads is not None:
        since = as_of - pd.Timedelta(days=RECENT_LEAD_DAYS)
        recent = leads.loc[(leads["created_at"] > since) & (leads["created_at"] <= as_of)]
        frame = lead_features(recent)
        missing = [f for f in lead.feature_names if f not in frame.columns]
        if missing:  # a lead champion trained on the CRM's own table, not on this leads table
            logger.info("no lead drift: the leads table lacks the champion's %s", missing[:5])
        elif not recent.empty:
            out["lead"] = {"psi": lead.drift(frame), "rows": len(recent)}
    return {k: v for k, v in out.items() if v["psi"]}
