"""Where a route's work runs: on the event loop when small, in the thread pool when large.

The routes are `async def`. A request-sized piece of work (one customer's features, one lead,
a recommendation) costs less on the worker's event loop than the thread-pool hop around it, and
its Redis calls are short (100 ms timeout, behind the breaker). A large batch (scoring it and
encoding its answer) would hold the loop for tens of milliseconds, so it goes to the thread
pool, where LightGBM and Redis release the GIL and the loop keeps answering other requests
(health checks among them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

# Rows (customers, leads) above which a batch leaves the event loop.
OFF_LOOP_ROWS = 32


async def sized(rows: int, func: Callable[..., T], *args: object) -> T:
    """`func(*args)` on the loop for up to OFF_LOOP_ROWS rows, else in the thread pool."""
    if rows <= OFF_LOOP_ROWS:
        return func(*args)
    return await run_in_threadpool(func, *args)
