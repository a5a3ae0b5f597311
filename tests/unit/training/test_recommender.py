"""Recommender training: validation, splits, metrics, and the train/recommend CLI end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from features.load import DataError
from models.recommender.candidates import FEATURES as FEATURE_NAMES
from training.recommender.data import temporal_split, validate_interactions
from training.recommender.evaluate import ranking_metrics

N_CLUSTERS, PER_CLUSTER = 4, 10
COMPLEMENT = ("i12", "i17")


def planted_world(
    n_users: int = 120, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Users who only touch items of their taste cluster (= category); prices rise within a
    category; two-thirds of cluster-1 users buy the planted complement pair together."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for u in range(n_users):
        cluster = u % N_CLUSTERS
        for _ in range(15):
            item = cluster * PER_CLUSTER + int(rng.integers(PER_CLUSTER))
            event = rng.choice(["view", "cart", "purchase"], p=[0.7, 0.15, 0.15])
            day = pd.Timedelta(hours=int(rng.integers(60 * 24)))
            rows.append((f"u{u}", f"i{item}", start + day, event))
        if cluster == 1 and u % 3:
            day = pd.Timedelta(hours=int(rng.integers(60 * 24)))
            rows += [(f"u{u}", item, start + day, "purchase") for item in COMPLEMENT]
    interactions = pd.DataFrame(rows, columns=["customer_id", "item_id", "timestamp", "event_type"])
    n_items = N_CLUSTERS * PER_CLUSTER
    items = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(n_items)],
            "category": [f"cat{j // PER_CLUSTER}" for j in range(n_items)],
            "price": [10.0 * (1 + j % PER_CLUSTER) for j in range(n_items)],
            "brand": ["acme"] * n_items,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [f"u{u}" for u in range(n_users)],
            "region": ["north" if u % 2 else "south" for u in range(n_users)],
        }
    )
    return interactions, items, customers


def test_metrics_on_a_hand_made_example() -> None:
    # user 0: relevant {1, 3}; recs [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: relevant {5}; recs [4, 6, -1] -> no hit
    truth = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 3, 5])), shape=(2, 10))
    recs = np.array([[1, 2, 3], [4, 6, -1]])
    m = ranking_metrics(recs, truth, np.array([0, 1]), k=3, n_items=10)
    assert m["precision"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["recall"] == pytest.approx((1.0 + 0) / 2)
    dcg = 1 + 1 / np.log2(4)
    idcg = 1 + 1 / np.log2(3)
    assert m["ndcg"] == pytest.approx(dcg / idcg / 2)
    assert m["map"] == pytest.approx((1 + 2 / 3) / 2 / 2)
    assert m["coverage"] == pytest.approx(5 / 10)


def test_temporal_split_holds_out_each_customers_latest_events() -> None:
    df = validate_interactions(planted_world(20)[0], "x.csv")
    train, hold = temporal_split(df, 0.2)
    assert len(train) + len(hold) == len(df)
    last_train = train.groupby("customer_id")["ts"].max()
    first_hold = hold.groupby("customer_id")["ts"].min()
    assert (first_hold >= last_train.reindex(first_hold.index)).all()
    assert hold.groupby("customer_id").size().min() >= 1


def test_missing_column_names_file_and_column() -> None:
    raw = planted_world(8)[0].drop(columns=["item_id"])
    with pytest.raises(DataError, match=r"x\.csv.*'item_id'"):
        validate_interactions(raw, "x.csv")


def test_bad_event_type_names_the_row() -> None:
    raw = planted_world(8)[0]
    raw.loc[3, "event_type"] = "like"
    with pytest.raises(DataError, match=r"'event_type', row 4"):
        validate_interactions(raw, "x.csv")


def test_weight_column_overrides_event_weights() -> None:
    raw = planted_world(4)[0].drop(columns=["event_type"]).assign(weight=2.5)
    df = validate_interactions(raw, "x.csv")
    assert (df["weight"] == 2.5).all()
    assert (df["event"] == 2).all()  # no event_type: every row counts as a purchase


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from features.settings import get_settings

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_train_and_recommend(cli_env: Path) -> None:
    import cli.recommend
    import cli.recommender  # noqa: F401  (attaches the commands)
    from cli.app import app

    interactions, items, customers = planted_world(60)
    interactions.to_csv(cli_env / "interactions.csv", index=False)
    items.to_csv(cli_env / "items.csv", index=False)
    customers.to_csv(cli_env / "customers.csv", index=False)
    runner = CliRunner()
    train = runner.invoke(
        app,
        [
            "train",
            "recommender",
            "--interactions",
            str(cli_env / "interactions.csv"),
            "--items",
            str(cli_env / "items.csv"),
            "--customers",
            str(cli_env / "customers.csv"),
            "--trials",
            "2",
        ],
    )
    assert train.exit_code == 0, train.output
    pd.DataFrame({"customer_id": ["u0", "u1", "nobody"]}).to_csv(cli_env / "who.csv", index=False)
    out = cli_env / "recs.csv"
    rec = runner.invoke(
        app, ["recommend", "--customers", str(cli_env / "who.csv"), "--k", "3", "--out", str(out)]
    )
    assert rec.exit_code == 0, rec.output
    recs = pd.read_csv(out)
    assert list(recs.columns) == ["customer_id", "rank", "item_id", "score"]
    assert recs.groupby("customer_id").size().to_dict() == {"nobody": 3, "u0": 3, "u1": 3}
    seen = set(interactions.loc[interactions["customer_id"] == "u0", "item_id"])
    assert not seen & set(recs.loc[recs["customer_id"] == "u0", "item_id"])


def test_cli_missing_column_fails_cleanly(cli_env: Path) -> None:
    import cli.recommend
    import cli.recommender  # noqa: F401
    from cli.app import app

    planted_world(8)[0].drop(columns=["timestamp"]).to_csv(cli_env / "bad.csv", index=False)
    result = CliRunner().invoke(
        app, ["train", "recommender", "--interactions", str(cli_env / "bad.csv")]
    )
    assert result.exit_code != 0
    assert "bad.csv" in result.output and "timestamp" in result.output


def _weights(n_users: int = 120) -> tuple[sp.csr_matrix, np.ndarray]:
    from training.recommender.data import Index, user_item_matrix

    df = validate_interactions(planted_world(n_users)[0], "x.csv")
    items = Index(np.unique(df["item_id"]))
    return user_item_matrix(df, Index(np.unique(df["customer_id"])), items), items.ids


def test_ease_links_items_of_the_same_taste_cluster() -> None:
    from training.recommender.ease import EASEParams, fit_ease

    weights, ids = _weights()
    covered, b = fit_ease(weights, EASEParams(lam=10.0))
    assert b.shape == (len(covered), len(covered)) and np.all(np.diag(b) == 0)
    clusters = np.array([int(i[1:]) // PER_CLUSTER for i in ids[covered]])
    best = np.argmax(b, axis=1)
    assert np.mean(clusters[best] == clusters) > 0.95


def test_ease_guard_keeps_only_the_popular_head() -> None:
    from training.recommender.ease import EASEParams, ease_scores, fit_ease

    weights, _ = _weights()
    covered, b = fit_ease(weights, EASEParams(max_items=7, min_users=1))
    users_per_item = np.diff((weights > 0).tocsc().indptr)
    assert len(covered) == 7 and b.shape == (7, 7)
    assert users_per_item[covered].min() >= np.sort(users_per_item)[-7]
    scores = ease_scores(weights, covered, b, np.array([0, 1]))
    outside = np.setdiff1d(np.arange(weights.shape[1]), covered)
    assert np.all(np.isneginf(scores[:, outside])) and np.all(np.isfinite(scores[:, covered]))
    empty, _ = fit_ease(weights, EASEParams(min_users=10_000))
    assert len(empty) == 0  # nothing popular enough: no EASE generator, no crash


def test_ranker_training_candidates_follow_the_serving_exclusion_rule() -> None:
    """Train/serve skew guard: training used to drop every history item from the candidates,
    while serving drops only purchases, so viewed items reached the ranker unseen in training."""
    from models.recommender.catalog import Catalog
    from models.recommender.state import History
    from models.recommender.types import PURCHASE, RecFilters
    from training.recommender.als import ALSParams, fit_als
    from training.recommender.artifacts import build_arrays
    from training.recommender.candidates import ranking_data
    from training.recommender.data import Index, user_item_matrix

    df = validate_interactions(planted_world(40)[0], "x.csv")
    users, items = Index(np.unique(df["customer_id"])), Index(np.unique(df["item_id"]))
    fit_df, val_df = temporal_split(df, 0.2)
    fit_w = user_item_matrix(fit_df, users, items)
    factors = fit_als(fit_w, ALSParams(factors=8, iterations=5))
    now = float(fit_df["ts"].max())
    arrays = build_arrays(fit_df, users, items, factors, items_df=None, customers=None, as_of=now)
    data = ranking_data(arrays, user_item_matrix(val_df, users, items), now)
    catalog, bounds = Catalog(arrays), np.concatenate([[0], np.cumsum(data.groups)])
    repeated = 0
    for g, user in enumerate(data.users.tolist()):
        s, e = arrays.hist_indptr[user], arrays.hist_indptr[user + 1]
        history = History(
            arrays.hist_items[s:e],
            arrays.hist_weights[s:e],
            arrays.hist_events[s:e],
            arrays.hist_times[s:e],
        )
        allowed = catalog.allowed(RecFilters(), history)
        cands = data.items[bounds[g] : bounds[g + 1]]
        assert allowed[cands].all()  # nothing serving would refuse
        assert set(history.items[history.events == PURCHASE].tolist()).isdisjoint(cands)
        repeated += len(np.intersect1d(cands, history.items))
    assert repeated > 0  # viewed/carted items are candidates, as at serving time


def _synthetic_ranking(seed: int = 0, n_groups: int = 240, per: int = 20) -> tuple[Any, Any]:
    """Groups of candidates whose first feature carries the label (plus noise)."""
    from training.recommender.candidates import RankingData

    rng = np.random.default_rng(seed)
    items = np.concatenate([rng.permutation(per) for _ in range(n_groups)])
    labels = (rng.random(len(items)) < 0.15).astype(np.float32)
    feats = rng.normal(size=(len(items), len(FEATURE_NAMES))).astype(np.float32)
    feats[:, 0] += 1.5 * labels
    rows = np.repeat(np.arange(n_groups), per)
    truth = sp.csr_matrix(
        (labels[labels > 0], (rows[labels > 0], items[labels > 0])), shape=(n_groups, per)
    )
    data = RankingData(
        np.arange(n_groups),
        np.full(n_groups, per, np.int64),
        items,
        feats,
        labels,
        np.tile(np.arange(10), (n_groups, 1)),
    )
    return data, truth


def test_out_of_fold_scores_do_not_depend_on_their_own_labels() -> None:
    """The ranker-vs-ALS comparison used to score customers whose labels had chosen the rounds;
    now an outer fold's scores must not change when only that fold's labels change."""
    from dataclasses import replace

    from training.recommender.ranker import RankerSetup, _folds, nested_scores

    data, truth = _synthetic_ranking()
    scores, _ = nested_scores(RankerSetup(data, truth, 5, 1, 7))
    rows0 = data.rows_of(_folds(len(data.groups), 7) == 0)
    labels = data.labels.copy()
    labels[rows0] = np.random.default_rng(1).permutation(labels[rows0])
    truth2 = truth.tolil()
    for g in np.flatnonzero(_folds(len(data.groups), 7) == 0).tolist():
        truth2[g, :] = 0
        sl = slice(g * 20, (g + 1) * 20)
        truth2[g, data.items[sl][labels[sl] > 0]] = 1
    changed = replace(data, labels=labels)
    again, _ = nested_scores(RankerSetup(changed, truth2.tocsr(), 5, 1, 7))
    assert np.array_equal(again[rows0], scores[rows0])
    assert not np.array_equal(again[~rows0], scores[~rows0])  # fold 1 learns from fold 0


def test_keep_bundle_refuses_a_directory_that_is_not_a_bundle(cli_env: Path) -> None:
    import cli.recommend
    import cli.recommender  # noqa: F401
    from cli.app import app

    planted_world(30)[0].to_csv(cli_env / "interactions.csv", index=False)
    precious = cli_env / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    result = CliRunner().invoke(
        app,
        [
            "train",
            "recommender",
            "--interactions",
            str(cli_env / "interactions.csv"),
            "--no-ranker",
            "--trials",
            "1",
            "--keep-bundle",
            str(precious),
        ],
    )
    assert result.exit_code != 0
    assert "not a model bundle" in result.output and "precious" in result.output
    assert (precious / "thesis.txt").read_text() == "do not delete"


def test_no_register_logs_a_run_but_registers_nothing(cli_env: Path) -> None:
    import mlflow

    import cli.recommend
    import cli.recommender  # noqa: F401
    from cli.app import app

    planted_world(30)[0].to_csv(cli_env / "interactions.csv", index=False)
    kept = cli_env / "kept"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "recommender",
            "--interactions",
            str(cli_env / "interactions.csv"),
            "--no-ranker",
            "--trials",
            "1",
            "--no-register",
            "--keep-bundle",
            str(kept),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "not registered" in result.output and (kept / "manifest.json").is_file()
    client = mlflow.MlflowClient(f"sqlite:///{cli_env}/mlflow.db")
    assert client.search_registered_models() == []
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1 and "val_als_ndcg" in runs[0].data.metrics
    # Training again into the kept bundle replaces it (it is a bundle, so that is allowed).
    again = CliRunner().invoke(
        app,
        [
            "train",
            "recommender",
            "--interactions",
            str(cli_env / "interactions.csv"),
            "--no-ranker",
            "--trials",
            "1",
            "--no-register",
            "--keep-bundle",
            str(kept),
        ],
    )
    assert again.exit_code == 0, again.output
