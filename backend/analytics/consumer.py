"""Production: reads Rasa's events from RabbitMQ and records them in PostgreSQL.

``python -m backend.analytics.consumer``. Rasa's Pika broker publishes every event,
persistent, to a fanout exchange bound to our durable queue; this process takes them in
batches, records each batch in one transaction (backend.analytics.recorder) and acks the
batch only after the commit. Stopped, crashed or cut from the database, it loses nothing:
unacked messages go back to the queue, which keeps filling while nobody reads it, and a
replayed event is recognised and skipped. Run one consumer per queue: events of one
conversation must be recorded in order.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from backend.analytics.recorder import recorder_for
from backend.analytics.settings import AnalyticsSettings
from backend.db import make_engine, session_factory

logger = logging.getLogger(__name__)
# Rasa's PikaEventBroker: a fanout exchange of this name, declared non-durable.
RASA_EXCHANGE = "rasa-exchange"


def declare(channel: BlockingChannel, queue: str) -> None:
    """The queue and its binding, declared exactly as Rasa declares them (either may start first)."""
    channel.exchange_declare(RASA_EXCHANGE, exchange_type="fanout", durable=False)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, RASA_EXCHANGE, routing_key="")


class ConsumerMetrics:
    """What Prometheus reads from the consumer (its own registry, served on ``metrics_port``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "ventanilla_analytics_events", "Raw Rasa events read from RabbitMQ and recorded", registry=self.registry
        )
        self.failures = Counter(
            "ventanilla_analytics_batch_failures",
            "Batches that failed and went back to the queue",
            registry=self.registry,
        )
        self.last_batch = Gauge(
            "ventanilla_analytics_last_batch_timestamp_seconds",
            "When the last batch was committed",
            registry=self.registry,
        )


class Consumer:
    """One connection, one channel; ``run`` until ``stop`` (SIGTERM/SIGINT in ``main``)."""

    def __init__(self, settings: AnalyticsSettings) -> None:
        self._settings = settings
        self.metrics = ConsumerMetrics()
        self._engine = make_engine(settings.effective_database_url, pool_size=2, max_overflow=0)
        self._sessions = session_factory(self._engine)
        self._recorder = recorder_for(settings)
        self._stopping = False
        self.recorded = 0

    def stop(self, *_: object) -> None:
        self._stopping = True

    def _connect(self) -> pika.BlockingConnection:
        s = self._settings
        params = pika.ConnectionParameters(
            host=s.rabbitmq_host,
            port=s.rabbitmq_port,
            credentials=pika.PlainCredentials(s.rabbitmq_username, s.rabbitmq_password),
            heartbeat=30,
            connection_attempts=3,
            retry_delay=2,
        )
        return pika.BlockingConnection(params)

    def run(self) -> None:
        """Consumes, reconnecting after RabbitMQ or PostgreSQL errors, until stopped."""
        from backend.db import create_schema

        create_schema(self._engine)
        while not self._stopping:
            try:
                self._consume()
            except (pika.exceptions.AMQPError, OSError) as error:
                logger.warning("RabbitMQ unavailable (%s); retrying in 2 s", type(error).__name__)
                time.sleep(2)
            except Exception:
                logger.exception("recording a batch failed; its messages go back to the queue")
                self.metrics.failures.inc()
                time.sleep(2)
        self._engine.dispose()

    def _consume(self) -> None:
        batch_size = self._settings.event_batch
        connection = self._connect()
        try:
            channel = connection.channel()
            declare(channel, self._settings.rabbitmq_queue)
            channel.basic_qos(prefetch_count=batch_size)
            pending: list[tuple[int, dict[str, Any]]] = []
            last_tag = 0
            for method, _props, body in channel.consume(self._settings.rabbitmq_queue, inactivity_timeout=0.5):
                if method is not None:
                    last_tag = method.delivery_tag
                    event = _parse(body)
                    if event is not None:
                        pending.append((last_tag, event))
                full = len(pending) >= batch_size
                if last_tag and (method is None or full):
                    self._record([event for _tag, event in pending])
                    channel.basic_ack(delivery_tag=last_tag, multiple=True)
                    pending, last_tag = [], 0
                if self._stopping:
                    break
            channel.cancel()  # unacked messages (none after a full flush) return to the queue
        finally:
            if connection.is_open:
                connection.close()

    def _record(self, events: list[dict[str, Any]]) -> None:
        with self._sessions() as session:
            self.recorded += self._recorder.record(session, events)
            session.commit()
        self.metrics.events.inc(len(events))
        self.metrics.last_batch.set_to_current_time()


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except ValueError:
        logger.warning("a message that is not JSON was dropped")
        return None
    return event if isinstance(event, dict) else None


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    settings = AnalyticsSettings()
    consumer = Consumer(settings)
    if settings.consumer_metrics_port:  # /metrics (any path) for Prometheus and the launcher's health check
        start_http_server(
            settings.consumer_metrics_port, addr=settings.consumer_metrics_host, registry=consumer.metrics.registry
        )
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    consumer.run()


if __name__ == "__main__":
    main()
