"""Bench only: what Rasa spends synchronously per saved tracker to stream its events to the broker.

``VENTANILLA_BENCH_BROKER_TIMINGS=<file>`` (set by bench/analytics_side_by_side.py, never
in production) makes connectors/event_broker.py call :func:`install`, which wraps
``stream_events`` (the tracker store calls it inside every ``save``, inside the turn: Rasa's
re-reads the stored tracker, diffs it and calls ``publish`` per new event; ours,
connectors/tracker_store.py, counts the stored events instead of re-reading them) and the
broker's ``publish``. One line per ``save`` is appended to the file:
``wall_ms cpu_ms publishes publish_ms`` (``cpu_ms`` is the thread's CPU time, which a loaded
machine does not inflate the way it does wall time). With events off the same wrapper
times the tracker store's early return, so both stacks are measured alike.
"""

from __future__ import annotations

import time
from typing import Any

_published = {"calls": 0, "seconds": 0.0}
_installed: list[str] = []


def install(path: str) -> None:
    """Wraps ``stream_events`` of Rasa's tracker stores and ours, once per process; lines go to ``path``."""
    from rasa.core.tracker_store import TrackerStore

    from connectors.tracker_store import StreamingSQLTrackerStore

    if _installed:
        return
    _installed.append(path)
    for store in (TrackerStore, StreamingSQLTrackerStore):
        store.stream_events = _timed(store.stream_events, path)  # type: ignore[method-assign]


def _timed(original: Any, path: str) -> Any:
    async def stream_events(self: Any, tracker: Any) -> None:
        calls, seconds = _published["calls"], _published["seconds"]
        wall, cpu = time.perf_counter(), time.thread_time()
        await original(self, tracker)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        published = _published["calls"] - calls, (_published["seconds"] - seconds) * 1000
        _append(path, f"{wall * 1000:.3f} {cpu * 1000:.3f} {published[0]} {published[1]:.3f}\n")

    return stream_events


def _append(path: str, line: str) -> None:
    """After the timed part: a few bytes appended, outside what the line measures."""
    with open(path, "a", encoding="ascii") as out:
        out.write(line)


def timed_publish(broker: Any) -> Any:
    """The same broker, its ``publish`` calls counted and timed (added to the current save's line)."""
    publish = broker.publish

    def timed(event: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            publish(event, *args, **kwargs)
        finally:
            _published["calls"] += 1
            _published["seconds"] += time.perf_counter() - started

    broker.publish = timed
    publish_many = getattr(broker, "publish_many", None)
    if publish_many is not None:

        def timed_many(events: list[dict[str, Any]]) -> None:
            started = time.perf_counter()
            try:
                publish_many(events)
            finally:
                _published["calls"] += len(events)
                _published["seconds"] += time.perf_counter() - started

        broker.publish_many = timed_many
    return broker
