"""The tabular trainer: it learns a known signal, calibrates, tiers monotonically, round-trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from models.scoring.scorer import TabularScorer
from models.scoring.specs import encode_frame
from training.scoring.calibrate import check_bands
from training.scoring.select import fast_auc
from training.scoring.split import split_rows
from training.scoring.table import TableError, infer_spec, read_labels
from training.scoring.train import TrainConfig, train_scorer

TEXT = {
    "recency_days": "no purchase for {value:.0f} days",
    "unresolved_tickets": "{value:.0f} unresolved tickets",
}


def make_table(n: int, seed: int) -> pd.DataFrame:
    """Churn rises with recency and unresolved tickets, falls for referrals; `noise` is noise."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(40, n)
    tickets = rng.poisson(0.6, n).astype(float)
    source = rng.choice(["web", "referral", "ads"], n)
    logit = -2.2 + 0.035 * recency + 0.9 * tickets - 0.8 * (source == "referral")
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": [f"c{seed}-{i}" for i in range(n)],
            "recency_days": recency,
            "unresolved_tickets": tickets,
            "source": pd.array(source, dtype="string"),
            "vip": rng.random(n) < 0.2,
            "noise": rng.normal(size=n),
            "churned": churned.astype(int),
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TabularScorer:
    bundle = tmp_path_factory.mktemp("scoring") / "bundle"
    config = TrainConfig("churn", "churned", "customer_id", feature_text=TEXT, n_trials=2)
    return train_scorer(make_table(1500, seed=1), config, bundle).scorer


def test_feature_typing_keeps_categories() -> None:
    spec = infer_spec(make_table(200, 0), "churned", "customer_id", None)
    kinds = {f.name: f.kind for f in spec.features}
    assert kinds == {
        "recency_days": "numeric",
        "unresolved_tickets": "numeric",
        "source": "categorical",
        "vip": "bool",
        "noise": "numeric",
    }
    assert next(f for f in spec.features if f.name == "source").categories == (
        "ads",
        "referral",
        "web",
    )


def test_model_ranks_known_signal(trained: TabularScorer) -> None:
    fresh = make_table(2000, seed=7)
    prob = trained.score_frame(fresh)["probability"]
    assert roc_auc_score(fresh["churned"], prob) > 0.75


def test_calibration_keeps_or_improves_brier(trained: TabularScorer) -> None:
    fresh = make_table(3000, seed=8)
    x = encode_frame(fresh, trained.specs)
    raw_prob = 1 / (1 + np.exp(-trained.raw_score(x)))
    calibrated = trained.probabilities(x)
    assert brier_score_loss(fresh["churned"], calibrated) <= (
        brier_score_loss(fresh["churned"], raw_prob) + 0.002
    )
    assert trained.manifest.details["model"]["calibration"] in ("platt", "isotonic")


def test_tiers_are_monotone_in_probability(trained: TabularScorer) -> None:
    thresholds = trained.manifest.details["tiers"]["thresholds"]
    assert thresholds == sorted(thresholds, reverse=True)
    frame = trained.score_frame(make_table(1000, seed=9)).sort_values("probability")
    rank = {"low": 0, "medium": 1, "high": 2}
    ranks = frame["tier"].map(rank).to_numpy()
    assert (np.diff(ranks) >= 0).all()
    assert set(frame["tier"]) == {"low", "medium", "high"}
    assert (np.diff(frame["score"].to_numpy()) >= 0).all()


