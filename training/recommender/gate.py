"""The recommender's promotion gate: the new bundle and the champion replay the same customers.

Both bundles are loaded by the serving runtime (`RecommenderModel`) and asked, for a seeded
sample of validation customers, for the list the API would give with its default filters and
only the customer's fit-period history (no stored state); NDCG@k is measured against the
customer's validation items (new items only unless `--include-purchased`). Both models are
judged by the same code on the same lists. Either may have been trained on some of these
validation events (the new one always was: its final fit uses every event up to `as_of`), so
the numbers are not honest generalisation estimates - the honest comparison of the candidate
kinds is the validation table; the gate only guards against a retrain that serves worse lists
than the model it would replace.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from features.settings import Settings
from models.bundle import BundleError
from models.champions import ChampionError, resolve_bundle
from models.recommender.model import RecFilters, RecommenderModel
from models.recommender.state import History
from training.recommender.evaluate import sample_truth, users_with_truth
from training.registry import CHAMPION, Promotion, current_champion, decide_promotion

if TYPE_CHECKING:
    from training.recommender.context import TrainingData

logger = logging.getLogger(__name__)

METRIC = "gate_ndcg_at_10"


@dataclass
class Replay:
    """One customer's fit-period history (item ids) and validation items."""

    customer_id: str
    segment: str | None
    items: np.ndarray  # str item ids, one entry per item
    weights: np.ndarray
    events: np.ndarray
    times: np.ndarray
    truth: frozenset[str]


@dataclass
class GateData:
    """The customers both bundles are judged on."""

    replays: list[Replay]
    k: int = 10


def gate_sample(
    ctx: TrainingData, n_users: int, seed: int, *, avoid: int | None = None, k: int = 10
) -> GateData | None:
    """A seeded sample of `n_users` validation customers with their fit history and truth.

    `avoid`: the size of the ranker's sample (seed - 1), whose validation items trained the
    ranker; its customers are left out when at least `n_users` others remain, so a ranker is
    not judged on its own training labels (nor the champion's, on the same data and seeds).
    """
    fit_df, _, truth, _ = ctx.split
    users = users_with_truth(truth)
    if avoid is not None:
        ranker = users_with_truth(sample_truth(truth, avoid, seed - 1))
        others = np.setdiff1d(users, ranker)
        users = others if len(others) >= n_users else users
    if len(users) > n_users:
        users = np.sort(np.random.default_rng(seed).choice(users, size=n_users, replace=False))
    if not len(users):
        return None
    ids = ctx.users.ids[users]
    rows = fit_df[fit_df["customer_id"].isin(ids)]
    hist = (
        rows.groupby(["customer_id", "item_id"], sort=True)
        .agg(w=("weight", "sum"), e=("event", "max"), t=("ts", "max"))
        .reset_index()
    )
    by_customer = dict(tuple(hist.groupby("customer_id", sort=False)))
    region = _regions(ctx)
    replays = []
    for user, cid in zip(users.tolist(), ids.tolist(), strict=True):
        frame = by_customer.get(cid)
        if frame is None:
            continue
        relevant = ctx.items.ids[truth.indices[truth.indptr[user] : truth.indptr[user + 1]]]
        replays.append(
            Replay(
                cid,
                region.get(cid),
                frame["item_id"].to_numpy(dtype=str),
                frame["w"].to_numpy(dtype=np.float32),
                frame["e"].to_numpy(dtype=np.int8),
                frame["t"].to_numpy(dtype=np.float64),
                frozenset(relevant.tolist()),
            )
        )
    return GateData(replays, k)


def _regions(ctx: TrainingData) -> dict[str, str]:
    customers = ctx.customers
    if customers is None or "region" not in customers.columns:
        return {}
    frame = customers.dropna(subset=["region"])
    ids = frame["customer_id"].astype("string").str.strip()
    return dict(zip(ids.tolist(), frame["region"].astype(str).tolist(), strict=True))


def replay_ndcg(model: RecommenderModel, data: GateData) -> float:
    """Mean NDCG@k of the model's default lists for the replayed customers."""
    k = data.k
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    total = 0.0
    for replay in data.replays:
        pos = np.array([model.catalog.pos.get(i, -1) for i in replay.items.tolist()], np.int64)
        known = pos >= 0
        order = np.argsort(pos[known], kind="stable")
        history = History(
            pos[known][order].astype(np.int32),
            replay.weights[known][order],
            replay.events[known][order],
            replay.times[known][order],
        )
        result = model.recommend_history(history, k, RecFilters(), replay.segment)
        hits = np.array([item.item_id in replay.truth for item in result.items[:k]], bool)
        ideal = discounts[: min(len(replay.truth), k)].sum()
        total += float((discounts[: len(hits)] * hits).sum() / ideal)
    return total / max(len(data.replays), 1)


def judge(
    settings: Settings,
    bundle_dir: Path,
    data: GateData | None,
    cache_dir: Path,
    *,
    margin: float = 0.0,
    force: bool = False,
) -> Promotion:
    """Compare the new bundle with the registered champion on the same replayed customers."""
    name = settings.recommender_model
    version = current_champion(settings, name)
    data = data or GateData([])
    started = time.monotonic()
    new, champion = float("nan"), None  # the first model needs no replay
    # One request at a time, as a worker serves it: small solves and products, where BLAS
    # threads only spin (10x the CPU on a loaded 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        if version is not None:
            new = replay_ndcg(RecommenderModel.load(bundle_dir), data)
            champion = _champion_ndcg(settings, name, cache_dir, data)
    logger.info(
        "promotion gate: %d customers replayed in %.1f s",
        len(data.replays),
        time.monotonic() - started,
    )
    return decide_promotion(METRIC, new, champion, version, margin=margin, force=force)


def _champion_ndcg(settings: Settings, name: str, cache_dir: Path, data: GateData) -> float | None:
    """The champion's replayed NDCG; None (with a warning) when it cannot be loaded or replayed."""
    try:
        bundle = resolve_bundle(settings.mlflow_tracking_uri, name, CHAMPION, cache_dir)
        return replay_ndcg(RecommenderModel.load(bundle.path), data)
    except (ChampionError, BundleError, ValueError, OSError, KeyError) as exc:
        logger.warning("the %s champion cannot be replayed: %s", name, exc)
        return None
