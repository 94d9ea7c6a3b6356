"""Which conversation in Rasa's tracker store made a handoff request.

Handoff requests keep no channel id, only ``interaction_sender_hash`` (a keyed hash:
the interaction tables hold no personal data). The console finds the conversation the
way the request's docstring intends: the sender ids of Rasa's ``events`` table active
around the request's time (from LOOKBACK before to LOOKAHEAD after) are hashed and
compared. Rasa's table has no index on ``timestamp``: the window's first row is found
by a binary search on the primary key (``first_id_from``), and at most MAX_SCANNED rows
are read from there, so a lookup stays bounded however large or old the store is. A
found id is remembered for the life of the process (the mapping never changes).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from threading import Lock

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select

from backend.conversations import EVENTS_TABLE, tracker_engine
from backend.interactions import interaction_sender_hash

LOOKBACK = timedelta(minutes=5)  # the request is written while the citizen's turn is processed
LOOKAHEAD = timedelta(minutes=10)  # ... so the sender has events within minutes of it
PAGE = 2000
MAX_SCANNED = 100_000  # events read at most per lookup (a busy hour of a large agency)
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
        """The sender id whose hash is ``sender_hash`` among conversations active around ``since``."""
        with self._lock:
            if sender_hash in self._found:
                return self._found[sender_hash]
            events = self._events()
        if events is None or self._engine is None:
            return None
        with self._engine.connect() as conn:
            match = _scan(conn, events, sender_hash, self._key, since)
        if match is not None:
            with self._lock:
                self._found[sender_hash] = match
                while len(self._found) > REMEMBERED:
                    self._found.popitem(last=False)
        return match

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def first_id_from(conn: Connection, events: Table, moment: float) -> int | None:
    """The first event id with a timestamp at or after ``moment``: a binary search on the primary key.

    Rasa's ``events`` table has no index on ``timestamp``, but ids grow with time (rows are
    appended as turns happen), so ~log2(rows) lookups by primary key find the start of a
    time window without reading the table.
    """
    lowest, highest = conn.execute(select(func.min(events.c.id), func.max(events.c.id))).one()
    if lowest is None:
        return None
    lo, hi, best = int(lowest), int(highest), None
    while lo <= hi:
        mid = (lo + hi) // 2
        row = conn.execute(
            select(events.c.id, events.c.timestamp)
            .where(events.c.id >= mid, events.c.id <= hi)
            .order_by(events.c.id)
            .limit(1)
        ).first()
        if row is None:
            hi = mid - 1
        elif row.timestamp is not None and float(row.timestamp) >= moment:
            best, hi = int(row.id), mid - 1
        else:
            lo = int(row.id) + 1
    return best


def _scan(conn: Connection, events: Table, sender_hash: str, key: str, since: datetime) -> str | None:
    """Reads the events from LOOKBACK before ``since`` to LOOKAHEAD after it, at most MAX_SCANNED rows."""
    start = first_id_from(conn, events, (since - LOOKBACK).timestamp())
    if start is None:
        return None
    end = (since + LOOKAHEAD).timestamp()
    seen: set[str] = set()
    cursor, scanned = start - 1, 0
    while scanned < MAX_SCANNED:
        rows = conn.execute(
            select(events.c.id, events.c.sender_id, events.c.timestamp)
            .where(events.c.id > cursor)
            .order_by(events.c.id)
            .limit(PAGE)
        ).all()
        for row in rows:
            if row.timestamp is not None and float(row.timestamp) > end:
                return None
            sender = str(row.sender_id)
            if sender not in seen:
                seen.add(sender)
                if interaction_sender_hash(key, sender) == sender_hash:
                    return sender
        if len(rows) < PAGE:
            return None
        cursor, scanned = int(rows[-1].id), scanned + len(rows)
    return None
