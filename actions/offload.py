"""Runs each action call on a bounded pool of worker threads, off the server's event loop.

rasa_sdk awaits an action's ``run()`` on the one event loop of the process, and our
actions do synchronous work inside it: the knowledge-base search (query embedding,
FAISS, BM25), SQL through SQLAlchemy, HTTP to the case service with its retry sleeps.
On the loop, one slow call stalls every other conversation. Wrapping each of those
calls would have to be repeated in every action (and forgotten in the next one), so the
whole action call moves here instead: each worker thread keeps its own event loop and
runs the action's coroutine to completion on it. The server's loop only parses
requests and waits.

Thread-safety of what the actions share (checked for this change):
- ``IndexHolder``/``Searcher``: immutable searcher, swap under a lock; FAISS and numpy
  searches are read-only. The query embedder is serialized by ``SerialEmbedder``.
- SQL repositories open one session per call (``sessionmaker``); the engine's pool is
  thread-safe.
- HTTP repositories share one ``httpx.Client``, whose connection pool is thread-safe.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_local = threading.local()


def _worker_loop() -> asyncio.AbstractEventLoop:
    """This worker thread's own event loop, created once and reused for every call."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None:
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _prepare_worker(search_threads: int) -> None:
    """FAISS's OpenMP thread count is per calling thread: set it again in each worker."""
    if search_threads > 0:
        from knowledge_base.search import limit_search_threads

        limit_search_threads(search_threads)


class ActionPool:
    """At most ``threads`` action calls run at once; the rest wait their turn in order."""

    def __init__(self, threads: int, *, search_threads: int = 0) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.threads = threads
        self._pool = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="action",
            initializer=_prepare_worker,
            initargs=(search_threads,),
        )

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Awaits ``call()`` on a worker thread's loop; the caller's loop stays free meanwhile."""
        return await asyncio.wrap_future(self._pool.submit(_run_to_completion, call))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _run_to_completion(call: Callable[[], Awaitable[T]]) -> T:
    async def _await() -> T:
        return await call()

    return _worker_loop().run_until_complete(_await())
