"""`valuechain train recommender`: bring-your-own-data recommender, selection and promotion gate."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cli import train_report as report
from cli.app import train_app
from cli.common import fail, parse_as_of, progress_bar
from cli.recommender_inputs import inputs, read_frames
from features.load import (
    DataError,
    exported_event_files,
)
from features.settings import get_settings
from models.bundle import BundleError, hash_files
from models.recommender.scorers import KINDS
from training.recommender.als import ALSParams
from training.recommender.bundle import check_bundle_target
from training.recommender.data import SPLITS
from training.recommender.gate import judge
from training.recommender.report import log_to_mlflow
from training.recommender.train import (
    TIME_BUDGET,
    TrainParams,
    TrainResult,
    train_recommender,
)
from training.registry import (
    Promotion,
    RegisteredVersion,
    log_promotion,
    register_bundle,
    training_run,
)

logger = logging.getLogger(__name__)

DEFAULT_THREADS = min(os.cpu_count() or 1, 8)


@train_app.command("recommender")
def train_recommender_cmd(
    interactions: Annotated[
        Path | None,
        typer.Option(help="CSV/Parquet: customer_id, item_id, timestamp[, event_type][, weight]."),
    ] = None,
    items: Annotated[
        Path | None, typer.Option(help="Optional CSV/Parquet: item_id[, category, price, brand].")
    ] = None,
    customers: Annotated[
        Path | None,
        typer.Option(help="Optional CSV/Parquet: customer_id, region (segments for cold start)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="A data directory with interactions/items/customers .parquet or .csv."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Use only events up to this date (YYYY-MM-DD); default: the latest event."
        ),
    ] = None,
    trials: Annotated[
        int,
        typer.Option(
            min=1, help="ALS candidates tried on the validation split (at most: see --time-budget)."
        ),
    ] = 12,
    factors: Annotated[
        int | None,
        typer.Option(help="Fix ALS factors (with --regularization, --alpha) instead of searching."),
    ] = None,
    regularization: Annotated[float, typer.Option(help="ALS regularization when fixed.")] = 0.05,
    alpha: Annotated[float, typer.Option(help="ALS confidence alpha when fixed.")] = 2.0,
    threads: Annotated[
        int, typer.Option(min=1, help="Threads for ALS and LightGBM (LightGBM: idle cores only).")
    ] = DEFAULT_THREADS,
    time_budget: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds for the ALS search: no trial starts that would overrun it "
            "(at least one runs); 0: all --trials.",
        ),
    ] = TIME_BUDGET,
    eval_users: Annotated[
        int, typer.Option(min=1, help="Validation customers sampled (seeded) for every metric.")
    ] = 20_000,
    ranker_users: Annotated[
        int, typer.Option(min=1, help="Of those, customers whose candidates train the ranker.")
    ] = 4_000,
    ranker: Annotated[
        bool,
        typer.Option(
            help="Also train the LightGBM re-ranker (champion when >= 1% better on validation "
            "than the best other candidate)."
        ),
    ] = True,
    ease: Annotated[
        bool,
        typer.Option(
            help="Train EASE: a champion candidate and a ranker generator (its item x item "
            "matrix covers the 2,000 most popular items at most)."
        ),
    ] = True,
    split: Annotated[
        str,
        typer.Option(
            help="Validation holdout by time: 'last' (each customer's last 20% of events), "
            "'basket' (each customer's last basket: the events at their latest timestamp), "
            "'global' (every event after one cut-off at the 80% time quantile), or 'auto' "
            "(basket when orders average 3+ lines, i.e. events per customer and timestamp; "
            "else last)."
        ),
    ] = "auto",
    include_purchased: Annotated[
        bool,
        typer.Option(
            help="Lists may repeat purchased items (shops where reorders dominate): validation "
            "counts re-buys, the 'repeat' candidate takes part, and the API's "
            "include_purchased defaults to true for this model."
        ),
    ] = False,
    candidates: Annotated[
        str,
        typer.Option(
            help="Comma-separated champion candidates among " + ", ".join(KINDS) + " (all by "
            "default; ALS is always fitted: fold-in, reasons and similar items use it)."
        ),
    ] = ",".join(KINDS),
    gate_users: Annotated[
        int,
        typer.Option(
            min=1, help="Validation customers the promotion gate replays (not the ranker's)."
        ),
    ] = 1_000,
    promotion_margin: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Promotion gate: the new version becomes @champion only if its replayed "
            "NDCG@10 is at least the champion's on the same customers minus this margin; "
            "otherwise @challenger.",
        ),
    ] = 0.0,
    force: Annotated[
        bool,
        typer.Option(help="Make the new version @champion even if it is worse than the champion."),
    ] = False,
    keep_bundle: Annotated[
        Path | None,
        typer.Option(
            help="Also keep the bundle in this directory (absent, empty or an older bundle)."
        ),
    ] = None,
    no_register: Annotated[
        bool,
        typer.Option(
            "--no-register",
            help="Log to MLflow but do not register the model (no champion change).",
        ),
    ] = False,
) -> None:
    """Train every candidate, pick the best on a time-based validation, register it.

    The new version becomes @champion when the promotion gate passes, else @challenger.
    """
    paths = inputs(interactions, items, customers, data)
    kinds = _kinds(candidates)
    if split not in SPLITS:
        raise fail(f"--split must be one of {list(SPLITS)}, not {split!r}")
    als = (
        None
        if factors is None
        else ALSParams(factors=factors, regularization=regularization, alpha=alpha)
    )
    params = TrainParams(
        als=als,
        n_trials=trials,
        num_threads=threads,
        ranker=ranker,
        time_budget=time_budget or None,
        eval_users=eval_users,
        ranker_users=ranker_users,
        gate_users=gate_users,
        split=split,
        include_purchased=include_purchased,
        kinds=kinds,
    )
    gate = Gate(promotion_margin, force)
    if not ease:
        params = replace(params, ease_lams=())
    try:
        if keep_bundle is not None:
            check_bundle_target(keep_bundle)  # before minutes of training, not after
        frames = read_frames(*paths, data)
        hashed = [*paths, *(exported_event_files(data) if data else [])]
        result, run_id, version, verdict = _train_and_log(
            frames, paths, hashed, params, as_of, keep_bundle, gate if not no_register else None
        )
    except (DataError, ValueError, BundleError) as exc:
        raise fail(str(exc)) from exc
    report.recommender_summary(result, run_id, version)
    report.promotion(version, verdict)


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise fail(f"--candidates: unknown {unknown}; choose among {list(KINDS)}")
    return kinds


def _train_and_log(
    frames: dict[str, pd.DataFrame | None],
    paths: tuple[Path, Path | None, Path | None],
    hashed: list[Path | None],
    params: TrainParams,
    as_of: str | None,
    keep_bundle: Path | None,
    gate: Gate | None,
) -> tuple[TrainResult, str, RegisteredVersion | None, Promotion | None]:
    """Train inside an MLflow run; register the bundle with the gate's alias (None: don't)."""
    settings = get_settings()
    interactions = frames["interactions"]
    assert interactions is not None
    with (
        tempfile.TemporaryDirectory() as tmp,
        training_run(settings, "recommender") as run,
        progress_bar("ALS search") as update,
    ):
        result = train_recommender(
            interactions,
            frames["items"],
            keep_bundle or Path(tmp) / "bundle",
            customers=frames["customers"],
            as_of=parse_as_of(as_of),
            params=params,
            source=str(paths[0]),
            data_hash=hash_files(*[p for p in hashed if p is not None]),
            progress=update,
        )
        log_to_mlflow(result, Path(tmp))
        version, verdict = None, None
        if gate is not None:
            verdict = judge(
                settings,
                result.bundle_dir,
                result.gate,
                Path(tmp) / "champion",
                margin=gate.margin,
                force=gate.force,
            )
            log_promotion(verdict, report.recommender_baselines(result))
            version = register_bundle(
                settings, settings.recommender_model, result.bundle_dir, alias=verdict.alias
            )
    return result, run.info.run_id, version, verdict


@dataclass(frozen=True)
class Gate:
    """The promotion gate's options."""

    margin: float
    force: bool
