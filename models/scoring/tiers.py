"""Tiers (churn risk, lead grade) and percentiles of a calibrated probability.

A bundle's manifest holds `details.tiers` (names, descending probability thresholds and the
basis they came from) and, since churn tiers became fixed probability bands,
`details.population`: quantiles of the calibrated probabilities of the held-out population, so a
score's percentile needs no population scan at serving time. Bundles without it still load;
their scores carry no percentile.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BANDS = "probability bands"


class Tiers:
    """Tier names and the probability thresholds that reach them (`probability >= threshold`)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.names: list[str] = list(spec["names"])
        self.thresholds = np.asarray(spec["thresholds"], dtype=float)
        self.basis = str(spec.get("basis", "quantiles of calibrated held-out probability"))
        self.shares: list[float] = list(spec.get("shares", []))

    def assign(self, probability: np.ndarray) -> list[str]:
        """Tier names: the first whose threshold the probability reaches, else the last."""
        return [self.names[i] for i in self.indices(probability)]

    def indices(self, probability: np.ndarray) -> np.ndarray:
        """Index in `names` of each probability's tier (what `assign` names)."""
        # side="left": a probability equal to a threshold reaches that tier (thresholds are >=).
        idx: np.ndarray = np.searchsorted(-self.thresholds, -np.asarray(probability), side="left")
        return idx

    def rule(self) -> str:
        """The rule in words, e.g. "high: probability >= 0.66; medium: >= 0.33; low: below"."""
        parts = []
        for i, (name, cut) in enumerate(zip(self.names, self.thresholds, strict=False)):
            share = ""
            if self.basis != BANDS and i < len(self.shares):
                share = f" (about the top {self._cumulative(i):.0%} of the held-out population)"
            parts.append(f"{name}: probability >= {cut:.4g}{share}")
        parts.append(f"{self.names[-1]}: below {self.thresholds[-1]:.4g}")
        return "; ".join(parts) + f" [{self.basis}]"

    def _cumulative(self, i: int) -> float:
        return float(sum(self.shares[: i + 1]))


class Population:
    """Where a probability falls among the held-out population's calibrated probabilities."""

    def __init__(self, spec: dict[str, Any] | None) -> None:
        self.quantiles = np.asarray((spec or {}).get("quantiles", []), dtype=float)
        self.rows = int((spec or {}).get("rows", 0))

    @property
    def known(self) -> bool:
        """False for bundles trained before the population was stored."""
        return len(self.quantiles) >= 2

    def percentiles(self, probability: np.ndarray) -> np.ndarray:
        """Percent (0-100) of the population at or below each probability; NaN when unknown.

        Interpolated between the stored quantiles; a probability on a run of equal quantiles
        (isotonic steps) gets the middle of that run.
        """
        p = np.asarray(probability, dtype=float)
        if not self.known:
            return np.full(p.shape, np.nan)
        q = self.quantiles
        steps = len(q) - 1
        lo = np.searchsorted(q, p, side="left")
        hi = np.searchsorted(q, p, side="right")
        inside = np.clip(lo, 1, steps)
        left, right = q[inside - 1], q[inside]
        width = np.where(right > left, right - left, 1.0)
        interpolated = inside - 1 + np.clip((p - left) / width, 0.0, 1.0)
        position = np.where(hi > lo, (lo + hi - 1) / 2.0, interpolated)
        out: np.ndarray = np.clip(100.0 * position / steps, 0.0, 100.0)
        return out


def population_spec(probability: np.ndarray, points: int = 101) -> dict[str, Any]:
    """The quantiles (0%, 1%, ..., 100%) of held-out calibrated probabilities, for the bundle."""
    p = np.asarray(probability, dtype=float)
    quantiles = np.quantile(p, np.linspace(0.0, 1.0, points))
    return {
        "quantiles": [float(v) for v in quantiles],
        "rows": len(p),
        "basis": "calibrated probabilities of the held-out calibration slice",
    }
