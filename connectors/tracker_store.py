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
Rasa's writes, nor Rasa their reads.

Any other database (PostgreSQL in production: ``VENTANILLA_TRACKER_URL``) is Rasa's
store unchanged. bot/endpoints.yml names this class as the tracker store's type.

Runs inside Rasa (Python 3.10): imports only Rasa, SQLAlchemy (Rasa's) and the standard library.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.engine import Engine

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


class VentanillaTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` (same tables, same arguments); SQLite files tuned by ``tune_sqlite``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            tune_sqlite(self.engine)
