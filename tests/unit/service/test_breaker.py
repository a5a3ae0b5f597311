"""Which Redis errors the circuit breaker counts as an outage (503) and which it lets through."""

from __future__ import annotations

import pytest
import redis
from redis.exceptions import ClusterDownError, SlotNotCoveredError

from service.breaker import RedisBreaker
from service.errors import StoreUnavailable
from service.metrics import Metrics


def _raise(error: Exception) -> None:
    raise error


@pytest.mark.parametrize(
    "error",
    [
        redis.ConnectionError("connection refused"),
        redis.TimeoutError("timed out"),
        # A Redis Cluster's outages: a failover under way, a slot no master serves.
        ClusterDownError("CLUSTERDOWN The cluster is down"),
        SlotNotCoveredError("slot 866 is not covered by the cluster"),
    ],
)
def test_outages_are_503_and_open_the_breaker(error: Exception) -> None:
    breaker = RedisBreaker(failures=2, reset_seconds=60, metrics=Metrics.create())
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            breaker.call(_raise, error)
    assert breaker.is_open


def test_a_wrong_reply_is_no_outage() -> None:
    breaker = RedisBreaker(failures=1, reset_seconds=60, metrics=Metrics.create())
    with pytest.raises(redis.ResponseError):
        breaker.call(_raise, redis.ResponseError("WRONGTYPE"))
    assert not breaker.is_open
