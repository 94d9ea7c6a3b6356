"""Embedded default: drains the table Rasa's SQL event broker writes (``events``) into analytics.

Rasa (connectors/event_broker.py, Python 3.10) appends every event, with the citizen's
words, to a local SQLite file; this loop, in the backend, reads them in id order, records
them (backend.analytics.recorder), commits, and only then deletes the raw rows, so the
citizens' texts stay there for about a second and a crash replays rather than loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.analytics.recorder import Recorder

logger = logging.getLogger(__name__)


class SqlDrain:
    """Moves raw events from Rasa's SQL broker table into the analytics tables."""

    def __init__(self, events_db: str, store: sessionmaker[Session], recorder: Recorder, batch: int = 500) -> None:
        self._events_db = events_db
        self._store = store
        self._recorder = recorder
        self._batch = batch
        self._engine: Engine | None = None
        self._stopping = asyncio.Event()

    def _source(self) -> Engine | None:
        if self._engine is None:
            if not Path(self._events_db).exists():
                return None  # Rasa has not started yet
            self._engine = create_engine(f"sqlite:///{self._events_db}", connect_args={"timeout": 30})
        return self._engine

    def drain_once(self) -> int:
        """One batch; returns how many raw events were moved (0: nothing waiting)."""
        source = self._source()
        if source is None:
            return 0
        with source.connect() as conn:
            try:
                rows = conn.execute(
                    text("SELECT id, sender_id, data FROM events ORDER BY id LIMIT :n"), {"n": self._batch}
                ).all()
            except Exception:  # noqa: BLE001 - the table appears with Rasa's first start
                return 0
        if not rows:
            return 0
        raw = []
        for _id, sender, data in rows:
            try:
                event = json.loads(data)
            except ValueError:
                continue
            event.setdefault("sender_id", sender)
            raw.append(event)
        with self._store() as session:
            self._recorder.record(session, raw)
            session.commit()
        with source.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE id <= :last"), {"last": rows[-1][0]})
        return len(rows)

    async def run(self, poll_seconds: float) -> None:
        """Drains until stop(); a failing batch is retried on the next poll (nothing deleted)."""
        while not self._stopping.is_set():
            try:
                moved = await asyncio.to_thread(self.drain_once)
            except Exception:
                logger.exception("analytics drain failed; retrying")
                moved = 0
            if moved < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=poll_seconds)

    def stop(self) -> None:
        self._stopping.set()
