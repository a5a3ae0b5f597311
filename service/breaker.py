"""A circuit breaker around every request-path Redis call, and the store seen through it.

Each call has a short timeout (`REDIS_TIMEOUT_SECONDS`); after `BREAKER_FAILURES` consecutive
connection errors or timeouts the breaker opens and calls fail at once for
`BREAKER_RESET_SECONDS`, so a dead or paused Redis costs a request microseconds, not the timeout.
Then one trial call goes through: success closes the breaker (recovery without a restart).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import pybreaker
import redis

from features.store import CustomerRecord, Event, OnlineStore
from service.errors import StoreUnavailable
from service.metrics import Metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")
OUTAGES = (redis.ConnectionError, redis.TimeoutError)


class _Log(pybreaker.CircuitBreakerListener):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def state_change(self, cb: pybreaker.CircuitBreaker, old: Any, new: Any) -> None:
        logger.warning("redis circuit breaker %s -> %s", old.name, new.name)
        self._metrics.breaker_open.set(1 if new.name == pybreaker.STATE_OPEN else 0)


class RedisBreaker:
    """Runs Redis calls through a pybreaker breaker; outages become `StoreUnavailable` (503)."""

    def __init__(self, failures: int, reset_seconds: float, metrics: Metrics) -> None:
        self._metrics = metrics
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_seconds,
            # Only outages count: a WRONGTYPE reply says nothing about Redis being up.
            exclude=[lambda exc: not isinstance(exc, OUTAGES)],
            listeners=[_Log(metrics)],
            name="redis",
        )
        self.retry_after = max(1, math.ceil(reset_seconds))

    @property
    def is_open(self) -> bool:
        return bool(self._breaker.current_state == pybreaker.STATE_OPEN)

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`func(*args)`, or `StoreUnavailable` at once while the breaker is open."""
        try:
            result: T = self._breaker.call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError as exc:
            raise self._unavailable("the feature store is unavailable; try again shortly") from exc
        except OUTAGES as exc:
            self._metrics.redis_errors.labels(type(exc).__name__).inc()
            logger.warning("redis call failed: %s", exc)
            raise self._unavailable("the feature store did not answer in time") from exc
        return result

    async def call_async(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`await func(*args)` under the same rules as `call` (pybreaker's `calling()` block)."""
        try:
            with self._breaker.calling():
                result: T = await func(*args)
        except pybreaker.CircuitBreakerError as exc:
            raise self._unavailable("the feature store is unavailable; try again shortly") from exc
        except OUTAGES as exc:
            self._metrics.redis_errors.labels(type(exc).__name__).inc()
            logger.warning("redis call failed: %s", exc)
            raise self._unavailable("the feature store did not answer in time") from exc
        return result

    def _unavailable(self, message: str) -> StoreUnavailable:
        return StoreUnavailable(message, retry_after=self.retry_after)


class GuardedStore:
    """The `OnlineStore` with each call through the breaker (the service's view of Redis)."""

    def __init__(self, store: OnlineStore, breaker: RedisBreaker) -> None:
        self.inner = store
        self._b = breaker

    def ping(self) -> bool:
        try:
            return self._b.call(self.inner.ping) and not self._b.is_open
        except StoreUnavailable:
            return False

    def begin_version(self) -> str:
        return self._b.call(self.inner.begin_version)

    def write_customers(self, version: str, records: Iterable[CustomerRecord]) -> int:
        return self._b.call(self.inner.write_customers, version, records)

    def write_ranking(self, version: str, name: str, scores: Mapping[str, float]) -> None:
        self._b.call(self.inner.write_ranking, version, name, scores)

    def write_meta(self, version: str, meta: Mapping[str, Any]) -> None:
        self._b.call(self.inner.write_meta, version, meta)

    def commit_version(self, version: str) -> str | None:
        return self._b.call(self.inner.commit_version, version)

    def abort_version(self, version: str) -> None:
        self._b.call(self.inner.abort_version, version)

    def current_version(self) -> str | None:
        return self._b.call(self.inner.current_version)

    def read_customer(self, customer_id: str, max_events: int = 50) -> CustomerRecord:
        return self._b.call(self.inner.read_customer, customer_id, max_events)

    def read_customers(self, customer_ids: Sequence[str]) -> list[CustomerRecord]:
        return self._b.call(self.inner.read_customers, customer_ids)

    def top_ranking(self, name: str, limit: int) -> list[tuple[str, float]]:
        return self._b.call(self.inner.top_ranking, name, limit)

    def read_meta(self) -> dict[str, Any]:
        return self._b.call(self.inner.read_meta)

    def append_events(self, events: Sequence[Event]) -> None:
        self._b.call(self.inner.append_events, events)
