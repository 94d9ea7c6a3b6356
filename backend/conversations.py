"""Personal data in Rasa's conversation store (the SQL tracker store), and how it is removed.

Rasa keeps every event of every conversation, user messages included, in its tracker
store: whatever a citizen typed into a form (name, document number, contact) stays
there verbatim. The case store can anonymize a case, but that is worth little while
the conversation that opened it still holds the same data. This module removes
conversations from Rasa's ``events`` table:

* ``forget_idle_conversations``: whole conversations whose last event is older than
  the retention period (``ventanilla-retention``);
* ``forget_senders``: the conversations of one citizen, found through the keyed hash
  of the channel's sender id that each case keeps (``ventanilla-privacy erase``).

Deleting the rows while Rasa runs is safe: Rasa's SQL tracker store reads a
conversation from the table on every message, so a forgotten conversation simply
starts again from an empty tracker.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Engine, MetaData, Table, create_engine, delete, event, func, inspect, select

from backend.hashing import sender_hash

EVENTS_TABLE = "events"  # Rasa 3.6 SQLTrackerStore.SQLEvent.__tablename__


def tracker_store_url(dialect: str, db: str) -> str:
    """The SQLAlchemy URL of the tracker store configured for Rasa (bot/endpoints.yml).

    Rasa receives ``dialect`` and ``db`` (VENTANILLA_TRACKER_DIALECT / _DB); for
    SQLite ``db`` is a file path, for other dialects a full URL is expected in ``db``.
    """
    if "://" in db:
        return db
    if dialect != "sqlite":
        raise ValueError("para un tracker store que no es SQLite, VENTANILLA_TRACKER_DB debe ser una URL completa")
    return f"sqlite:///{db}"


def tracker_engine(url: str) -> Engine:
    """An engine on Rasa's store that leaves its settings alone (no WAL switch, unlike ours).

    On SQLite, ``secure_delete`` overwrites deleted rows with zeros: otherwise the text
    of a forgotten conversation would stay readable in the file's free pages.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _secure_delete(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA secure_delete=ON")

    return engine


def _events(engine: Engine) -> Table | None:
    """Rasa's events table, or None when Rasa has not created it yet (nothing to forget)."""
    if not inspect(engine).has_table(EVENTS_TABLE):
        return None
    return Table(EVENTS_TABLE, MetaData(), autoload_with=engine)


def forget_idle_conversations(engine: Engine, *, older_than: datetime, dry_run: bool = False) -> int:
    """Deletes every conversation whose last event is before ``older_than``; returns how many."""
    events = _events(engine)
    if events is None:
        return 0
    last_event = func.max(events.c.timestamp)
    query = select(events.c.sender_id).group_by(events.c.sender_id).having(last_event < older_than.timestamp())
    with engine.connect() as conn:
        senders = list(conn.scalars(query).all())
    if not dry_run:
        _delete_senders(engine, events, senders)
    return len(senders)


def forget_senders(engine: Engine, *, hash_key: str, sender_hashes: Collection[str]) -> int:
    """Deletes the conversations whose sender id hashes to one of ``sender_hashes``.

    Cases keep only the keyed hash of the sender id, so every distinct sender of the
    store is hashed and compared; returns the number of conversations deleted.
    """
    events = _events(engine)
    wanted = set(sender_hashes)
    if events is None or not wanted:
        return 0
    with engine.connect() as conn:
        senders = conn.scalars(select(events.c.sender_id).distinct()).all()
    matching = [sender for sender in senders if sender_hash(hash_key, sender) in wanted]
    _delete_senders(engine, events, matching)
    return len(matching)


def _delete_senders(engine: Engine, events: Table, senders: list[str]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(senders), 500):  # stay under SQLite's bound-parameter limit
            conn.execute(delete(events).where(events.c.sender_id.in_(senders[start : start + 500])))
