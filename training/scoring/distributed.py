"""The final LightGBM fit on a Dask cluster (`train churn|lead --dask-scheduler tcp://...`).

The search still runs on this machine (on the validation slice, as without Dask); the refit on
train + validation, the expensive step at tens of millions of rows, goes through LightGBM's own
Dask interface (`lightgbm.dask`, data-parallel trees over the workers' partitions). Dask is an
optional extra (`pip install valuechain[dask]`), imported only here and only when asked for.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import lightgbm as lgb
import numpy as np

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = "15s"


class DaskUnavailable(RuntimeError):
    """Dask is not installed, or the scheduler cannot be reached."""


def check_scheduler(scheduler: str) -> int:
    """Connect once and return the worker count: a wrong address fails before any training."""
    with _client(scheduler) as client:
        return len(client.scheduler_info()["workers"])


def _client(scheduler: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise DaskUnavailable(
            "--dask-scheduler needs Dask: pip install 'valuechain[dask]'"
        ) from exc
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc


def fit_final_dask(
    params: dict[str, Any],
    rounds: int,
    x: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    names: list[str],
    scheduler: str,
) -> tuple[lgb.Booster, int]:
    """Fit `rounds` trees with `params` on the cluster at `scheduler`; (booster, worker count).

    The matrix is split into one partition per worker and sent from here: fine to a few million
    rows; beyond that, partitions should be read by the workers themselves (docs/scoring.md).
    """
    client = _client(scheduler)
    import dask.array as da
    import lightgbm.dask as lgb_dask

    with client:
        workers = max(1, len(client.scheduler_info()["workers"]))
        rows = max(1, math.ceil(len(x) / workers))
        dx = da.from_array(x, chunks=(rows, x.shape[1]))
        dy = da.from_array(y, chunks=rows)
        model = lgb_dask.DaskLGBMClassifier(
            client=client, n_estimators=rounds, **_sklearn_names(params)
        )
        model.fit(dx, dy, feature_name=names, categorical_feature=categorical)
        logger.info("fitted %d rounds on %d Dask workers at %s", rounds, workers, scheduler)
        booster: lgb.Booster = model.booster_
    return booster, workers


def _sklearn_names(params: dict[str, Any]) -> dict[str, Any]:
    """Native LightGBM parameter names -> the scikit-learn API's, which Dask's model takes."""
    # Threads come from each Dask worker's own setting; lightgbm.dask ignores n_jobs.
    dropped = ("metric", "num_threads")
    out = {("random_state" if k == "seed" else k): v for k, v in params.items() if k not in dropped}
    out["objective"] = "binary"
    return out
