"""Training past one machine: `train churn --dask-scheduler` refits LightGBM on a Dask cluster.

A `dask.distributed` LocalCluster with two workers (threads in this process, real TCP between
scheduler, workers and the `valuechain` subprocess) stands in for a cluster of machines.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from features import tables
from models.scoring.scorer import TabularScorer
from tests.integration.conftest import VALUECHAIN, World, run_cli

pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a two-worker local Dask cluster."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",  # in-process workers, but real TCP: the CLI subprocess connects
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_churn_trains_through_lightgbm_dask(world: World, scheduler: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    out = run_cli(
        world.env,
        "train", "churn", "--data", world.data, "--trials", "2", "--no-register",
        "--dask-scheduler", scheduler, "--out-bundle", bundle,
    ).stdout  # fmt: skip
    assert "final LightGBM fitted on 2 Dask workers" in out

    scorer = TabularScorer.load(bundle, "churn")
    details = scorer.manifest.details
    assert details["params"]["dask_workers"] == 2
    assert details["metrics"]["roc_auc"] > 0.65  # held-out calibration slice
    if details["model"]["lightgbm"]:
        assert scorer.booster is not None and scorer.booster.num_trees() > 0
    frame, _ = tables.churn_table(world.data, None, 60)
    scored = scorer.score_frame(frame)
    assert scored["probability"].between(0, 1).all()
    assert scored["probability"].std() > 0.05
    assert roc_auc_score(frame["churned"].astype(int), scored["probability"]) > 0.7


def test_an_unreachable_scheduler_is_a_clear_error(world: World) -> None:
    result = subprocess.run(
        [*VALUECHAIN, "train", "lead", "--data", str(world.data), "--trials", "1",
         "--no-register", "--dask-scheduler", "tcp://127.0.0.1:9"],
        env=world.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
