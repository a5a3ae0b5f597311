"""A LightGBM predictor kept per booster, for request-sized predictions.

`Booster.predict` builds a new `_InnerPredictor` (parameter parsing, C API look-ups) on every
call; at one to a few hundred rows per request that set-up is a large share of the call. Here it
is built once per loaded model and reused: the same C predictor, the same parameters, the same
iteration count `Booster.predict` would use (`best_iteration`), so the outputs are identical
(tests/unit/models/test_predictor.py). Should a LightGBM release drop the private class, it falls
back to `Booster.predict`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class KeptPredictor:
    """`predict(x, raw_score=..., pred_contrib=...)` of one booster, single-threaded."""

    def __init__(self, booster: Any, num_threads: int = 1) -> None:
        self.booster = booster
        self._params = {"num_threads": num_threads}
        self._num_iteration = int(booster.best_iteration)
        self._inner: Any = None
        try:
            from lightgbm.basic import _InnerPredictor

            self._inner = _InnerPredictor.from_booster(booster, dict(self._params))
        except (ImportError, AttributeError, TypeError):  # pragma: no cover - other LightGBM
            self._inner = None

    def predict(
        self, x: np.ndarray, *, raw_score: bool = False, pred_contrib: bool = False
    ) -> np.ndarray:
        """What `booster.predict(x, raw_score=..., pred_contrib=..., num_threads=1)` returns."""
        if self._inner is None:  # pragma: no cover - other LightGBM
            out = self.booster.predict(
                x, raw_score=raw_score, pred_contrib=pred_contrib, **self._params
            )
        else:
            out = self._inner.predict(
                x,
                num_iteration=self._num_iteration,
                raw_score=raw_score,
                pred_contrib=pred_contrib,
            )
        return np.asarray(out)
