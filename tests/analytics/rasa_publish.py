"""Publishes raw events (JSON lines on stdin) through the broker bot/endpoints.yml builds.

Run with Rasa's interpreter (.venv-rasa, Python 3.10) by the analytics tests:
``python rasa_publish.py pika QUEUE < events.jsonl`` (RabbitMQ) or
``python rasa_publish.py sql FILE < events.jsonl`` (the embedded SQLite table).
"""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.utils.endpoints import EndpointConfig

from connectors.event_broker import VentanillaEventBroker


async def main(kind: str, target: str) -> None:
    config = EndpointConfig(
        url="127.0.0.1", kind=kind, port="5672", username="guest", password="guest", queue=target, db=target
    )
    broker = await VentanillaEventBroker.from_endpoint_config(config)
    assert broker is not None
    for line in sys.stdin:
        if line.strip():
            broker.publish(json.loads(line))
    pending = set(getattr(broker, "_background_tasks", ()))  # Rasa publishes in background tasks
    if pending:
        await asyncio.wait(pending, timeout=60)
    closed = broker.close()
    if asyncio.iscoroutine(closed):
        await closed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
