"""Train the recommender: tune on a time-based validation, pick the champion kind, write a bundle.

Every kind the runtime serves is a candidate (popularity, recent, segment, repeat, item-kNN,
EASE, ALS, the LightGBM ranker); each is measured on the same validation customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.bundle import Manifest
from models.recommender.arrays import KIND, RecArrays
from models.recommender.candidates import CandidateConfig
from models.recommender.scorers import KINDS
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
from training.recommender.evaluate import sample_truth
from training.recommender.gate import GateData, gate_sample
from training.recommender.ranker import RankerOutcome, ranker_details, train_ranker
from training.recommender.select import kind_metrics, validate_kinds
from training.recommender.tune import (
    Budget,
    Progress,
    Search,
    Trial,
    search_als,
    tune_als,
    tune_ease,
)

RANKER_MARGIN = 1.01
# Seconds for the ALS search on a 2-core machine: ~12 trials on a 100k-customer shop, one
# (the default params) at 1M, where each fit takes a minute or more.
TIME_BUDGET = 45.0


@dataclass(frozen=True)
class TrainParams:
    """What to train: fixed ALS params or a search, the split, the candidates and k."""

    als: ALSParams | None = None  # None: search `n_trials` candidates on validation
    n_trials: int = 12
    val_fraction: float = 0.2
    split: str = "auto"  # "last" events, last "basket", one "global" cut-off, or "auto" (data)
    include_purchased: bool = False  # lists may repeat purchases: validate re-buys, "repeat"
    kinds: tuple[str, ...] = KINDS  # the champion candidates
    k: int = 10
    num_threads: int = 1
    ranker: bool = True  # also train the LightGBM re-ranker and let validation pick
    time_budget: float | None = TIME_BUDGET  # seconds for the ALS search; None: all trials
    eval_users: int | None = 20_000  # validation customers sampled for every metric
    ranker_users: int | None = 4_000  # of those, the ranker's queries (bounds its rows)
    gate_users: int = 1_000  # of those (not the ranker's), the customers the gate replays
    seed: int = 0
    # EASE L2 strengths tried on validation (a champion candidate and a ranker generator).
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
    skipped: dict[str, str] = field(default_factory=dict)
    gate: GateData | None = None

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
    """Train every candidate kind, pick the champion on validation, write its bundle.

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
        split_mode=params.split,
        include_purchased=params.include_purchased,
    )
    search = _search(ctx, params, progress)
    ease, ease_trials, ease_fit = _select_ease(ctx, params)
    fit_df, _, truth, blocked = ctx.split
    fit_arrays = _arrays(ctx, fit_df, search.factors, ease_fit, float(fit_df["ts"].max()))
    best, validation, skipped = validate_kinds(
        fit_arrays,
        truth,
        blocked,
        k=params.k,
        kinds=params.kinds,
        include_purchased=params.include_purchased,
        measured={"als": search.metrics},  # the search scored these factors on this truth
    )
    outcome = _ranker(ctx, fit_arrays, params) if params.ranker else None
    champion = _champion(outcome, validation, best, fit_arrays, ctx, params)
    details: dict[str, Any] = {
        "als": search.best.as_dict(),
        "event_weights": params.event_weights,
        "als_final_warm_iterations": warm_iterations(search.best),
        "n_users": len(ctx.users),
        "n_items": len(ctx.items),
        "ease": None if ease is None else ease.as_dict(),
        "champion": champion,
        "include_purchased": params.include_purchased,
        "split": ctx.split_mode,  # "auto" resolved
        "skipped": skipped,
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
    # EASE and the ranker ship whenever trained: the manifest's kind decides what is served.
    arrays = _final_arrays(ctx, search, ease, params.num_threads)
    write_bundle(Path(out_dir), arrays, manifest, outcome.model_text if outcome else None)
    return TrainResult(
        Path(out_dir),
        champion,
        search.best,
        validation,
        search.trials,
        ease,
        ease_trials,
        len(ctx.users),
        len(ctx.items),
        len(ctx.df),
        skipped,
        gate_sample(ctx, params.gate_users, params.seed + 2, avoid=params.ranker_users),
    )


def _champion(
    outcome: RankerOutcome | None,
    validation: dict[str, Any],
    best: str,
    fit_arrays: RecArrays,
    ctx: TrainingData,
    params: TrainParams,
) -> str:
    """The best simple kind, or "ranker" when it beats that kind by 1% on its own customers."""
    if outcome is None or "ranker" not in params.kinds:
        return best
    _, _, truth, blocked = ctx.split
    same = kind_metrics(
        fit_arrays,
        best,
        sample_truth(truth, params.ranker_users, params.seed + 1),
        blocked,
        params.k,
    )
    validation["ranker"] = outcome.metrics
    validation["als_same_users"] = outcome.als_metrics
    validation[f"{best}_same_users"] = same
    # The ranker must win clearly (1%) to be worth its extra moving parts.
    return "ranker" if outcome.metrics["ndcg"] > RANKER_MARGIN * same["ndcg"] else best


def _arrays(
    ctx: TrainingData,
    df: pd.DataFrame,
    factors: tuple[np.ndarray, np.ndarray],
    ease: tuple[np.ndarray, np.ndarray] | None,
    as_of: float,
) -> RecArrays:
    return build_arrays(
        df,
        ctx.users,
        ctx.items,
        factors,
        items_df=ctx.items_df,
        customers=ctx.customers,
        as_of=as_of,
        ease=ease,
    )


def _final_arrays(
    ctx: TrainingData, search: Search, ease: EASEParams | None, num_threads: int
) -> RecArrays:
    """ALS (warm from the validation fit) and EASE refitted on every event up to as_of."""
    weights = user_item_matrix(ctx.df, ctx.users, ctx.items)
    factors = fit_als(weights, search.best, num_threads, warm=search.factors)
    ease_model = None if ease is None else fit_ease(weights, ease, num_threads)
    return _arrays(ctx, ctx.df, factors, ease_model, ctx.cutoff)


def _ranker(ctx: TrainingData, arrays: RecArrays, params: TrainParams) -> RankerOutcome | None:
    """Fit-period candidates of `ranker_users` sampled validation customers -> LightGBM."""
    if "ranker" not in params.kinds:
        return None
    fit_df, _, truth, _ = ctx.split
    now = float(fit_df["ts"].max())
    truth = sample_truth(truth, params.ranker_users, params.seed + 1)
    data = ranking_data(arrays, truth, now, k=params.k, include_purchased=params.include_purchased)
    return train_ranker(data, truth, k=params.k, num_threads=params.num_threads)


def _search(ctx: TrainingData, params: TrainParams, progress: Progress | None) -> Search:
    """Tune ALS on the validation split (fixed params: one fit on the fit split)."""
    _, fit_w, truth, blocked = ctx.split
    if params.als is not None:
        return tune_als(
            fit_w,
            truth,
            [params.als],
            k=params.k,
            exclude=blocked,
            num_threads=params.num_threads,
            progress=progress,
        )
    return search_als(
        fit_w,
        truth,
        params.n_trials,
        k=params.k,
        exclude=blocked,
        num_threads=params.num_threads,
        progress=progress,
        budget=Budget(params.time_budget),
    )


def _select_ease(
    ctx: TrainingData, params: TrainParams
) -> tuple[EASEParams | None, list[Trial], tuple[np.ndarray, np.ndarray] | None]:
    """Tune EASE's L2 strength on validation (a candidate, and a generator of the ranker)."""
    wanted = "ease" in params.kinds or (params.ranker and "ranker" in params.kinds)
    if not wanted or not params.ease_lams:
        return None, [], None
    _, fit_w, truth, blocked = ctx.split
    grid = [EASEParams(lam=lam) for lam in params.ease_lams]
    best, trials, model = tune_ease(
        fit_w, truth, grid, k=params.k, num_threads=params.num_threads, exclude=blocked
    )
    return best, trials, model
