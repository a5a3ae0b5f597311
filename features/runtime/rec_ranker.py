"""LightGBM re-ranking of recommender candidates at serving time (filled in by phase 2)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from features.runtime.bundle import BundleError
from features.runtime.rec_bundle import F32
from features.runtime.rec_state import History
from features.runtime.rec_types import RecItem

if TYPE_CHECKING:
    from features.runtime.recommender import RecommenderModel


class RuntimeRanker:
    """Placeholder until the two-stage ranker lands: bundles never select it yet."""

    @classmethod
    def load(cls, path: Path, details: dict[str, Any]) -> RuntimeRanker:
        raise BundleError(f"{path}: ranker bundles are not supported by this version")

    def recommend(self, model: RecommenderModel, vector: F32, history: History,
                  mask: np.ndarray, k: int, segment: str | None) -> list[RecItem]:
        raise NotImplementedError
