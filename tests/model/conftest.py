"""Recommender champions of every personal kind, trained on one small world with planted structure.

Behaviour tests take the `champion` fixture and run against the ALS, EASE, item-kNN and LightGBM
re-ranker champions: whichever validation picks, the service must behave.
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
    return out


def _serve_as(bundle: Path, kind: str) -> RecommenderModel:
    """The bundle served as `kind`, whatever validation chose on this tiny world."""
    manifest = read_manifest(bundle)
    manifest.details["champion"] = kind
    write_manifest(bundle, manifest)
    return RecommenderModel.load(bundle)


@pytest.fixture(scope="session")
def als_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("als") / "bundle", ranker=False)


@pytest.fixture(scope="session")
def ranker_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("ranker") / "bundle", ranker=True)


@pytest.fixture(scope="session", params=["als", "ranker", "ease", "item_knn"])
def champion(request: pytest.FixtureRequest) -> RecommenderModel:
    bundle = request.getfixturevalue("ranker_bundle" if request.param == "ranker" else "als_bundle")
    model = _serve_as(bundle, request.param)
    assert model.kind == request.param
    return model
