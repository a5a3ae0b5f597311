"""Bulk exports for CRM import: churn scores, recommendations or value rows for many customers.

Built from the champions and the feature cache, chunk by chunk, into one all-or-nothing file
(`features.chunked`). Columns (documented in the README):

- scores: customer_id, churn_probability, churn_score (0-100), risk_tier, top_reason,
  model_version, as_of
- recommendations: customer_id, rank (1 = best), item_id, score, reason, source, fallback,
  model_version, as_of
- value: customer_id, the value table's columns (segment, value_tier, historical_value,
  predicted_clv, total_value, tags, ...), as_of
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.chunked import ChunkedTableWriter
from features.store import CustomerRecord, OnlineStore
from models.champions import LoadedModel
from models.recommender.model import RecFilters, RecommenderModel
from models.recommender.online import recommender_state
from models.scoring.scorer import TabularScorer

RowBuilder = Callable[[list[CustomerRecord]], pd.DataFrame]


class ExportError(Exception):
    """An export cannot be written (empty cache, cache replaced while exporting)."""


@dataclass
class ExportReport:
    """What an export wrote."""

    customers: int = 0
    rows: int = 0
    missing: list[str] = field(default_factory=list)
    cache_version: str | None = None


def score_rows(churn: LoadedModel[TabularScorer], as_of: str | None) -> RowBuilder:
    """Churn scores of a chunk of cached customers, with the strongest reason for the risk."""

    def build(records: list[CustomerRecord]) -> pd.DataFrame:
        scored = churn.model.score_records([r.features for r in records], top_reasons=1)
        return pd.DataFrame(
            {
                "customer_id": [r.customer_id for r in records],
                "churn_probability": [s.probability for s in scored],
                "churn_score": [s.score for s in scored],
                "risk_tier": [s.tier for s in scored],
                "top_reason": [s.reasons_up[0].text if s.reasons_up else None for s in scored],
                "model_version": churn.version,
                "as_of": as_of,
            }
        )

    return build


def recommendation_rows(
    rec: LoadedModel[RecommenderModel], k: int, as_of: str | None
) -> RowBuilder:
    """The top-`k` items of each customer, one row per item (cached state; no live events)."""

    def build(records: list[CustomerRecord]) -> pd.DataFrame:
        rows: list[tuple[Any, ...]] = []
        for r in records:
            state = recommender_state(r, rec.model)
            result = rec.model.recommend(state, [], k, RecFilters(), r.features.get("region"))
            rows.extend(
                (
                    r.customer_id,
                    rank,
                    i.item_id,
                    float(i.score),
                    i.reason,
                    i.source,
                    result.fallback,
                )
                for rank, i in enumerate(result.items, start=1)
            )
        columns = ["customer_id", "rank", "item_id", "score", "reason", "source", "fallback"]
        return pd.DataFrame(rows, columns=columns).assign(model_version=rec.version, as_of=as_of)

    return build


def value_rows(as_of: str | None) -> RowBuilder:
    """Each customer's value-table row as materialized (customers without one are skipped)."""

    def build(records: list[CustomerRecord]) -> pd.DataFrame:
        rows = [{"customer_id": r.customer_id, **r.value} for r in records if r.value]
        frame = pd.DataFrame(rows)
        # The value table's own `as_of` (when it has one) is the truer cut-off of its rows.
        return frame.assign(as_of=as_of) if rows and "as_of" not in frame else frame

    return build


def export(
    store: OnlineStore,
    batches: Iterable[list[str]],
    build: RowBuilder,
    writer: ChunkedTableWriter,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write `build`'s rows for every id in `batches`; fails if the cache changes meanwhile."""
    version = store.current_version()
    if version is None:
        raise ExportError("the feature cache is empty; run `valuechain materialize` first")
    report = ExportReport(cache_version=version)
    for ids in batches:
        records = store.read_customers(ids)
        known = [r for r in records if r.materialized]
        report.missing.extend(r.customer_id for r in records if not r.materialized)
        frame = build(known) if known else pd.DataFrame()
        if len(frame):
            writer.write(frame)
        report.customers += len(known)
        report.rows += len(frame)
        if progress is not None:
            progress(len(ids))
    if store.current_version() != version:
        raise ExportError(
            f"the cache moved from version {version} to {store.current_version()} during the "
            "export (a materialize ran); nothing was written - run the export again"
        )
    return report


def chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    """`ids` in lists of `size`, duplicates dropped (first occurrence kept)."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
