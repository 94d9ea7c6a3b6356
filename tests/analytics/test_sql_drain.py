"""Embedded path without the whole stack: Rasa's SQL broker (as bot/endpoints.yml builds it, in
Rasa's interpreter) writes the raw events to SQLite; the backend's drain records them and
deletes the raw rows (the citizens' words do not stay there)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from backend.analytics.queries import figures
from backend.analytics.recorder import Recorder
from backend.analytics.sql_drain import SqlDrain
from backend.db import create_schema, make_engine
from tests.analytics.events import Script
from tests.analytics.test_rabbitmq_consumer import RASA_PY, START, publish

pytestmark = [pytest.mark.slow]  # starts Rasa's interpreter (imports Rasa: ~10 s)


def test_rasa_sql_broker_rows_are_drained_into_analytics(tmp_path: Path) -> None:
    if not RASA_PY.exists():
        pytest.skip("no .venv-rasa")
    events_db = tmp_path / "rasa_events.db"
    scripts = [Script(f"c-{n}", START + n).session().answered() for n in range(3)]
    scripts[1].abstained()
    publish(str(events_db), scripts, kind="sql")
    with sqlite3.connect(events_db) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == sum(len(s.events) for s in scripts)

    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    drain = SqlDrain(str(events_db), sessions, Recorder("k" * 32), batch=10)
    moved = sum(iter(drain.drain_once, 0))  # batches of 10 until nothing is left
    assert moved == sum(len(s.events) for s in scripts)
    with sessions() as session:
        result = figures(session, date(2026, 11, 20), date(2026, 11, 20))
    assert result.conversations == 3 and result.total("answers") == 3 and result.total("abstentions") == 1
    assert result.total("contained") == 2
    with sqlite3.connect(events_db) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    engine.dispose()
