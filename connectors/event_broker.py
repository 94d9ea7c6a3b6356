"""Rasa's event broker, chosen by ``VENTANILLA_EVENT_BROKER`` (bot/endpoints.yml).

Rasa 3.6 reads one ``event_broker`` block whose keys differ per broker type, and
endpoints.yml has no conditionals: this class picks Rasa's own broker from the
environment and returns it, so the events still flow through Rasa's mechanism.

- ``sql`` (the embedded default): Rasa's ``SQLEventBroker`` into a local SQLite file
  (``VENTANILLA_EVENT_DB``), on a kept connection in WAL mode with normal syncing so a
  turn's inserts cost about a millisecond; the backend drains it (backend/analytics/sql_drain.py).
- ``pika`` (production): Rasa's ``PikaEventBroker`` to RabbitMQ: a durable queue
  (``VENTANILLA_RABBITMQ_QUEUE``) bound to Rasa's fanout exchange, persistent messages,
  unsent events kept and re-sent after a reconnection; the consumer
  (``python -m backend.analytics.consumer``) writes them to PostgreSQL. Rasa's broker logs
  each event's content (DEBUG, and ERROR when a send fails): ``EventContentFilter`` keeps
  citizens' words and sender ids out of those records.
- ``none``: no events (analytics off).

Runs inside Rasa (Python 3.10): imports only Rasa, SQLAlchemy (Rasa's) and the standard library.
"""

from __future__ import annotations

import logging
import os
from asyncio import AbstractEventLoop
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)


class VentanillaEventBroker(EventBroker):
    """Never instantiated: ``from_endpoint_config`` returns one of Rasa's brokers."""

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> EventBroker | None:
        settings = broker_config.kwargs
        kind = str(settings.get("kind") or "sql").strip().lower()
        timings = os.environ.get("VENTANILLA_BENCH_BROKER_TIMINGS", "")
        if timings:  # bench/analytics_side_by_side.py only
            from connectors.broker_timing import install

            install(timings)
        broker = await _build(kind, broker_config, event_loop)
        if timings and broker is not None:
            from connectors.broker_timing import timed_publish

            broker = timed_publish(broker)
        return broker

    def publish(self, event: dict[str, Any]) -> None:  # pragma: no cover - never instantiated
        raise NotImplementedError


async def _build(kind: str, config: EndpointConfig, event_loop: AbstractEventLoop | None) -> EventBroker | None:
    if kind == "none":
        logger.info("event broker off (VENTANILLA_EVENT_BROKER=none)")
        return None
    if kind == "sql":
        return sql_broker(str(config.kwargs.get("db") or "var/rasa_events.db"))
    if kind == "pika":
        return await pika_broker(config, event_loop)
    raise ValueError(f"VENTANILLA_EVENT_BROKER must be sql, pika or none, not {kind!r}")


def sql_broker(db: str) -> EventBroker:
    """Rasa's SQL broker on a SQLite file (its table, its class), publishing on a kept connection.

    Rasa's own engine for a SQLite file opens a new connection and an ORM session for every
    event (NullPool): about 20 ms per event on a busy machine, 150 ms per turn. The subclass
    below writes the same rows through one sqlite3 connection per thread, in WAL mode with
    normal syncing (a commit is not an fsync): well under a millisecond per event
    (bench/analytics_turn_overhead.py); ``publish_many`` (connectors/tracker_store.py calls
    it with a turn's new events) commits them once. The backend's drain reads the file meanwhile.
    """
    import json
    import sqlite3
    import threading

    from rasa.core.brokers.sql import SQLEventBroker

    class LocalSqlEventBroker(SQLEventBroker):
        def __init__(self, path: str) -> None:
            super().__init__(dialect="sqlite", db=path)  # creates the `events` table
            self.engine.dispose()
            self._path = path
            self._local = threading.local()

        def _connection(self) -> sqlite3.Connection:
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                self._local.conn = conn
            return conn

        def publish(self, event: dict[str, Any]) -> None:
            self._insert([event])

        def publish_many(self, events: list[dict[str, Any]]) -> None:
            """A saved tracker's new events in one transaction (one commit, not one per event)."""
            self._insert(events)

        def _insert(self, events: list[dict[str, Any]]) -> None:
            conn = self._connection()
            with conn:  # sqlite3: BEGIN ... COMMIT (ROLLBACK on error)
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO events (sender_id, data) VALUES (?, ?)",
                    [(event.get("sender_id"), json.dumps(event)) for event in events],
                )

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    return LocalSqlEventBroker(db)


class EventContentFilter(logging.Filter):
    """Keeps events' contents out of Rasa's Pika broker's log records.

    ``PikaEventBroker._publish`` logs every event it sends at DEBUG (``rasa run --debug``), and
    every event it fails to send at ERROR, with the event's text (the citizen's words) and the
    sender id (a phone number on WhatsApp): we drop the DEBUG ones and reword the others.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if "rasa_event" not in str(record.msg):
            return True
        if record.levelno < logging.WARNING:
            return False
        record.msg, record.args = "an event could not be sent to RabbitMQ (kept to resend; content not logged)", None
        return True


def quiet_pika_event_logs() -> None:
    """Installs EventContentFilter on Rasa's Pika broker logger, once."""
    pika_logger = logging.getLogger("rasa.core.brokers.pika")
    if not any(isinstance(f, EventContentFilter) for f in pika_logger.filters):
        pika_logger.addFilter(EventContentFilter())


async def pika_broker(config: EndpointConfig, event_loop: AbstractEventLoop | None) -> EventBroker | None:
    """Rasa's RabbitMQ broker with one durable queue named by the environment (events not logged)."""
    import rasa.shared.core.events  # noqa: F401 - PikaEventBroker._publish needs it loaded
    from rasa.core.brokers.pika import PikaEventBroker

    quiet_pika_event_logs()

    settings = config.kwargs
    pika_config = EndpointConfig(
        url=config.url or "127.0.0.1",
        username=str(settings.get("username") or "guest"),
        password=str(settings.get("password") or "guest"),
        port=int(settings.get("port") or 5672),
        queues=[str(settings.get("queue") or "ventanilla-analytics")],
        connection_attempts=int(settings.get("connection_attempts") or 20),
        retry_delay_in_seconds=5,
    )
    return await PikaEventBroker.from_endpoint_config(pika_config, event_loop)
