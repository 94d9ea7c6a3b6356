"""Starts the embedded drain with the backend (one small hook for backend/api.py's lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.orm import Session, sessionmaker

from backend.analytics.recorder import recorder_for
from backend.analytics.settings import AnalyticsSettings
from backend.analytics.sql_drain import SqlDrain
from backend.settings import StoreSettings


@contextlib.asynccontextmanager
async def embedded_drain(sessions: sessionmaker[Session], backend: StoreSettings) -> AsyncIterator[SqlDrain | None]:
    """Drains Rasa's SQL broker table while the backend runs (only with VENTANILLA_EVENT_BROKER=sql).

    The folder, the hash key, the case-code prefix and the intent-review threshold are the
    backend's own (tests give the app its settings directly).
    """
    settings = AnalyticsSettings(
        var_dir=backend.var_dir,
        case_hash_key=backend.case_hash_key,
        case_code_prefix=backend.case_code_prefix,
        unanswered_low_confidence=backend.unanswered_low_confidence,
        database_url=backend.database_url,
        env=backend.env,
    )
    if settings.event_broker != "sql":
        yield None
        return
    drain = SqlDrain(settings.effective_event_db, sessions, recorder_for(settings), settings.event_batch)
    task = asyncio.create_task(drain.run(settings.event_drain_seconds), name="analytics-drain")
    try:
        yield drain
    finally:
        drain.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=10)
