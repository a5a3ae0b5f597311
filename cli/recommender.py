"""`valuechain train recommender` and `valuechain recommend`: bring-your-own-data recommender."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cli.app import app, train_app
from cli.common import champion, console, fail, parse_as_of, progress_bar
from features.load import (
    DataError,
    exported_event_files,
    find_table,
    load_interactions,
    read_frame,
    write_frame,
)
from features.settings import get_settings
from models.bundle import BundleError, hash_files
from models.champions import RECOMMENDER
from models.recommender.model import RecFilters, RecommenderModel
from training.recommender.als import ALSParams
from training.recommender.bundle import check_bundle_target
from training.recommender.report import log_to_mlflow
from training.recommender.train import (
    TIME_BUDGET,
    TrainParams,
    TrainResult,
    train_recommender,
)
from training.registry import RegisteredVersion, register_bundle, training_run

logger = logging.getLogger(__name__)

DEFAULT_THREADS = min(os.cpu_count() or 1, 8)


def _inputs(
    interactions: Path | None, items: Path | None, customers: Path | None, data: Path | None
) -> tuple[Path, Path | None, Path | None]:
    if (interactions is None) == (data is None):
        raise fail("give exactly one of --interactions FILE or --data DIR")
    if data is not None:
        try:
            interactions = find_table(data, "interactions")
        except DataError as exc:
            raise fail(str(exc)) from exc
        items = items or _optional_table(data, "items")
        customers = customers or _optional_table(data, "customers")
    assert interactions is not None
    return interactions, items, customers


def _optional_table(data: Path, name: str) -> Path | None:
    try:
        return find_table(data, name)
    except DataError:
        return None


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
            help="Also train the LightGBM re-ranker; the better one on validation is champion."
        ),
    ] = True,
    ease: Annotated[
        bool,
        typer.Option(
            help="Add the EASE item-item generator to the ranker (popular 2,000 items at most)."
        ),
    ] = True,
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
    """Train the recommender, log it to MLflow and register it as champion."""
    paths = _inputs(interactions, items, customers, data)
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
    )
    if not ease:
        params = replace(params, ease_lams=())
    try:
        if keep_bundle is not None:
            check_bundle_target(keep_bundle)  # before minutes of training, not after
        frames = _read_frames(*paths, data)
        hashed = [*paths, *(exported_event_files(data) if data else [])]
        result, run_id, version = _train_and_log(
            frames, paths, hashed, params, as_of, keep_bundle, register=not no_register
        )
    except (DataError, ValueError, BundleError) as exc:
        raise fail(str(exc)) from exc
    _print_summary(result, run_id, version)


def _read_frames(
    inter_path: Path, items_path: Path | None, cust_path: Path | None, data: Path | None
) -> dict[str, pd.DataFrame | None]:
    """Read the input tables; the optional ones must have their id column.

    With `--data`, interactions include the API events exported into `<data>/events/`.
    """
    frames = {
        name: read_frame(p) if p else None
        for name, p in (
            ("interactions", inter_path),
            ("items", items_path),
            ("customers", cust_path),
        )
    }
    if data is not None:
        frames["interactions"] = load_interactions(data)
    _require(frames["customers"], cust_path, "customer_id")
    _require(frames["items"], items_path, "item_id")
    return frames


def _train_and_log(
    frames: dict[str, pd.DataFrame | None],
    paths: tuple[Path, Path | None, Path | None],
    hashed: list[Path | None],
    params: TrainParams,
    as_of: str | None,
    keep_bundle: Path | None,
    register: bool,
) -> tuple[TrainResult, str, RegisteredVersion | None]:
    """Train inside an MLflow run; register the bundle as champion when `register`."""
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
        version = None
        if register:
            version = register_bundle(settings, settings.recommender_model, result.bundle_dir)
    return result, run.info.run_id, version


def _print_summary(result: TrainResult, run_id: str, version: RegisteredVersion | None) -> None:
    """One line: what was registered (or not) and the validation NDCG@10 of each model."""
    val = result.validation
    if version is None:
        head = f"logged run {run_id}, not registered (--no-register)"
    else:
        head = f"registered {version.name} version {version.version} (champion, run {run_id})"
    print(
        f"{head}: {result.n_users} customers, {result.n_items} items; validation "
        f"NDCG@10 als {val['als']['ndcg']:.4f} vs popularity {val['popularity']['ndcg']:.4f}"
        + "".join(f", {name} {val[name]['ndcg']:.4f}" for name in ("ease", "ranker") if name in val)
        + f"; champion: {result.champion}"
    )


def _require(frame: pd.DataFrame | None, path: Path | None, column: str) -> None:
    if frame is not None and column not in frame.columns:
        raise DataError(
            str(path), f"missing required column; found {list(frame.columns)}", column=column
        )


@app.command("recommend")
def recommend_cmd(
    customers: Annotated[Path, typer.Option(help="CSV/Parquet with a customer_id column.")],
    out: Annotated[Path, typer.Option(help="Output CSV: customer_id, rank, item_id, score.")],
    k: Annotated[int, typer.Option(min=1, max=1000, help="Items per customer.")] = 10,
) -> None:
    """Batch recommendations with the champion, excluding each customer's training items."""
    try:
        frame = read_frame(customers)
        _require(frame, customers, "customer_id")
    except DataError as exc:
        raise fail(str(exc)) from exc
    loaded = champion(RECOMMENDER)
    rows = _recommend_all(loaded.model, frame["customer_id"], k)
    _write_csv(rows, out)
    print(
        f"wrote {len(rows):,} rows for {frame['customer_id'].nunique():,} customers to {out} "
        f"(model version {loaded.version})"
    )


def _recommend_all(model: RecommenderModel, ids: pd.Series, k: int) -> pd.DataFrame:
    records: list[tuple[str, int, str, float]] = []
    unique = ids.astype("string").str.strip().dropna().unique().tolist()
    with progress_bar("recommending") as update:
        for n, cid in enumerate(unique):
            state = model.online_state(cid)
            seen = frozenset(model.history_item_ids(cid))
            result = model.recommend(
                state, [], k, RecFilters(exclude=seen), segment=model.customer_segment(cid)
            )
            records.extend(
                (cid, rank, item.item_id, item.score)
                for rank, item in enumerate(result.items, start=1)
            )
            if n % 500 == 0 or n + 1 == len(unique):
                update(n + 1, len(unique))
    return pd.DataFrame(records, columns=["customer_id", "rank", "item_id", "score"])


def _write_csv(rows: pd.DataFrame, out: Path) -> None:
    write_frame(rows, out)
    console.print(f"[green]ok[/green] {out}")
