"""``actions.offload.ActionPool``: action coroutines run on worker threads, bounded in number."""

from __future__ import annotations

import asyncio
import threading

import pytest

from actions.offload import ActionPool


def test_the_call_runs_on_a_worker_thread_with_its_own_loop() -> None:
    pool = ActionPool(2)

    async def where() -> tuple[str, int]:
        return threading.current_thread().name, id(asyncio.get_running_loop())

    async def main() -> None:
        name, loop_id = await pool.run(where)
        assert name.startswith("action")
        assert loop_id != id(asyncio.get_running_loop())

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()


def test_blocking_calls_overlap_up_to_the_limit() -> None:
    """Two calls that each wait for the other can only finish if they run at the same time."""
    pool = ActionPool(2)
    barrier = threading.Barrier(2, timeout=30)

    async def meet() -> bool:
        barrier.wait()  # a synchronous block, as a database or a model call would be
        return True

    async def main() -> list[bool]:
        return list(await asyncio.gather(pool.run(meet), pool.run(meet)))

    try:
        assert asyncio.run(main()) == [True, True]
    finally:
        pool.shutdown()


def test_no_more_calls_at_once_than_threads() -> None:
    pool = ActionPool(1)
    active, peak, lock = 0, 0, threading.Lock()

    async def count() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        await asyncio.sleep(0.01)  # yields its worker's loop: still one call per thread
        with lock:
            active -= 1

    async def main() -> None:
        await asyncio.gather(*(pool.run(count) for _ in range(5)))

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()
    assert peak == 1


def test_an_error_reaches_the_caller() -> None:
    pool = ActionPool(1)

    async def fail() -> None:
        raise LookupError("no such case")

    try:
        with pytest.raises(LookupError, match="no such case"):
            asyncio.run(pool.run(fail))
    finally:
        pool.shutdown()
