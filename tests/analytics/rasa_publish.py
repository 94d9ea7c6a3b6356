"""Publishes raw events (JSON lines on stdin) through Rasa's own Pika broker, as Rasa does.

Run with Rasa's interpreter (.venv-rasa, Python 3.10) by test_rabbitmq_consumer.py: the
broker is the one bot/endpoints.yml builds (connectors.event_broker, kind ``pika``).
Usage: python rasa_publish.py QUEUE < events.jsonl
"""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.utils.endpoints import EndpointConfig

from connectors.event_broker import VentanillaEventBroker


async def main(queue: str) -> None:
    config = EndpointConfig(url="127.0.0.1", kind="pika", port="5672", username="guest", password="guest", queue=queue)
    broker = await VentanillaEventBroker.from_endpoint_config(config)
    assert broker is not None
    for line in sys.stdin:
        if line.strip():
            broker.publish(json.loads(line))
    pending = set(getattr(broker, "_background_tasks", ()))  # Rasa publishes in background tasks
    if pending:
        await asyncio.wait(pending, timeout=60)
    await broker.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
