"""Finding a handoff's conversation in Rasa's events table reads a bounded window, not the table.

Rasa's ``events`` table (SQLite here, the columns Rasa creates) gets 30,000 rows over ten
hours; the finder must find a sender active around the request's time, not one active
only hours before it, and never read more than ``MAX_SCANNED`` rows for one lookup.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from backend.interactions import interaction_sender_hash
from backend.livechat import senders
from backend.livechat.senders import SenderFinder

KEY = "k" * 32
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def tracker(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rasa_tracker.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        rows = [
            {"s": f"citizen-{n % 3000}", "t": (START + timedelta(seconds=n * 1.2)).timestamp()} for n in range(30_000)
        ]  # one event every 1.2 s for 10 hours, 3,000 senders
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp) VALUES (:s, 'user', :t)"), rows)
    engine.dispose()
    return url


def test_the_sender_is_found_in_a_bounded_window(tracker: str, monkeypatch: pytest.MonkeyPatch) -> None:
    finder = SenderFinder(tracker, KEY)
    read: list[int] = []
    engine = finder._engine = create_engine(tracker)

    @event.listens_for(engine, "after_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "sender_id" in statement:
            read.append(1)

    at = START + timedelta(hours=6)  # event 18,000 is citizen-0's; it also wrote at 08:00 (event 0)
    assert finder.find(interaction_sender_hash(KEY, "citizen-0"), since=at) == "citizen-0"
    assert finder.find(interaction_sender_hash(KEY, "nobody"), since=at) is None
    # a sender whose only events are hours before the request is not taken for it
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (id, sender_id, type_name, timestamp) VALUES (0, 'early', 'user', :t)"),
                     {"t": (START - timedelta(hours=1)).timestamp()})  # fmt: skip
    assert finder.find(interaction_sender_hash(KEY, "early"), since=at) is None
    assert sum(read) <= 6, "a few pages of the window, not the table"

    monkeypatch.setattr(senders, "MAX_SCANNED", 1000)
    monkeypatch.setattr(senders, "PAGE", 500)
    late = SenderFinder(tracker, KEY)  # a sender first active 40 minutes into the window: past the bound
    assert late.find(interaction_sender_hash(KEY, "citizen-2999"), since=START + timedelta(minutes=5)) is None
    finder.close()
    late.close()


def test_the_window_start_is_found_by_primary_key(tracker: str) -> None:
    engine = create_engine(tracker)
    finder = SenderFinder(tracker, KEY)
    table = finder._events()
    assert table is not None
    with engine.connect() as conn:
        assert senders.first_id_from(conn, table, (START + timedelta(seconds=600)).timestamp()) == 501
        assert senders.first_id_from(conn, table, (START + timedelta(days=1)).timestamp()) is None
    engine.dispose()
    finder.close()
