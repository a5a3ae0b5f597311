"""Calibration at run time: a bundle's blended log-odds to probabilities (`calibration.json`)."""

from __future__ import annotations

from typing import Any

import numpy as np


class Calibrator:
    """Maps blended log-odds to probabilities: Platt, isotonic (piecewise linear) or sigmoid."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.method = str(spec.get("method", "sigmoid"))
        self._knots = (np.asarray(spec.get("x", [])), np.asarray(spec.get("y", [])))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities of raw log-odds scores."""
        if self.method == "platt":
            p = _sigmoid(self.spec["a"] * raw + self.spec["b"])
        elif self.method == "isotonic":
            p = np.interp(raw, *self._knots)
        else:
            p = _sigmoid(raw)
        clipped: np.ndarray = np.clip(p, 1e-6, 1 - 1e-6)
        return clipped


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
    return out
