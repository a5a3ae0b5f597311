"""Small work runs on the event loop, a large batch in the thread pool."""

from __future__ import annotations

import asyncio
import threading

from service.offload import OFF_LOOP_ROWS, sized


def _thread(rows: int) -> str:
    async def run() -> tuple[str, str]:
        loop_thread = threading.current_thread().name
        ran = await sized(rows, lambda: threading.current_thread().name)
        return loop_thread, ran

    loop_thread, ran = asyncio.run(run())
    return "loop" if ran == loop_thread else "pool"


def test_request_sized_work_stays_on_the_loop() -> None:
    assert _thread(1) == "loop"
    assert _thread(OFF_LOOP_ROWS) == "loop"


def test_a_large_batch_goes_to_the_thread_pool() -> None:
    assert _thread(OFF_LOOP_ROWS + 1) == "pool"


def test_arguments_and_results_pass_through() -> None:
    assert asyncio.run(sized(1000, lambda a, b: a + b, 2, 3)) == 5
