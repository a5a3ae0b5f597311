"""Churn reasons explained at materialize answer what the API would compute from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.load import DataError
from features.materialize_table import materialize_own
from features.redis_store import RedisOnlineStore
from models.champions import LoadedModel
from models.scoring.scorer import TabularScorer
from service.scoring import TOP_REASONS, churn_scored
from tests.unit.training.test_scoring import TEXT, make_table
from training.scoring.train import TrainConfig, train_scorer


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> TabularScorer:
    bundle: Path = tmp_path_factory.mktemp("explained-cache") / "bundle"
    config = TrainConfig("churn", "churned", "customer_id", feature_text=TEXT, n_trials=1)
    return train_scorer(make_table(1500, seed=4), config, bundle).scorer


def _table() -> pd.DataFrame:
    return make_table(20, seed=9).drop(columns=["churned"]).set_index("customer_id")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the linear part on an infinite value
def test_infinite_features_are_explained_as_the_cache_holds_them(
    store: RedisOnlineStore, scorer: TabularScorer
) -> None:
    # The cache stores +-inf as null (JSON); the blob must explain the same (missing) value.
    table = _table()
    table.loc[table.index[0], "recency_days"] = np.inf
    table.loc[table.index[1], "noise"] = -np.inf
    materialize_own(store, table, churn=scorer)
    meta, records = store.read_meta(), store.read_customers(list(table.index[:3]))
    assert all("churn" in r.explained for r in records)
    churn = LoadedModel("churn", "1", None, scorer)
    for record in records:
        (served,) = churn_scored(churn, [record], meta)
        (live,) = scorer.score_records([record.features], top_reasons=TOP_REASONS)
        assert served.probability == pytest.approx(live.probability, rel=1e-9)
        assert served.missing == live.missing
        for mine, theirs in (
            (served.reasons_up, live.reasons_up),
            (served.reasons_down, live.reasons_down),
        ):
            assert [(r.feature, r.value) for r in mine] == [(r.feature, r.value) for r in theirs]


@pytest.mark.parametrize("explain_max", [250_000, 5])
def test_a_non_numeric_feature_is_a_data_error_naming_the_file(
    store: RedisOnlineStore, scorer: TabularScorer, explain_max: int
) -> None:
    table = _table().astype({"noise": object})
    table.loc[table.index[2], "noise"] = "abc"
    with pytest.raises(DataError, match=r"t\.csv.*cannot score the churn model's features"):
        materialize_own(store, table, source="t.csv", churn=scorer, explain_max=explain_max)
    assert store.current_version() is None


def test_a_blob_of_another_bundle_is_not_served_whatever_the_meta_says(
    store: RedisOnlineStore, scorer: TabularScorer, tmp_path: Path
) -> None:
    # Records and meta are two reads: across a new cache version (after a promotion) the records
    # can come from a version explained by the old champion while the meta names the loaded one.
    config = TrainConfig("churn", "churned", "customer_id", feature_text=TEXT, n_trials=1)
    other = train_scorer(make_table(1500, seed=5), config, tmp_path / "other").scorer
    assert other.fingerprint != scorer.fingerprint
    table = _table()
    materialize_own(store, table, churn=scorer)
    (record,) = store.read_customers([str(table.index[0])])
    meta = {**store.read_meta(), "explained": {"churn": other.fingerprint}}
    (served,) = churn_scored(LoadedModel("churn", "2", None, other), [record], meta)
    (live,) = other.score_records([record.features], top_reasons=TOP_REASONS)
    assert served.probability == pytest.approx(live.probability, rel=1e-9)
    assert [r.feature for r in served.reasons_up] == [r.feature for r in live.reasons_up]
