"""LightGBM re-ranking of recommender candidates at serving time (text model, numpy features)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import BundleError
from models.predictor import KeptPredictor
from models.recommender.arrays import F32
from models.recommender.candidates import FEATURES, CandidateConfig, build_candidates
from models.recommender.catalog import Catalog
from models.recommender.state import History
from models.recommender.types import RecItem

_REASONS = {"popular": "popular", "trending": "trending now", "segment": "popular in your segment"}


class RuntimeRanker:
    """A LightGBM lambdarank booster over the candidates of `candidates.py`."""

    def __init__(self, booster: Any, config: CandidateConfig) -> None:
        self.booster = booster
        self.predictor = KeptPredictor(booster)
        self.config = config

    @classmethod
    def load(cls, path: Path, details: dict[str, Any]) -> RuntimeRanker:
        """Load the booster's text model; the feature list must match this code's."""
        import lightgbm as lgb

        if list(details.get("features", [])) != list(FEATURES):
            raise BundleError(
                f"{path}: ranker features {details.get('features')} differ from "
                f"this runtime's {list(FEATURES)}"
            )
        booster = lgb.Booster(model_file=str(path))
        return cls(booster, CandidateConfig(**details.get("candidates", {})))

    def score(self, features: F32) -> np.ndarray:
        """Ranking scores of candidate rows (single-threaded: one request, few rows)."""
        return np.asarray(self.predictor.predict(features), dtype=np.float64)

    def recommend(
        self,
        catalog: Catalog,
        vector: F32,
        history: History,
        mask: np.ndarray,
        k: int,
        segment: str | None,
        as_of_ts: float | None,
    ) -> list[RecItem]:
        """Top-k re-ranked candidates with a reason from the generator that found each."""
        now = float(max(history.times.max(initial=0.0), as_of_ts or 0.0))
        cands = build_candidates(
            catalog.arrays,
            catalog.unit_factors,
            vector,
            history.items,
            history.weights,
            history.times,
            mask,
            catalog.segment_index(segment),
            now,
            self.config,
            pop_rank=catalog.pop_rank,
        )
        if not len(cands.items):
            return []
        scores = self.score(cands.features)
        order = np.argsort(-scores, kind="stable")[:k]
        picks = cands.items[order]
        full = np.zeros(len(catalog), dtype=np.float64)
        full[picks] = scores[order]
        personal = catalog.because(picks, full, history, "ranker")
        out = []
        for item, row in zip(personal, order.tolist(), strict=True):
            gen = str(cands.generator[row])
            reason = _REASONS.get(gen, item.reason)
            out.append(RecItem(item.item_id, item.score, reason, f"ranker:{gen}"))
        return out
