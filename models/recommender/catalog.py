"""The item side of the recommender runtime: ids, metadata, filters, popularity, reasons."""

from __future__ import annotations

import numpy as np

from models.recommender.arrays import F32, I64, RecArrays, top_k
from models.recommender.candidates import popularity_rank
from models.recommender.state import History
from models.recommender.types import PURCHASE, RecFilters, RecItem, UnknownItemError

_VERBS = {0: "viewed", 1: "added to cart", 2: "bought"}
_AGAIN = {0: "you viewed it recently", 1: "you added it to your cart", 2: "you bought it before"}


def repeat_blocked(hist_events: np.ndarray) -> np.ndarray:
    """Which history entries are not recommended again by default: the purchased items.

    Viewed and carted items may come back ("you viewed it recently"). Serving (`Catalog.allowed`)
    and the ranker's training candidates both use this rule, so the ranker is trained on the
    same kinds of candidates it ranks at serving time.
    """
    blocked: np.ndarray = np.asarray(hist_events) == PURCHASE
    return blocked


def default_allowed(n_items: int, hist_items: np.ndarray, hist_events: np.ndarray) -> np.ndarray:
    """Mask of the items a customer may be recommended without business filters."""
    mask = np.ones(n_items, dtype=bool)
    mask[hist_items[repeat_blocked(hist_events)]] = False
    return mask


class Catalog:
    """Preloaded item arrays with O(1) id lookups and vectorised filters."""

    def __init__(self, arrays: RecArrays) -> None:
        self.arrays = arrays
        self.ids: list[str] = arrays.item_ids.tolist()
        self.pos: dict[str, int] = {item: i for i, item in enumerate(self.ids)}
        self.category_code = {c: i for i, c in enumerate(arrays.categories.tolist())}
        norms = np.linalg.norm(arrays.item_factors, axis=1, keepdims=True)
        self.unit_factors: F32 = (arrays.item_factors / np.maximum(norms, 1e-9)).astype(np.float32)
        pop = arrays.item_popularity.astype(np.float64)
        # Tiny popularity tie-breaker so equal scores order by popularity, deterministically.
        self.pop_tiebreak = (pop / max(float(pop.max(initial=0.0)), 1.0) * 1e-6).astype(np.float32)
        # The ranker's `pop_rank` feature does not depend on the request: computed once here.
        self.pop_rank: np.ndarray = popularity_rank(arrays)

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, item_id: str) -> int:
        """Index of `item_id`; raises `UnknownItemError` when not in the catalogue."""
        try:
            return self.pos[item_id]
        except KeyError:
            raise UnknownItemError(item_id) from None

    def category_of(self, item: int) -> str | None:
        code = int(self.arrays.item_category[item])
        return str(self.arrays.categories[code]) if code >= 0 else None

    def price_of(self, item: int) -> float | None:
        price = float(self.arrays.item_price[item])
        return None if np.isnan(price) else price

    def allowed(self, filters: RecFilters, history: History) -> np.ndarray:
        """Boolean mask of the items the filters allow for this customer."""
        mask = np.ones(len(self.ids), dtype=bool)
        if filters.category is not None:
            code = self.category_code.get(filters.category)
            if code is None:
                return np.zeros(len(self.ids), dtype=bool)
            mask &= self.arrays.item_category == code
        if filters.price_max is not None:
            mask &= self.arrays.item_price <= filters.price_max  # NaN price -> excluded
        for item_id in filters.exclude:
            pos = self.pos.get(item_id)
            if pos is not None:
                mask[pos] = False
        if not filters.include_purchased and len(history):
            mask[history.items[repeat_blocked(history.events)]] = False
        return mask

    def popular(self, k: int, mask: np.ndarray, segment: int | None) -> tuple[I64, str]:
        """Top-k popular allowed items, from the segment when it is known; with the source."""
        if segment is not None and segment >= 0:
            scores = self.arrays.segment_popularity[segment] + self.pop_tiebreak
            source = "segment_popular"
        else:
            scores = self.arrays.item_popularity + self.pop_tiebreak
            source = "popular"
        return top_k(np.where(mask, scores, -np.inf), k), source

    def segment_index(self, segment: str | None) -> int | None:
        if segment is None:
            return None
        hits = np.flatnonzero(self.arrays.segments == segment)
        return int(hits[0]) if len(hits) else None

    def popular_items(self, picks: I64, source: str, segment: int | None) -> list[RecItem]:
        """RecItems for popularity picks, scored by customers relative to the most popular."""
        if source == "segment_popular" and segment is not None:
            pop = self.arrays.segment_popularity[segment]
            reason = "popular in your segment"
        else:
            pop, reason = self.arrays.item_popularity, "popular"
        total = max(float(pop.max(initial=0.0)), 1.0)
        return [RecItem(self.ids[i], float(pop[i] / total), reason, source) for i in picks]

    def because(
        self, picks: I64, scores: np.ndarray, history: History, source: str
    ) -> list[RecItem]:
        """RecItems whose reason names the history item most similar to each pick."""
        if not len(history):
            return [
                RecItem(self.ids[i], float(scores[i]), "recommended for you", source) for i in picks
            ]
        sims = self.unit_factors[picks] @ self.unit_factors[history.items].T
        same = picks[:, None] == history.items[None, :]
        sims = np.where(same, -np.inf, sims * np.log1p(history.weights)[None, :])
        anchor = np.argmax(sims, axis=1)
        # Per pick, as Python values: is it in the history (and where first), is its anchor real.
        again, first = same.any(axis=1).tolist(), np.argmax(same, axis=1).tolist()
        found = np.isfinite(sims[np.arange(len(picks)), anchor]).tolist()
        events, items = history.events.tolist(), history.items.tolist()
        out = []
        for row, (i, a) in enumerate(zip(picks.tolist(), anchor.tolist(), strict=True)):
            if again[row]:  # the pick itself is in the history (viewed, not bought)
                reason = _AGAIN.get(int(events[first[row]]), _AGAIN[0])
            elif found[row]:
                verb = _VERBS.get(int(events[a]), "viewed")
                reason = f"because you {verb} {self.ids[int(items[a])]}"
            else:
                reason = "recommended for you"
            out.append(RecItem(self.ids[i], float(scores[i]), reason, source))
        return out
