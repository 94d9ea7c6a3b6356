"""Saves the same conversation through Rasa's SQL tracker store and ours; prints what each streamed.

Run with Rasa's interpreter by tests/analytics/test_streaming_store.py: ``python
rasa_streaming_store.py FOLDER``. Each store gets its own SQLite file and a broker that
collects what it is given; the conversation grows turn by turn (saved after each), starts a
new session half-way, and is saved once more unchanged. Prints one JSON object:
``{"rasa": [...], "ours": [...], "ours_sql": [...]}``, the streamed events in order
(``ours_sql``: ours with the embedded SQL broker, which takes a turn's events in one
transaction, read back from its table).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.event_broker import sql_broker
from connectors.tracker_store import VentanillaTrackerStore


class Collecting(EventBroker):
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def turns() -> list[list[Any]]:
    start = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.1)]
    out = [[*start, ActionExecuted("action_listen", timestamp=1.2)]]
    for n in range(4):
        ts = 10.0 + n * 10
        out.append(
            [
                UserUttered(f"pregunta {n}", {"name": "ask_procedure", "confidence": 0.9}, timestamp=ts),
                ActionExecuted("action_answer_procedure", timestamp=ts + 0.1),
                BotUttered(f"respuesta {n}", timestamp=ts + 0.2),
                SlotSet("kb_answered", True, timestamp=ts + 0.3),
                ActionExecuted("action_listen", timestamp=ts + 0.4),
            ]
        )
        if n == 1:  # a new session in the middle
            out.append([ActionExecuted("action_session_start", timestamp=ts + 5), SessionStarted(timestamp=ts + 5.1)])
    out.append([])  # saved again with nothing new
    return out


async def streamed(store_class: type[SQLTrackerStore], db: Path, broker: Any = None) -> list[dict[str, Any]]:
    broker = broker or Collecting()
    store = store_class(domain=Domain.empty(), dialect="sqlite", db=str(db), event_broker=broker)
    tracker = DialogueStateTracker("citizen-1", slots=[])
    for events in turns():
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        tracker = await store.retrieve("citizen-1") or tracker  # as Rasa does for the next message
    return getattr(broker, "events", [])


async def main(folder: Path) -> None:
    rasa = await streamed(SQLTrackerStore, folder / "rasa.db")
    ours = await streamed(VentanillaTrackerStore, folder / "ours.db")
    await streamed(VentanillaTrackerStore, folder / "ours_sql.db", sql_broker(str(folder / "events.db")))
    with sqlite3.connect(folder / "events.db") as conn:
        ours_sql = [json.loads(data) for (data,) in conn.execute("SELECT data FROM events ORDER BY id")]
    print(json.dumps({"rasa": rasa, "ours": ours, "ours_sql": ours_sql}))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
