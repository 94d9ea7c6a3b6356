"""Which conversation in Rasa's tracker store made a handoff request.

Handoff requests keep no channel id, only ``interaction_sender_hash`` (a keyed hash:
the interaction tables hold no personal data). The console finds the conversation the
way the request's docstring intends: the sender ids of Rasa's ``events`` table that had
activity since shortly before the request are hashed and compared. Only recent senders
are read, so this stays cheap however old the store is; a found id is remembered for
the life of the process (the mapping never changes).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from threading import Lock

from sqlalchemy import Engine, MetaData, Table, inspect, select

from backend.conversations import EVENTS_TABLE, tracker_engine
from backend.interactions import interaction_sender_hash

LOOKBACK = timedelta(minutes=5)  # the request is written while the citizen's turn is processed
REMEMBERED = 2000


class SenderFinder:
    def __init__(self, tracker_url: str, hash_key: str) -> None:
        self._url = tracker_url
        self._key = hash_key
        self._engine: Engine | None = None
        self._table: Table | None = None
        self._found: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def _events(self) -> Table | None:
        if self._engine is None:
            self._engine = tracker_engine(self._url)
        if self._table is None and inspect(self._engine).has_table(EVENTS_TABLE):
            self._table = Table(EVENTS_TABLE, MetaData(), autoload_with=self._engine)
        return self._table

    def find(self, sender_hash: str, *, since: datetime) -> str | None:
        """The sender id whose hash is ``sender_hash`` among conversations active since ``since``."""
        with self._lock:
            if sender_hash in self._found:
                return self._found[sender_hash]
            events = self._events()
        if events is None or self._engine is None:
            return None
        query = select(events.c.sender_id).where(events.c.timestamp >= (since - LOOKBACK).timestamp()).distinct()
        with self._engine.connect() as conn:
            senders = conn.scalars(query).all()
        match = next((s for s in senders if interaction_sender_hash(self._key, s) == sender_hash), None)
        if match is not None:
            with self._lock:
                self._found[sender_hash] = match
                while len(self._found) > REMEMBERED:
                    self._found.popitem(last=False)
        return match

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
