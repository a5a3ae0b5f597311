"""Training past one machine: churn and lead refit LightGBM on a Dask cluster.

A `dask.distributed` LocalCluster with two workers (threads in this process, real TCP between
the scheduler, the workers and a `valuechain` subprocess) stands in for a cluster of machines.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from features import tables
from models.scoring.scorer import TabularScorer
from tests.integration.conftest import VALUECHAIN, run_cli
from training.scoring.train import TrainConfig, train_scorer

pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a two-worker local Dask cluster."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",  # in-process workers, but real TCP: a CLI subprocess can connect
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("dask")
    return dict(
        os.environ,
        MLFLOW_TRACKING_URI=f"sqlite:///{base / 'mlruns' / 'mlflow.db'}",
        MLFLOW_DISABLE_TELEMETRY="true",
        STATE_DIR=str(base / "var"),
        DATA=str(base / "data"),
    )


@pytest.fixture(scope="module")
def data(env: dict[str, str]) -> Path:
    """A small generated world (no training needed)."""
    run_cli(env, "generate", "--out", env["DATA"], "--customers", "1500", "--seed", "5")
    return Path(env["DATA"])


def test_churn_trains_through_lightgbm_dask(data: Path, scheduler: str, tmp_path: Path) -> None:
    frame, text = tables.churn_table(data, None, 60)
    config = TrainConfig(
        "churn", "churned", "customer_id", "snapshot", feature_text=text, n_trials=2,
        allow_linear=False, dask_scheduler=scheduler,
    )  # fmt: skip
    result = train_scorer(frame, config, tmp_path / "bundle")

    scorer = TabularScorer.load(result.bundle_dir, "churn")  # the bundle as serving loads it
    details = scorer.manifest.details
    assert details["params"]["dask_workers"] == 2
    assert scorer.booster is not None and scorer.booster.num_trees() == details["params"]["rounds"]
    assert details["metrics"]["roc_auc"] > 0.65  # held-out calibration slice
    scored = scorer.score_frame(frame)
    assert scored["probability"].between(0, 1).all()
    assert scored["probability"].std() > 0.05
    assert roc_auc_score(frame["churned"].astype(int), scored["probability"]) > 0.7


def test_the_cli_option_reaches_the_cluster(
    data: Path, env: dict[str, str], scheduler: str
) -> None:
    args = ["train", "lead", "--data", data, "--trials", "1", "--no-register"]
    ok = run_cli(env, *args, "--dask-scheduler", scheduler)
    assert "not registered (--no-register)" in ok.stdout
    bad = subprocess.run(
        [*VALUECHAIN, *map(str, args), "--dask-scheduler", "tcp://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in bad.stderr
