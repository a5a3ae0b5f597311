"""Train the recommender: validate, tune on a validation split, fit on all, write a bundle."""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.runtime.bundle import MANIFEST, BundleError, Manifest, write_manifest
from features.runtime.rec_bundle import KIND, RANKER_FILE, RecArrays, save_arrays
from features.runtime.rec_catalog import repeat_blocked
from features.runtime.rec_features import CandidateConfig
from training.recommender.als import ALSParams, fit_als, warm_iterations
from training.recommender.artifacts import build_arrays
from training.recommender.candidates import ranking_data
from training.recommender.data import (
    EVENT_WEIGHTS,
    Index,
    temporal_split,
    user_item_matrix,
    validate_interactions,
)
from training.recommender.ease import EASEParams, fit_ease
from training.recommender.evaluate import evaluate_scores, sample_truth
from training.recommender.ranker import RankerOutcome, ranker_details, train_ranker
from training.recommender.report import log_to_mlflow as log_to_mlflow  # the CLI's import
from training.recommender.tune import (
    Budget,
    Progress,
    Search,
    Trial,
    popularity_scores,
    search_als,
    tune_als,
    tune_ease,
)

logger = logging.getLogger(__name__)

RANKER_MARGIN = 1.01
# Seconds for the ALS search on a 2-core machine: ~12 trials on a 100k-customer shop, one
# (the default params) at 1M, where each fit takes a minute or more.
TIME_BUDGET = 45.0


@dataclass(frozen=True)
class TrainParams:
    """What to train: fixed ALS params or a search, the split and the cut-off k."""

    als: ALSParams | None = None  # None: search `n_trials` candidates on validation
    n_trials: int = 12
    val_fraction: float = 0.2
    k: int = 10
    num_threads: int = 1
    ranker: bool = True  # also train the LightGBM re-ranker and let validation pick
    time_budget: float | None = TIME_BUDGET  # seconds for the ALS search; None: all trials
    eval_users: int | None = 20_000  # validation customers sampled for every metric
    ranker_users: int | None = 4_000  # of those, the ranker's queries (bounds its rows)
    seed: int = 0
    # EASE L2 strengths tried on validation (an extra ranker generator; needs `ranker`).
    ease_lams: tuple[float, ...] = (100.0, 300.0, 1000.0)
    event_weights: dict[str, float] = field(default_factory=lambda: dict(EVENT_WEIGHTS))


@dataclass
class TrainResult:
    """Outcome of a training run."""

    bundle_dir: Path
    champion: str
    als: ALSParams
    validation: dict[str, dict[str, float]]
    trials: list[Trial]
    ease: EASEParams | None
    ease_trials: list[Trial]
    n_users: int
    n_items: int
    n_interactions: int

    def flat_metrics(self) -> dict[str, float]:
        """`val_<model>_<metric>` for MLflow."""
        return {f"val_{model}_{m}": v for model, ms in self.validation.items()
                for m, v in ms.items()}


