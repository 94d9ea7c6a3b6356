"""Rasa's SQL tracker store, made cheaper per turn in two ways (same tables, same arguments).

**Streaming without re-reading.** With an event broker, Rasa 3.6's
``TrackerStore.stream_events`` (called by ``save`` inside every turn) loads the stored
tracker again, rebuilding it event by event, only to learn which of the turn's events are
new: about 4 ms of CPU per turn on the test model, growing with the conversation
(bench/analytics_side_by_side.py, bench/RESULTS.md). ``save`` finds the same events anyway,
one ``count`` of the stored rows later (``_additional_events``, to insert only the new
rows): this store publishes exactly those, just before they are stored, and skips the
re-read. The events and their order are the ones Rasa streams
(tests/analytics/test_streaming_store.py); the embedded SQL broker takes them in one
transaction (``publish_many``).

**The embedded SQLite file in WAL mode, on kept connections.** Rasa opens its SQLite
tracker file in SQLite's defaults (rollback journal, full syncing): every turn's ``commit``
waits for the disk twice, on Rasa's one event loop, so every other conversation waits too
(bench/RESULTS.md, "Rasa's cost per message"). In WAL mode with ``synchronous=NORMAL`` a
commit appends to the log without waiting for the disk; the database stays consistent
after a crash or power cut (SQLite's guarantee for WAL), and at worst the last turns
before a power cut are lost, as with the analytics file (connectors/event_broker.py).
Readers (the backend's live-agent view) no longer block Rasa's writes. Rasa's engine opens
and closes a connection for every read and write; in WAL mode the last connection to close
also checkpoints the log, as costly as the commit had been, so connections are kept open
(a small pool). Any other database (PostgreSQL in production: ``VENTANILLA_TRACKER_URL``)
keeps Rasa's engine.

bot/endpoints.yml names this class as the tracker store's type. Runs inside Rasa (Python
3.10): imports only Rasa, SQLAlchemy (Rasa's) and the standard library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def tune_sqlite(engine: Engine) -> None:
    """Every new connection of ``engine`` (Rasa opens one per session) gets ``SQLITE_PRAGMAS``."""

    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(engine, "connect", _on_connect)


def kept_sqlite_engine(engine: Engine) -> Engine:
    """An engine on ``engine``'s SQLite file whose connections stay open between sessions."""
    kept = create_engine(
        engine.url,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=4,
        # Rasa uses its store from its event loop's thread; the pool may hand a connection
        # made there to another thread only if sqlite3 lets it (it serializes calls itself).
        connect_args={"check_same_thread": False},
    )
    tune_sqlite(kept)
    return kept


class VentanillaTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that streams the events ``save`` is about to store, and keeps a
    SQLite file on tuned, kept connections (module docstring)."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # Rasa's engine creates the tables
        if self.engine.dialect.name == "sqlite":
            rasas = self.engine
            self.engine = kept_sqlite_engine(rasas)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasas.dispose()

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing here: ``_additional_events`` publishes the new events inside ``save``."""

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        new_events = list(super()._additional_events(session, tracker))
        if self.event_broker is not None and new_events:
            self.publish_new(tracker.sender_id, new_events)
        return iter(new_events)

    def publish_new(self, sender_id: str, events: list[Event]) -> None:
        """The bodies Rasa's ``_stream_new_events`` publishes, at once when the broker can."""
        bodies = [{"sender_id": sender_id, **event.as_dict()} for event in events]
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
            return
        for body in bodies:
            self.event_broker.publish(body)