def test_bundle_round_trip_without_pickle(trained: TabularScorer, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(trained.bundle_dir, copy)
    for path in copy.iterdir():
        assert path.suffix in (".json", ".txt"), path
        if path.suffix == ".json":
            json.loads(path.read_text())
    fresh = make_table(300, seed=10)
    again = TabularScorer.load(copy, "churn")
    pd.testing.assert_frame_equal(again.score_frame(fresh), trained.score_frame(fresh))


def test_lead_kind_grades_a_to_d(tmp_path: Path) -> None:
    table = make_table(800, seed=3).rename(columns={"churned": "converted"})
    config = TrainConfig("lead", "converted", "customer_id", n_trials=1, allow_linear=False)
    scorer = train_scorer(table, config, tmp_path / "lead").scorer
    assert scorer.manifest.details["model"]["weight"] == 1.0
    frame = scorer.score_frame(table).sort_values("probability")
    grades = frame["tier"].to_numpy()
    assert set(grades) == {"A", "B", "C", "D"}
    assert list(grades) == sorted(grades, reverse=True)


def test_time_split_orders_slices_and_keeps_snapshots_together() -> None:
    times = pd.Series(
        pd.to_datetime(["2024-01-01"] * 40 + ["2024-02-01"] * 30 + ["2024-03-01"] * 30)
    )
    y = np.tile([0, 1], 50)
    splits = split_rows(y, times)
    assert splits.by_time
    assert times[splits.train].max() < times[splits.validation].min()
    assert times[splits.validation].max() < times[splits.calibration].min()
    assert len(splits.train) + len(splits.validation) + len(splits.calibration) == 100


def test_time_split_needs_three_periods() -> None:
    times = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"] * 20))
    with pytest.raises(TableError, match="distinct"):
        split_rows(np.tile([0, 1], 20), times)


def test_labels_accept_yes_no_and_name_bad_rows() -> None:
    frame = pd.DataFrame({"y": ["Yes", "no", "YES", "No"]})
    assert read_labels(frame, "y").tolist() == [1, 0, 1, 0]
    # Rows are 1-based data rows, as in features.load (the third row holds the bad label).
    with pytest.raises(TableError, match=r"data.csv, column 'y', row 3"):
        read_labels(pd.DataFrame({"y": [0, 1, 2]}), "y", "data.csv")


def test_missing_label_column_names_file_and_column() -> None:
    with pytest.raises(TableError, match=r"t.csv: no column 'label'"):
        infer_spec(make_table(20, 0), "label", None, None, "t.csv")


def test_a_probability_on_a_threshold_reaches_that_tier(trained: TabularScorer) -> None:
    # Guards the off-by-one where p == threshold fell into the tier below.
    thresholds = np.asarray(trained.manifest.details["tiers"]["thresholds"], dtype=float)
    assert trained.tiers(thresholds) == ["high", "medium"]
    assert trained.tiers(np.nextafter(thresholds, 0)) == ["medium", "low"]


def test_churn_tiers_are_probability_bands_by_default(trained: TabularScorer) -> None:
    # Guards issue 10: tiers were population shares, so a 0.73 probability could be "low".
    tiers = trained.manifest.details["tiers"]
    assert tiers["thresholds"] == [0.66, 0.33] and tiers["basis"] == "probability bands"
    assert trained.tiers(np.array([0.73, 0.5, 0.1])) == ["high", "medium", "low"]
    population = trained.manifest.details["population"]
    assert len(population["quantiles"]) == 101 and population["rows"] > 0


def test_tier_bands_are_configurable_and_checked(tmp_path: Path) -> None:
    config = TrainConfig("churn", "churned", n_trials=1, tier_bands=(0.8, 0.2))
    scorer = train_scorer(make_table(600, seed=8), config, tmp_path / "b").scorer
    assert scorer.manifest.details["tiers"]["thresholds"] == [0.8, 0.2]
    assert scorer.tiers(np.array([0.79])) == ["medium"]
    with pytest.raises(ValueError, match="strictly descending"):
        check_bands(("high", "medium", "low"), (0.2, 0.8))
    with pytest.raises(ValueError, match="needs 3 values"):
        check_bands(("A", "B", "C", "D"), (0.5, 0.2))


def test_an_older_bundle_without_population_still_scores(
    trained: TabularScorer, tmp_path: Path
) -> None:
    copy = tmp_path / "old"
    shutil.copytree(trained.bundle_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["details"]["population"]
    for feature in manifest["details"]["features"]:
        feature.pop("example", None)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    old = TabularScorer.load(copy, "churn")
    scored = old.score_records([{"recency_days": 10.0}])[0]
    assert scored.percentile is None and 0 < scored.probability < 1
    assert trained.score_records([{"recency_days": 10.0}])[0].percentile is not None


def test_fast_auc_matches_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.normal(size=500) + y, 1)  # rounded: many ties
    assert fast_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_small_table_is_chosen_by_k_fold_never_below_the_baselines(
    trained: TabularScorer,
) -> None:
    params = trained.manifest.details["params"]
    assert params["selection"].startswith("repeated stratified 5-fold")
    metrics = trained.manifest.details["metrics"]
    assert metrics["val_auc_chosen"] >= max(
        metrics["val_auc_default_lightgbm"], metrics["val_auc_logistic_regression"]
    )