def train_recommender(interactions: pd.DataFrame, items: pd.DataFrame | None, out_dir: Path, *,
                      customers: pd.DataFrame | None = None, as_of: Any = None,
                      params: TrainParams | None = None, source: str = "interactions",
                      data_hash: str | None = None,
                      progress: Progress | None = None) -> TrainResult:
    """Train and write a recommender bundle to `out_dir` (replaced atomically).

    Args:
        interactions: customer_id, item_id, timestamp[, event_type][, weight].
        items: Optional item_id, category, price, brand.
        out_dir: Bundle directory to create; an existing one must be a bundle (or empty).
        customers: Optional customer_id, region (segments for cold-start popularity).
        as_of: Only events at or before this time are used (default: the latest event).
        params: Search/fit parameters.
        source: Name of the interactions input, used in error messages.
        data_hash: Recorded in the manifest.
        progress: Called with (done, total) after each tuning trial.

    Raises:
        BundleError: `out_dir` exists and is neither empty nor a bundle.
    """
    params = params or TrainParams()
    check_bundle_target(Path(out_dir))
    ctx = _context(interactions, items, customers, as_of, params, source)
    search, validation = _select(ctx, params, progress)
    best, trials = search.best, search.trials
    ease, ease_trials, ease_fit = _select_ease(ctx, params, validation)
    outcome = _ranker(ctx, search.factors, ease_fit, params) if params.ranker else None
    champion = _champion(outcome, validation)
    details: dict[str, Any] = {"als": best.as_dict(), "event_weights": params.event_weights,
                               "als_final_warm_iterations": warm_iterations(best),
                               "n_users": len(ctx.users), "n_items": len(ctx.items),
                               "ease": None if ease is None else ease.as_dict(),
                               "champion": champion, "validation": validation}
    if outcome is not None:
        details["ranker"] = ranker_details(outcome, CandidateConfig())
        details["ranker_search"] = outcome.search
    manifest = Manifest(kind=KIND, data_hash=data_hash,
                        as_of=pd.Timestamp(ctx.cutoff, unit="s").isoformat(), details=details)
    arrays = _final_arrays(ctx, search, ease, params.num_threads)
    _write_bundle(Path(out_dir), arrays, manifest, outcome.model_text if outcome else None)
    return TrainResult(Path(out_dir), champion, best, validation, trials, ease, ease_trials,
                       len(ctx.users), len(ctx.items), len(ctx.df))


