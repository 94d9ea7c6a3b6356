"""What recording a turn's events costs Rasa: the broker's publish calls for one turn.

Run with Rasa's interpreter (the broker runs inside Rasa):

    PYTHONPATH=. .venv-rasa/bin/python -m bench.analytics_turn_overhead --turns 500

Builds the brokers exactly as bot/endpoints.yml does (connectors/event_broker.py) and
publishes ``--turns`` turns of 9 events shaped like a real answered question (the user
event with Rasa's full parse data, action, bot messages with the answer's payload, slots).
For ``sql`` (embedded) the time is the synchronous insert+commit of the 9 events, which
Rasa spends inside the turn; for ``pika`` it is the synchronous part (scheduling the
publish; the send runs in the background of Rasa's event loop), then the wait until
RabbitMQ took them is reported apart. Prints median and p95 per turn, in milliseconds.
This is the broker's own cost, not a side-by-side run of two whole stacks, and not all Rasa
does per turn for the events: the tracker store's ``stream_events`` around these calls is timed
inside the real server by ``bench.analytics_side_by_side`` (connectors/broker_timing.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rasa.utils.endpoints import EndpointConfig

from connectors.event_broker import VentanillaEventBroker


def turn(sender: str, ts: float) -> list[dict[str, Any]]:
    ranking = [{"name": f"intent_{i}", "confidence": 0.01} for i in range(10)]
    parse = {
        "text": "que papeles necesito para sacar el pasaporte por primera vez",
        "intent": {"name": "ask_procedure", "confidence": 0.93},
        "entities": [],
        "intent_ranking": ranking,
        "response_selector": {"all_retrieval_intents": [], "default": {"response": {}, "ranking": []}},
    }
    answer = {"type": "kb_answer", "procedure_id": "pasaporte-emision", "title": "Pasaporte", "score": 0.81}
    events: list[dict[str, Any]] = [
        {"event": "user", "text": parse["text"], "parse_data": parse, "input_channel": "rest"},
        {"event": "user_featurization", "use_text_for_featurization": False},
        {"event": "action", "name": "action_answer_procedure", "policy": "RulePolicy", "confidence": 1.0},
        {
            "event": "bot",
            "text": "Para el pasaporte necesita... " * 10,
            "data": {},
            "metadata": {"utter_action": "utter_kb_answer"},
        },
        {"event": "bot", "text": None, "data": {"custom": answer}, "metadata": {}},
        {"event": "bot", "text": "¿Le sirvió esta respuesta?", "data": {"buttons": []}, "metadata": {}},
        {"event": "slot", "name": "last_procedure", "value": "pasaporte-emision"},
        {"event": "slot", "name": "kb_answered", "value": True},
        {"event": "action", "name": "action_listen", "policy": "RulePolicy", "confidence": 1.0},
    ]
    return [{"sender_id": sender, "timestamp": ts + i * 0.001, **e} for i, e in enumerate(events)]


async def measure(kind: str, turns: int, folder: Path) -> None:
    config = EndpointConfig(
        url="127.0.0.1", kind=kind, db=str(folder / "events.db"), queue=f"bench-{uuid.uuid4().hex[:8]}"
    )
    broker = await VentanillaEventBroker.from_endpoint_config(config)
    if broker is None:
        raise SystemExit(f"no broker for {kind}")
    timings = []
    started = time.perf_counter()
    for n in range(turns):
        events = turn(f"bench-{n}", time.time())
        t0 = time.perf_counter()
        for event in events:
            broker.publish(event)
        timings.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0)
    pending = set(getattr(broker, "_background_tasks", ()))
    if pending:
        await asyncio.wait(pending, timeout=120)
    total = time.perf_counter() - started
    timings.sort()
    print(
        f"{kind}: per turn (9 events) median {statistics.median(timings):.3f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.3f} ms; {turns} turns all delivered in {total:.1f} s"
    )
    if kind == "pika":
        import aio_pika

        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1/")
        channel = await connection.channel()
        await channel.queue_delete(config.kwargs["queue"])
        await connection.close()
    close = getattr(broker, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--kinds", default="sql,pika")
    args = parser.parse_args()
    import rasa.shared.core.events  # noqa: F401 - as loaded in the Rasa server

    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds.split(","):
            asyncio.run(measure(kind, args.turns, Path(folder)))


if __name__ == "__main__":
    main()
