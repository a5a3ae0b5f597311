"""The recommender model used by the service and by batch scoring.

`RecommenderModel.load(bundle_dir)` preloads every array; requests are answered with numpy only
(no pandas), from a per-customer state (`online_state`, kept in Redis) plus real-time events.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import BundleError, Manifest, read_manifest
from models.recommender.arrays import (
    F32,
    KIND,
    RANKER_FILE,
    RecArrays,
    confidence,
    fold_in,
    load_arrays,
    top_k,
)
from models.recommender.catalog import Catalog
from models.recommender.ranker import RuntimeRanker
from models.recommender.scorers import KINDS, simple_list
from models.recommender.state import History, decode_state, encode_state, merge_recent
from models.recommender.types import (
    PURCHASE,
    RecentEvent,
    RecFilters,
    RecItem,
    RecResult,
    UnknownItemError,
)

logger = logging.getLogger(__name__)

__all__ = [
    "RecFilters",
    "RecItem",
    "RecResult",
    "RecentEvent",
    "RecommenderModel",
    "UnknownItemError",
]

UPSELL_STEP = 1.15  # a higher price tier: at least 15% above the anchor item's price


class RecommenderModel:
    """The champion kind of the bundle (ALS, EASE, item-kNN, popularity, repeat or the ranker).

    ALS factors are always in the bundle: fold-in of real-time events, reasons, similar items
    and up-sell use them whatever kind ranks the personal list.
    """

    def __init__(
        self, arrays: RecArrays, manifest: Manifest, ranker: RuntimeRanker | None = None
    ) -> None:
        self.arrays = arrays
        self.manifest = manifest
        self.catalog = Catalog(arrays)
        self.ranker = ranker
        details = manifest.details
        als = details["als"]
        self.event_weights: dict[str, float] = dict(details["event_weights"])
        self._conf = (str(als["scheme"]), float(als["alpha"]), float(als["eps"]))
        self._reg = float(als["regularization"])
        y = arrays.item_factors.astype(np.float64)
        self._yty = y.T @ y
        self._users = {u: i for i, u in enumerate(arrays.user_ids.tolist())}
        self.model_id = manifest.trained_at
        self.kind = str(details.get("champion", "als"))
        if self.kind not in KINDS:
            raise BundleError(f"unknown recommender kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "ranker" and ranker is None:
            self.kind = "als"  # a ranker bundle without its model file serves ALS, as before
        # The default of `RecFilters.include_purchased` (None): what the champion was chosen for.
        self.include_purchased = bool(details.get("include_purchased", False))

    @classmethod
    def load(cls, bundle_dir: Path) -> RecommenderModel:
        """Load a recommender bundle directory (manifest kind "recommender")."""
        bundle_dir = Path(bundle_dir)
        manifest = read_manifest(bundle_dir, kind=KIND)
        arrays = load_arrays(bundle_dir)
        ranker = None
        if manifest.details.get("champion") == "ranker" and (bundle_dir / RANKER_FILE).is_file():
            ranker = RuntimeRanker.load(bundle_dir / RANKER_FILE, manifest.details["ranker"])
        return cls(arrays, manifest, ranker)

    def version_info(self) -> dict[str, Any]:
        """Identity of the loaded bundle (for responses and /readyz)."""
        m = self.manifest
        return {
            "kind": m.kind,
            "trained_at": m.trained_at,
            "mlflow_run_id": m.mlflow_run_id,
            "data_hash": m.data_hash,
            "as_of": m.as_of,
            "champion": self.kind,
        }

    def has_item(self, item_id: str) -> bool:
        """Whether the item is in the model's catalogue."""
        return item_id in self.catalog.pos

    def has_customer(self, customer_id: str) -> bool:
        """Whether the customer was in the training data."""
        return customer_id in self._users

    def online_state(self, customer_id: str) -> dict[str, bytes]:
        """Fields to keep in the customer's Redis hash; `{}` for an unknown customer."""
        user = self._users.get(customer_id)
        return {} if user is None else encode_state(self.arrays, user, self.model_id)

    def history_item_ids(self, customer_id: str) -> list[str]:
        """Items the customer interacted with in the training data (any event)."""
        user = self._users.get(customer_id)
        if user is None:
            return []
        start, end = int(self.arrays.hist_indptr[user]), int(self.arrays.hist_indptr[user + 1])
        return [self.catalog.ids[i] for i in self.arrays.hist_items[start:end].tolist()]

    @functools.cached_property
    def as_of_ts(self) -> float | None:
        """Unix seconds of the training cut-off; events after it are "recent"."""
        if self.manifest.as_of is None:
            return None
        return float(np.datetime64(self.manifest.as_of, "ns").astype(np.int64) / 1e9)

    def customer_segment(self, customer_id: str) -> str | None:
        """The customer's segment (region) at training time, if known."""
        user = self._users.get(customer_id)
        code = -1 if user is None else int(self.arrays.user_segment[user])
        return str(self.arrays.segments[code]) if code >= 0 else None

    def user_vector(
        self, state: Mapping[str, bytes], recent: Sequence[RecentEvent]
    ) -> tuple[F32 | None, History]:
        """The user's vector with recent events folded in, and the merged history."""
        n_items, n_factors = self.arrays.item_factors.shape
        vector, history = decode_state(state, self.model_id, n_factors, n_items)
        history, n_new = merge_recent(history, recent, self.catalog.pos, self.event_weights)
        if not len(history):
            return None, history
        if n_new or vector is None:
            conf = confidence(history.weights, *self._conf)
            vector = fold_in(self.arrays.item_factors, self._yty, history.items, conf, self._reg)
        return vector, history

    def recommend(
        self,
        state: Mapping[str, bytes],
        recent: Sequence[RecentEvent],
        k: int,
        filters: RecFilters,
        segment: str | None = None,
    ) -> RecResult:
        """Top-k items for a customer; cold start falls back to (segment) popularity."""
        vector, history = self.user_vector(state, recent)
        return self._recommend(vector, history, k, filters, segment)

    def recommend_history(
        self, history: History, k: int, filters: RecFilters, segment: str | None = None
    ) -> RecResult:
        """Top-k items for a history given directly (the promotion gate replays customers)."""
        vector = None
        if len(history):
            conf = confidence(history.weights, *self._conf)
            vector = fold_in(self.arrays.item_factors, self._yty, history.items, conf, self._reg)
        return self._recommend(vector, history, k, filters, segment)

    def _recommend(
        self,
        vector: F32 | None,
        history: History,
        k: int,
        filters: RecFilters,
        segment: str | None,
    ) -> RecResult:
        if filters.include_purchased is None:
            filters = replace(filters, include_purchased=self.include_purchased)
        mask = self.catalog.allowed(filters, history)
        if vector is None:
            return self._popular(k, mask, segment)
        if self.ranker is not None and self.kind == "ranker":
            items = self.ranker.recommend(
                self.catalog, vector, history, mask, k, segment, self.as_of_ts
            )
        else:
            seg = self.catalog.segment_index(segment)
            items = simple_list(self.kind, self.catalog, vector, history, mask, k, seg)
        if len(items) < k:  # pad with popular items when filters leave too few
            mask[[self.catalog.pos[i.item_id] for i in items]] = False
            items += self._popular(k - len(items), mask, segment).items
        return RecResult(items)

    def _popular(self, k: int, mask: np.ndarray, segment: str | None) -> RecResult:
        seg = self.catalog.segment_index(segment)
        picks, source = self.catalog.popular(k, mask, seg)
        return RecResult(self.catalog.popular_items(picks, source, seg), fallback=source)

    def similar_items(self, item_id: str, k: int, filters: RecFilters | None = None) -> RecResult:
        """Items whose ALS factors are closest (cosine) to `item_id`'s."""
        item = self.catalog.index(item_id)
        unit = self.catalog.unit_factors
        scores = unit @ unit[item]
        mask = self.catalog.allowed(filters or RecFilters(), History.empty())
        mask[item] = False
        picks = top_k(np.where(mask, scores, -np.inf), k)
        return RecResult(
            [
                RecItem(self.catalog.ids[i], float(scores[i]), f"similar to {item_id}", "similar")
                for i in picks
            ]
        )

    def bought_together(self, item_id: str, k: int, filters: RecFilters | None = None) -> RecResult:
        """Items most often bought by the buyers of `item_id` (P(j | i)); lift breaks ties."""
        item = self.catalog.index(item_id)
        a = self.arrays
        start, end = int(a.co_indptr[item]), int(a.co_indptr[item + 1])
        partners, counts = a.co_items[start:end], a.co_counts[start:end]
        mask = self.catalog.allowed(filters or RecFilters(), History.empty())
        keep = mask[partners]
        partners, counts = partners[keep], counts[keep]
        if not len(partners):
            result = self.similar_items(item_id, k, filters)
            return RecResult(result.items, fallback="similar")
        n_buyers = max(float(a.item_buyers[item]), 1.0)
        conf = counts / n_buyers
        lift = conf / np.maximum(a.item_buyers[partners] / max(len(a.user_ids), 1), 1e-9)
        order = np.lexsort((-lift, -conf))[:k]
        return RecResult(
            [
                RecItem(
                    self.catalog.ids[int(partners[o])],
                    float(conf[o]),
                    f"often bought together with {item_id}",
                    "bought_together",
                )
                for o in order
            ]
        )

    def upsell(
        self, state: Mapping[str, bytes], recent: Sequence[RecentEvent], k: int, filters: RecFilters
    ) -> RecResult:
        """Pricier items in the categories of the customer's latest items, by affinity."""
        vector, history = self.user_vector(state, recent)
        a = self.arrays
        anchors = history.items[np.argsort(-history.times, kind="stable")][:5]
        anchors = anchors[(a.item_category[anchors] >= 0) & ~np.isnan(a.item_price[anchors])]
        if not len(anchors):
            return RecResult([], fallback="no_anchor")
        base = self.catalog.allowed(filters, history)
        base[history.items] = False
        if vector is not None:
            affinity = a.item_factors @ vector
        else:
            affinity = a.item_popularity.astype(np.float32)
        best = np.full(len(self.catalog), -np.inf, np.float32)
        anchor_of = np.full(len(self.catalog), -1, np.int64)
        for anchor in anchors.tolist():  # most recent anchor wins ties
            tier = (
                (a.item_category == a.item_category[anchor])
                & base
                & (a.item_price >= a.item_price[anchor] * UPSELL_STEP)
            )
            fresh = tier & (anchor_of < 0)
            best[fresh], anchor_of[fresh] = affinity[fresh], anchor
        picks = top_k(best, k)
        verb = {PURCHASE: "bought"}
        return RecResult(
            [
                RecItem(
                    self.catalog.ids[i],
                    float(best[i]),
                    f"an upgrade from {self.catalog.ids[int(anchor_of[i])]} you "
                    f"{verb.get(int(history.events[history.items == anchor_of[i]][0]), 'viewed')}",
                    "upsell",
                )
                for i in picks
            ]
        )