def check_bundle_target(out_dir: Path) -> None:
    """Refuse to replace anything but a bundle (a directory with manifest.json) or an empty dir.

    Raises:
        BundleError: `out_dir` is a file, or a non-empty directory without manifest.json.
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BundleError(f"{out_dir}: exists and is not a directory; refusing to replace it")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise BundleError(f"{out_dir}: exists, is not empty and is not a model bundle (no "
                          f"{MANIFEST}); refusing to replace it")


@dataclass
class _Context:
    """The validated events up to the cut-off, their indices and the validation split."""

    df: pd.DataFrame
    cutoff: float
    users: Index
    items: Index
    items_df: pd.DataFrame | None
    customers: pd.DataFrame | None
    params: TrainParams

    @functools.cached_property
    def split(self) -> tuple[pd.DataFrame, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
        """Fit events, fit weights, validation truth and the items a list may not repeat.

        The truth keeps a seeded sample of `eval_users` validation customers (the fit keeps
        everyone), so validation costs the same at 100k and at 1M customers.
        """
        fit_df, val_df = temporal_split(self.df, self.params.val_fraction)
        blocked = fit_df[repeat_blocked(fit_df["event"].to_numpy())]
        truth = user_item_matrix(val_df, self.users, self.items)
        return (fit_df, user_item_matrix(fit_df, self.users, self.items),
                sample_truth(truth, self.params.eval_users, self.params.seed),
                user_item_matrix(blocked, self.users, self.items))


def _context(interactions: pd.DataFrame, items: pd.DataFrame | None,
             customers: pd.DataFrame | None, as_of: Any, params: TrainParams,
             source: str) -> _Context:
    """Validate the events and keep those at or before the cut-off."""
    df = validate_interactions(interactions, source, params.event_weights)
    cutoff = float(df["ts"].max()) if as_of is None else pd.Timestamp(as_of).timestamp()
    df = df[df["ts"] <= cutoff]
    if df.empty:
        raise ValueError(f"{source}: no interactions at or before as_of")
    users, items_idx = Index.of(df["customer_id"]), Index.of(df["item_id"])
    return _Context(df, cutoff, users, items_idx, items, customers, params)


def _champion(outcome: RankerOutcome | None, validation: dict[str, Any]) -> str:
    """"ranker" when its out-of-fold NDCG beats ALS alone on the same customers by 1%."""
    if outcome is None:
        return "als"
    validation["ranker"] = outcome.metrics
    validation["als_same_users"] = outcome.als_metrics
    # The ranker must win clearly (1%) to be worth its extra moving parts.
    better = outcome.metrics["ndcg"] > RANKER_MARGIN * outcome.als_metrics["ndcg"]
    return "ranker" if better else "als"


def _final_arrays(ctx: _Context, search: Search, ease: EASEParams | None,
                  num_threads: int) -> RecArrays:
    """ALS (and EASE) refitted on every event up to the cut-off, with all bundle arrays.

    ALS starts from the chosen validation fit (`warm_iterations`, a third of the sweeps).
    """
    weights = user_item_matrix(ctx.df, ctx.users, ctx.items)
    factors = fit_als(weights, search.best, num_threads, warm=search.factors)
    ease_model = None if ease is None else fit_ease(weights, ease, num_threads)
    return build_arrays(ctx.df, ctx.users, ctx.items, factors, items_df=ctx.items_df,
                        customers=ctx.customers, as_of=ctx.cutoff, ease=ease_model)


def _ranker(ctx: _Context, factors: tuple[np.ndarray, np.ndarray],
            ease_model: tuple[np.ndarray, np.ndarray] | None,
            params: TrainParams) -> RankerOutcome | None:
    """Fit-period model -> candidates for sampled validation customers -> LightGBM.

    The ALS factors and EASE weights are the validation fits of the chosen params (no refit).
    The queries are a seeded sample of `ranker_users` of the evaluation customers: rows, and
    so LightGBM's cost, stay bounded however large the shop.
    """
    fit_df, _, truth, _ = ctx.split
    truth = sample_truth(truth, params.ranker_users, params.seed + 1)
    now = float(fit_df["ts"].max())
    arrays = build_arrays(fit_df, ctx.users, ctx.items, factors, items_df=ctx.items_df,
                          customers=ctx.customers, as_of=now, ease=ease_model)
    data = ranking_data(arrays, truth, now, k=params.k)
    return train_ranker(data, truth, k=params.k, num_threads=params.num_threads)


def _select(ctx: _Context, params: TrainParams,
            progress: Progress | None) -> tuple[Search, dict[str, Any]]:
    """Tune ALS on the validation split and report popularity vs ALS there.

    Fixed params are fitted once on the fit split; that fit is also the ranker's.
    """
    _, fit_w, truth, blocked = ctx.split
    if params.als is not None:
        search = tune_als(fit_w, truth, [params.als], k=params.k, exclude=blocked,
                          num_threads=params.num_threads, progress=progress)
    else:
        search = search_als(fit_w, truth, params.n_trials, k=params.k, exclude=blocked,
                            num_threads=params.num_threads, progress=progress,
                            budget=Budget(params.time_budget))
    chosen = next(t for t in search.trials
                  if all(t[f] == v for f, v in search.best.as_dict().items()))
    validation = {
        "popularity": evaluate_scores(popularity_scores(fit_w), blocked, truth, params.k),
        "als": {m.removeprefix("val_"): float(v) for m, v in chosen.items()
                if m.startswith("val_")},
    }
    return search, validation


def _select_ease(ctx: _Context, params: TrainParams, validation: dict[str, Any]
                 ) -> tuple[EASEParams | None, list[Trial], tuple[np.ndarray, np.ndarray] | None]:
    """Tune EASE's L2 strength on validation (only when the ranker will use it)."""
    if not params.ranker or not params.ease_lams:
        return None, [], None
    _, fit_w, truth, blocked = ctx.split
    grid = [EASEParams(lam=lam) for lam in params.ease_lams]
    best, trials, model = tune_ease(fit_w, truth, grid, k=params.k,
                                    num_threads=params.num_threads, exclude=blocked)
    chosen = next(t for t, g in zip(trials, grid, strict=True) if g == best)
    validation["ease"] = {m.removeprefix("val_"): float(v) for m, v in chosen.items()
                          if m.startswith("val_")}
    return best, trials, model


def _write_bundle(out_dir: Path, arrays: RecArrays, manifest: Manifest,
                  ranker_text: str | None) -> None:
    check_bundle_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=out_dir.parent))
    try:
        save_arrays(tmp, arrays)
        if ranker_text is not None:
            (tmp / RANKER_FILE).write_text(ranker_text)
        write_manifest(tmp, manifest)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
