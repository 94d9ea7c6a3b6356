"""Rasa's SQL tracker store, with the embedded SQLite file in WAL mode and normal syncing.

Rasa 3.6 opens its SQLite tracker file in SQLite's defaults (rollback journal, full
syncing): every turn's ``commit`` waits for the disk twice (journal and database),
and it does so on Rasa's one event loop, so every other conversation waits too. The
load benchmark's profile of Rasa found about half of the tracker store's time in that
commit (bench/RESULTS.md, "Rasa's cost per message"). In WAL mode with
``synchronous=NORMAL`` a commit appends to the log without waiting for the disk; the
database stays consistent after a crash or power cut (SQLite's guarantee for WAL),
and at worst the last turns before a power cut are lost, as with the analytics file
(connectors/event_broker.py). Readers (the backend's live-agent view) no longer block
Rasa's writes, nor Rasa their reads. Rasa's engine opens and closes a connection for
every tracker read and write (SQLAlchemy's default for a SQLite file); in WAL mode the
last connection to close also checkpoints the log to the disk, so the same profile then
found that close as costly as the commit had been. The connections are kept open instead
(a small pool), and SQLite checkpoints in the background of later commits as usual.

Any other database (PostgreSQL in production: ``VENTANILLA_TRACKER_URL``) is Rasa's
store unchanged. bot/endpoints.yml names this class as the tracker store's type.

Runs inside Rasa (Python 3.10): imports only Rasa, SQLAlchemy (Rasa's) and the standard library.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
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
    """``SQLTrackerStore`` (same tables, same arguments); a SQLite file on kept, tuned connections."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # Rasa's engine creates the tables
        if self.engine.dialect.name == "sqlite":
            rasas = self.engine
            self.engine = kept_sqlite_engine(rasas)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasas.dispose()
