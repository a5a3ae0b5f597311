"""Two recommender champions trained on one small world with planted structure.

Behaviour tests take the `champion` fixture and run once against the ALS champion and once
against the LightGBM re-ranker champion: whichever validation picks, the service must behave.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.bundle import read_manifest, write_manifest
from models.recommender.model import RecommenderModel
from tests.unit.training.test_recommender import planted_world
from training.recommender.als import ALSParams
from training.recommender.train import TrainParams, train_recommender

ALS = ALSParams(factors=16, regularization=0.1, alpha=5.0, iterations=15)


def _train(out: Path, *, ranker: bool) -> Path:
    interactions, items, customers = planted_world()
    train_recommender(
        interactions, items, out, customers=customers, params=TrainParams(als=ALS, ranker=ranker)
    )
    if ranker:
        manifest = read_manifest(out)
        # Whatever validation chose on this tiny world, serve the ranker path.
        manifest.details["champion"] = "ranker"
        write_manifest(out, manifest)
    return out


@pytest.fixture(scope="session")
def als_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("als") / "bundle", ranker=False)


@pytest.fixture(scope="session")
def ranker_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("ranker") / "bundle", ranker=True)


@pytest.fixture(scope="session", params=["als", "ranker"])
def champion(request: pytest.FixtureRequest) -> RecommenderModel:
    model = RecommenderModel.load(request.getfixturevalue(f"{request.param}_bundle"))
    assert (model.ranker is not None) == (request.param == "ranker")
    return model
