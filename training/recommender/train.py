"""Train the recommender: validate, tune on a validation split, fit on all, write a bundle."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.bundle import Manifest
from models.recommender.arrays import KIND, RecArrays
from models.recommender.candidates import CandidateConfig
from training.recommender.als import ALSParams, fit_als, warm_iterations
from training.recommender.artifacts import build_arrays
from training.recommender.bundle import check_bundle_target, write_bundle
from training.recommender.candidates import ranking_data
from training.recommender.context import TrainingData, prepare
from training.recommender.data import (
    EVENT_WEIGHTS,
    user_item_matrix,
)
from training.recommender.ease import EASEParams, fit_ease
from training.recommender.evaluate import evaluate_scores, sample_truth
from training.recommender.ranker import RankerOutcome, ranker_details, train_ranker
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
        return {
            f"val_{model}_{m}": v for model, ms in self.validation.items() for m, v in ms.items()
        }


def train_recommender(
    interactions: pd.DataFrame,
    items: pd.DataFrame | None,
    out_dir: Path,
    *,
    customers: pd.DataFrame | None = None,
    as_of: Any = None,
    params: TrainParams | None = None,
    source: str = "interactions",
    data_hash: str | None = None,
    progress: Progress | None = None,
) -> TrainResult:
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
    ctx = prepare(
        interactions,
        items,
        customers,
        as_of,
        source,
        event_weights=params.event_weights,
        val_fraction=params.val_fraction,
        eval_users=params.eval_users,
        seed=params.seed,
    )
    search, validation = _select(ctx, params, progress)
    best, trials = search.best, search.trials
    ease, ease_trials, ease_fit = _select_ease(ctx, params, validation)
    outcome = _ranker(ctx, search.factors, ease_fit, params) if params.ranker else None
    champion = _champion(outcome, validation)
    details: dict[str, Any] = {
        "als": best.as_dict(),
        "event_weights": params.event_weights,
        "als_final_warm_iterations": warm_iterations(best),
        "n_users": len(ctx.users),
        "n_items": len(ctx.items),
        "ease": None if ease is None else ease.as_dict(),
        "champion": champion,
        "validation": validation,
    }
    if outcome is not None:
        details["ranker"] = ranker_details(outcome, CandidateConfig())
        details["ranker_search"] = outcome.search
    manifest = Manifest(
        kind=KIND,
        data_hash=data_hash,
        as_of=pd.Timestamp(ctx.cutoff, unit="s").isoformat(),
        details=details,
    )
    arrays = _final_arrays(ctx, search, ease, params.num_threads)
    write_bundle(Path(out_dir), arrays, manifest, outcome.model_text if outcome else None)
    return TrainResult(
        Path(out_dir),
        champion,
        best,
        validation,
        trials,
        ease,
        ease_trials,
        len(ctx.users),
        len(ctx.items),
        len(ctx.df),
    )


def _champion(outcome: RankerOutcome | None, validation: dict[str, Any]) -> str:
    """ "ranker" when its out-of-fold NDCG beats ALS alone on the same customers by 1%."""
    if outcome is None:
        return "als"
    validation["ranker"] = outcome.metrics
    validation["als_same_users"] = outcome.als_metrics
    # The ranker must win clearly (1%) to be worth its extra moving parts.
    better = outcome.metrics["ndcg"] > RANKER_MARGIN * outcome.als_metrics["ndcg"]
    return "ranker" if better else "als"


def _final_arrays(
    ctx: TrainingData, search: Search, ease: EASEParams | None, num_threads: int
) -> RecArrays:
    """ALS (and EASE) refitted on every event up to the cut-off, with all bundle arrays.

    ALS starts from the chosen validation fit (`warm_iterations`, a third of the sweeps).
    """
    weights = user_item_matrix(ctx.df, ctx.users, ctx.items)
    factors = fit_als(weights, search.best, num_threads, warm=search.factors)
    ease_model = None if ease is None else fit_ease(weights, ease, num_threads)
    return build_arrays(
        ctx.df,
        ctx.users,
        ctx.items,
        factors,
        items_df=ctx.items_df,
        customers=ctx.customers,
        as_of=ctx.cutoff,
        ease=ease_model,
    )


def _ranker(
    ctx: TrainingData,
    factors: tuple[np.ndarray, np.ndarray],
    ease_model: tuple[np.ndarray, np.ndarray] | None,
    params: TrainParams,
) -> RankerOutcome | None:
    """Fit-period model -> candidates for sampled validation customers -> LightGBM.

    The ALS factors and EASE weights are the validation fits of the chosen params (no refit).
    The queries are a seeded sample of `ranker_users` of the evaluation customers: rows, and
    so LightGBM's cost, stay bounded however large the shop.
    """
    fit_df, _, truth, _ = ctx.split
    truth = sample_truth(truth, params.ranker_users, params.seed + 1)
    now = float(fit_df["ts"].max())
    arrays = build_arrays(
        fit_df,
        ctx.users,
        ctx.items,
        factors,
        items_df=ctx.items_df,
        customers=ctx.customers,
        as_of=now,
        ease=ease_model,
    )
    data = ranking_data(arrays, truth, now, k=params.k)
    return train_ranker(data, truth, k=params.k, num_threads=params.num_threads)


def _select(
    ctx: TrainingData, params: TrainParams, progress: Progress | None
) -> tuple[Search, dict[str, Any]]:
    """Tune ALS on the validation split and report popularity vs ALS there.

    Fixed params are fitted once on the fit split; that fit is also the ranker's.
    """
    _, fit_w, truth, blocked = ctx.split
    if params.als is not None:
        search = tune_als(
            fit_w,
            truth,
            [params.als],
            k=params.k,
            exclude=blocked,
            num_threads=params.num_threads,
            progress=progress,
        )
    else:
        search = search_als(
            fit_w,
            truth,
            params.n_trials,
            k=params.k,
            exclude=blocked,
            num_threads=params.num_threads,
            progress=progress,
            budget=Budget(params.time_budget),
        )
    chosen = next(
        t for t in search.trials if all(t[f] == v for f, v in search.best.as_dict().items())
    )
    validation = {
        "popularity": evaluate_scores(popularity_scores(fit_w), blocked, truth, params.k),
        "als": {
            m.removeprefix("val_"): float(v) for m, v in chosen.items() if m.startswith("val_")
        },
    }
    return search, validation


def _select_ease(
    ctx: TrainingData, params: TrainParams, validation: dict[str, Any]
) -> tuple[EASEParams | None, list[Trial], tuple[np.ndarray, np.ndarray] | None]:
    """Tune EASE's L2 strength on validation (only when the ranker will use it)."""
    if not params.ranker or not params.ease_lams:
        return None, [], None
    _, fit_w, truth, blocked = ctx.split
    grid = [EASEParams(lam=lam) for lam in params.ease_lams]
    best, trials, model = tune_ease(
        fit_w, truth, grid, k=params.k, num_threads=params.num_threads, exclude=blocked
    )
    chosen = next(t for t, g in zip(trials, grid, strict=True) if g == best)
    validation["ease"] = {
        m.removeprefix("val_"): float(v) for m, v in chosen.items() if m.startswith("val_")
    }
    return best, trials, model
