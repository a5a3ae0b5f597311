"""Churn and lead scoring at run time: load a tabular bundle, score frames or request records.

A bundle holds `manifest.json` (features with their category lists, feature text, tier
thresholds), `model.txt` (LightGBM text model), optionally `linear.json` (a logistic model
blended with it in log-odds) and `calibration.json`. Nothing is pickled. Batch scoring and the
service share this module; `score_records` builds the float matrix without pandas.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.bundle import BundleError, Manifest, read_manifest
from models.predictor import KeptPredictor
from models.scoring.calibration import Calibrator
from models.scoring.drift import drift as feature_drift
from models.scoring.explained import model_key, pack, unpack
from models.scoring.reasons import CATEGORICAL, NUMERIC, Reason, is_missing, reasons_at
from models.scoring.reasons import top_reasons as explain
from models.scoring.specs import (
    FeatureSpec,
    encode_frame,
    encode_records,
    specs_from_details,
    unseen_categories,
)
from models.scoring.tiers import Population, Tiers

if TYPE_CHECKING:
    import lightgbm as lgb

KINDS = ("churn", "lead")
MODEL_FILE = "model.txt"
LINEAR_FILE = "linear.json"
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Scored:
    """The score of one entity with its reasons and the features it lacked."""

    probability: float
    score: int
    tier: str
    reasons_up: list[Reason]
    reasons_down: list[Reason]
    missing: list[str] = field(default_factory=list)
    percentile: float | None = None  # among the held-out population; None for older bundles
    unseen: dict[str, str] = field(default_factory=dict)  # categorical field -> unseen value


class LinearPart:
    """A logistic model on the encoded matrix: standardized numerics plus per-category weights."""

    def __init__(self, spec: dict[str, Any], specs: list[FeatureSpec]) -> None:
        self.intercept = float(spec["intercept"])
        self.mean = np.array([spec["mean"].get(s.name, 0.0) for s in specs], dtype=float)
        self.scale = np.array([spec["scale"].get(s.name, 1.0) for s in specs], dtype=float)
        self.coef = np.array([spec["coef"].get(s.name, 0.0) for s in specs], dtype=float)
        self.cat_coef = {
            j: np.asarray(spec["cat_coef"][s.name], dtype=float)
            for j, s in enumerate(specs)
            if s.kind == CATEGORICAL
        }

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature log-odds terms (missing values contribute 0) plus the intercept column."""
        z = np.nan_to_num((x - self.mean) / self.scale) * self.coef
        for j, weights in self.cat_coef.items():
            codes = x[:, j]
            known = ~np.isnan(codes)
            z[:, j] = 0.0
            z[known, j] = weights[codes[known].astype(int)]
        return np.column_stack([z, np.full(len(x), self.intercept)])


