"""Bench only: what Rasa spends synchronously per saved tracker to stream its events to the broker.

``VENTANILLA_BENCH_BROKER_TIMINGS=<file>`` (set by bench/analytics_side_by_side.py, never
in production) makes connectors/event_broker.py call :func:`install`, which wraps what a tracker store's
``save`` does for the events, inside the turn: Rasa's ``stream_events`` (re-reads the stored
tracker, diffs it, calls ``publish`` per new event) and our ``publish_new``
(connectors/tracker_store.py: the new events ``save`` found anyway), and the broker's
``publish``. One line per ``save`` that streams is appended to the file:
``wall_ms cpu_ms publishes publish_ms`` (``cpu_ms`` is the thread's CPU time, which a loaded
machine does not inflate the way it does wall time). With events off ours publishes
nothing and writes no line: what events cost is then exactly what the "on" lines show.
"""

from __future__ import annotations

import time
from typing import Any

_published = {"calls": 0, "seconds": 0.0}
_installed: list[str] = []


def install(path: str) -> None:
    """Wraps Rasa's ``stream_events`` and our ``publish_new``, once per process; lines go to ``path``."""
    from rasa.core.tracker_store import TrackerStore

    from connectors.tracker_store import VentanillaTrackerStore

    if _installed:
        return
    _installed.append(path)
    stream_events, publish_new = TrackerStore.stream_events, VentanillaTrackerStore.publish_new

    async def timed_stream_events(self: Any, tracker: Any) -> None:
        started = _start()
        await stream_events(self, tracker)
        _stop(path, started)

    def timed_publish_new(self: Any, sender_id: str, events: list[Any]) -> None:
        started = _start()
        publish_new(self, sender_id, events)
        _stop(path, started)

    TrackerStore.stream_events = timed_stream_events
    VentanillaTrackerStore.publish_new = timed_publish_new  # type: ignore[method-assign]


def _start() -> tuple[float, float, float, float]:
    return _published["calls"], _published["seconds"], time.perf_counter(), time.thread_time()


def _stop(path: str, started: tuple[float, float, float, float]) -> None:
    calls, seconds, wall, cpu = started
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    published = _published["calls"] - calls, (_published["seconds"] - seconds) * 1000
    _append(path, f"{wall * 1000:.3f} {cpu * 1000:.3f} {published[0]} {published[1]:.3f}\n")


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
