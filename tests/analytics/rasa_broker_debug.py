"""Publishes events through the Pika broker with Rasa's ``--debug`` logging, then fails one send.

Run with Rasa's interpreter by tests/analytics/test_broker_logs.py:
``python rasa_broker_debug.py QUEUE < events.jsonl``. Logging is configured as ``rasa run
--debug`` configures it (rasa/__main__.py); the events go to RabbitMQ through the broker
bot/endpoints.yml builds; then one more event is sent through an exchange that refuses it,
so that Rasa's failed-send path (which logs the event at ERROR) runs too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import rasa.utils.io
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.log_utils import configure_structlog

from connectors.event_broker import VentanillaEventBroker


class RefusingExchange:
    """Stands in for the broker's exchange when RabbitMQ refuses a message."""

    async def publish(self, *_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("RabbitMQ refused the message")


async def main(queue: str) -> None:
    config = EndpointConfig(
        url="127.0.0.1", kind="pika", port="5672", username="guest", password="guest", queue=queue, db=""
    )
    broker: Any = await VentanillaEventBroker.from_endpoint_config(config)
    events = [json.loads(line) for line in sys.stdin if line.strip()]
    for event in events[:-1]:
        broker.publish(event)
    await asyncio.wait(set(broker._background_tasks), timeout=60)
    exchange, broker._exchange = broker._exchange, RefusingExchange()
    broker.publish(events[-1])  # logged by Rasa at ERROR, kept for resending
    await asyncio.wait(set(broker._background_tasks), timeout=60)
    broker._exchange = exchange
    await broker.close()


if __name__ == "__main__":
    configure_logging_and_warnings(logging.DEBUG, None, warn_only_once=True, filter_repeated_logs=True)
    rasa.utils.io.configure_colored_logging(logging.DEBUG)
    configure_structlog(logging.DEBUG)
    asyncio.run(main(sys.argv[1]))