class TabularScorer:
    """A loaded churn or lead bundle: probabilities, 0-100 scores, tiers and reasons."""

    def __init__(self, bundle_dir: Path, manifest: Manifest) -> None:
        details = manifest.details
        self.bundle_dir = bundle_dir
        self.manifest = manifest
        self.kind = manifest.kind
        self.specs = specs_from_details(details)
        self.feature_names = [s.name for s in self.specs]
        self.kinds = [s.kind for s in self.specs]
        self.id_col: str | None = details.get("id_col")
        self.feature_text: dict[str, str] = dict(details.get("feature_text", {}))
        self.tier_rule = Tiers(details["tiers"])
        self.tier_names = self.tier_rule.names
        self.thresholds = self.tier_rule.thresholds
        self.population = Population(details.get("population"))
        self.target = "churn risk" if self.kind == "churn" else "conversion chance"
        self.weight = float(details["model"]["weight"])
        self.booster: lgb.Booster | None = None
        self.predictor: KeptPredictor | None = None
        self.linear: LinearPart | None = None
        if self.weight > 0:
            # Imported on load: lightgbm pulls in scikit-learn when it is installed, which an
            # API process that has not loaded a model yet need not pay for.
            import lightgbm as lgb

            self.booster = lgb.Booster(model_file=str(bundle_dir / MODEL_FILE))
            self.predictor = KeptPredictor(self.booster)  # one C predictor, not one per call
        if self.weight < 1:
            self.linear = LinearPart(_read_json(bundle_dir / LINEAR_FILE), self.specs)
        self.calibrator = Calibrator(_read_json(bundle_dir / CALIBRATION_FILE))

    @classmethod
    def load(cls, bundle_dir: Path | str, kind: str | None = None) -> TabularScorer:
        """Load a bundle directory; `kind` ("churn"/"lead") guards against the wrong model."""
        bundle_dir = Path(bundle_dir)
        manifest = read_manifest(bundle_dir, kind)
        if manifest.kind not in KINDS:
            raise BundleError(f"{bundle_dir}: kind {manifest.kind!r} is not a tabular score")
        return cls(bundle_dir, manifest)

    def contributions(self, x: np.ndarray, *, batch: bool = False) -> np.ndarray:
        """Blended log-odds contributions, (n, n_features + 1), bias last; `batch=True`
        (materialize) on every core (num_threads=0), a request on one (`KeptPredictor`)."""
        total = np.zeros((len(x), len(self.specs) + 1))
        if self.booster is not None and batch:
            contrib = self.booster.predict(x, pred_contrib=True, num_threads=0)
            total += self.weight * np.asarray(contrib)
        elif self.predictor is not None:
            # num_threads=1: OpenMP limits set in the lifespan do not reach request threads.
            total += self.weight * self.predictor.predict(x, pred_contrib=True)
        if self.linear is not None:
            total += (1 - self.weight) * self.linear.contributions(x)
        return total

    @property
    def fingerprint(self) -> str:
        """Identity of the bundle: explanations are reused only by the model that wrote them."""
        m = self.manifest
        return f"{m.kind}:{m.mlflow_run_id or ''}:{m.trained_at}"

    @functools.cached_property
    def key(self) -> int:
        return model_key(self.fingerprint)  # what this bundle's explained blobs carry

    def explain_records(self, records: list[dict[str, Any]]) -> list[bytes]:
        """One blob per record (`models.scoring.explained`), encoded as a request's records are."""
        if not records:
            return []
        x, _ = encode_records(records, self.specs)
        contrib = self.contributions(x, batch=True)
        prob = self.calibrator(contrib.sum(axis=1))
        return pack(contrib, (prob, self.percentiles(prob), self.tier_rule.indices(prob)), self.key)

    def score_explained(
        self, record: dict[str, Any], blob: bytes, top_reasons: int = 3
    ) -> Scored | None:
        """`score_records([record])[0]` from the record's blob; None if the blob cannot tell."""
        found = unpack(blob, top_reasons, len(self.specs), self.key)
        if found is None:
            return None
        values, names = [record.get(name) for name in self.feature_names], self.feature_names
        up, down = (
            reasons_at(picks, values, names, self.kinds, self.feature_text, self.target)
            for picks in (found.up, found.down)
        )
        missing = [n for n, v in zip(names, values, strict=True) if is_missing(v)]
        rank = (self.tier_names[found.tier], found.percentile)
        return self._scored(np.asarray([found.probability]), 0, rank, record, (up, down), missing)

    def raw_score(self, x: np.ndarray) -> np.ndarray:
        """Blended log-odds of an encoded matrix (before calibration)."""
        raw = np.zeros(len(x))
        if self.predictor is not None:
            raw += self.weight * self.predictor.predict(x, raw_score=True)
        if self.linear is not None:
            raw += (1 - self.weight) * self.linear.contributions(x).sum(axis=1)
        return raw

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of an encoded matrix."""
        return self.calibrator(self.raw_score(x))

    def tiers(self, probability: np.ndarray) -> list[str]:
        """Tier names: the first whose threshold the probability reaches, else the last."""
        return self.tier_rule.assign(probability)

    def percentiles(self, probability: np.ndarray) -> np.ndarray:
        """Percent (0-100) of the held-out population at or below each probability."""
        return self.population.percentiles(probability)

    def score_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Batch scores: [id column if the bundle has one,] probability, score, tier."""
        prob = self.probabilities(encode_frame(df, self.specs))
        out = pd.DataFrame(
            {"probability": prob, "score": to_score(prob), "tier": self.tiers(prob)}, index=df.index
        )
        if self.id_col and self.id_col in df.columns:
            out.insert(0, self.id_col, df[self.id_col].to_numpy())
        return out

    def drift(self, df: pd.DataFrame) -> dict[str, float]:
        """PSI of each feature between the training data and `df` ({} for older bundles)."""
        profiles = self.manifest.details.get("drift_profile")
        if not profiles:
            return {}
        return feature_drift(profiles, encode_frame(df, self.specs), self.specs)

    def score_records(self, records: list[dict[str, Any]], top_reasons: int = 3) -> list[Scored]:
        """Score request records (feature name -> value) with reasons; no pandas involved."""
        x, missing = encode_records(records, self.specs)
        if not records:
            return []
        contrib = self.contributions(x)
        prob = self.calibrator(contrib.sum(axis=1))
        tiers, pct = self.tiers(prob), self.percentiles(prob)
        results = []
        for i, record in enumerate(records):
            values = [record.get(name) for name in self.feature_names]
            up, down = explain(
                contrib[i, :-1],
                values,
                self.feature_names,
                self.kinds,
                self.feature_text,
                top_reasons,
                self.target,
            )
            rank = (tiers[i], float(pct[i]))
            results.append(self._scored(prob, i, rank, record, (up, down), missing[i]))
        return results

    def _scored(
        self,
        prob: np.ndarray,
        i: int,
        rank: tuple[str, float | None],
        record: dict[str, Any],
        reasons: tuple[list[Reason], list[Reason]],
        missing: list[str],
    ) -> Scored:
        """Row `i`'s `Scored`, given its (tier, percentile) and (reasons up, reasons down)."""
        tier, pct = rank
        p = float(prob[i])
        return Scored(
            p,
            min(100, max(0, round(p * 100))),  # `to_score` of one value (both round half to even)
            tier,
            *reasons,
            missing,
            None if pct is None or np.isnan(pct) else pct,
            unseen_categories(record, self.specs),
        )


def to_score(probability: np.ndarray) -> np.ndarray:
    """Probability -> integer score 0-100."""
    scores: np.ndarray = np.clip(np.rint(np.asarray(probability) * 100), 0, 100).astype(int)
    return scores


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BundleError(f"{path.parent}: missing {path.name}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


__all__ = [
    "NUMERIC",
    "FeatureSpec",
    "Reason",
    "Scored",
    "TabularScorer",
    "encode_frame",
    "encode_records",
    "to_score",
]
