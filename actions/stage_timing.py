"""Times the stages inside an action call: query embedding, index search, database.

The load benchmark (bench/load.py) breaks a message's time down by stage from the
action server's Prometheus histograms; this module feeds them without any action
knowing. The search reports its own stages (``IndexHolder.stage_observer``); the case
and interaction repositories are wrapped so that every call to them (SQL, or HTTP to
the case service with ``VENTANILLA_CASE_REPOSITORY=http``) is timed under its method
name. Nothing here sees or logs what citizens wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from actions.services import Services
from backend.interactions import InteractionRepository
from backend.repository import CaseRepository

Observe = Callable[[str, str, float], None]  # (stage, operation, seconds)


class TimedCalls:
    """Forwards every attribute to ``inner``; its public methods' calls are timed as ``stage``."""

    def __init__(self, inner: object, stage: str, observe: Observe) -> None:
        self._inner = inner
        self._stage = stage
        self._observe = observe

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self._observe(self._stage, name, time.perf_counter() - started)

        return timed


def instrument(services: Services, observe: Observe) -> Services:
    """Reports ``services``' stage times to ``observe`` from now on (the same object, changed)."""
    services.search.stage_observer = lambda stage, seconds: observe(stage, "search", seconds)
    services.cases = cast(CaseRepository, TimedCalls(services.cases, "database", observe))
    services.interactions = cast(InteractionRepository, TimedCalls(services.interactions, "database", observe))
    return services
