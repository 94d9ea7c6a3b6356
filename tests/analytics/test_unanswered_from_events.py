"""Unanswered turns no custom action records, read from Rasa's event stream (backend.unanswered.from_events).

Low-confidence intents answered by a plain response and Rasa's core fallback reach the
unanswered table through the analytics recorder, masked, with the interaction sender
hash, once (not again when the action server recorded the turn, not again on a replayed
batch), never from inside a form. The last test goes through Rasa's own SQL event broker
(in Rasa's interpreter) and the backend's drain, the embedded production path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.analytics.recorder import recorder_for
from backend.analytics.sql_drain import SqlDrain
from backend.interactions import interaction_sender_hash
from backend.settings import StoreSettings
from backend.unanswered import store
from backend.unanswered.models import Reason, UnansweredQuestion
from tests.analytics.events import Script
from tests.analytics.test_rabbitmq_consumer import RASA_PY, publish

KEY = "k" * 32
SETTINGS = StoreSettings(case_hash_key=KEY, case_code_prefix="EXP", unanswered_low_confidence=0.6)
GUESS = "cuanto sale el carnet mi mail es ana.gil@example.org y mi dni 30.123.456"


def _record(sessions: sessionmaker[Session], events: list[dict[str, Any]]) -> None:
    with sessions() as session:
        recorder_for(SETTINGS).record(session, events)
        session.commit()


def _rows(sessions: sessionmaker[Session]) -> list[UnansweredQuestion]:
    with sessions() as session:
        return list(session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id)).all())


def _guessed(sender: str, confidence: float = 0.41) -> Script:
    """A rule answers a guessed intent with a plain response (no custom action)."""
    script = Script(sender, time.time() - 30).session()
    return script.user(GUESS, "ask_fees", confidence=confidence).bot("utter_fees").action("action_listen")


def test_plain_response_on_a_guessed_intent_is_listed_for_review_masked(sessions: sessionmaker[Session]) -> None:
    sure = Script("c-sure", time.time() - 30).session()
    sure.user("hola", "greet", confidence=0.97).bot("utter_greet").action("action_listen")
    button = Script("c-button", time.time() - 30).session()
    button.user("/affirm", "affirm", confidence=0.3).bot("utter_ok").action("action_listen")
    _record(sessions, _guessed("c-guess").events + sure.events + button.events)
    [row] = _rows(sessions)
    assert row.reason == Reason.LOW_CONFIDENCE and row.intent == "ask_fees" and row.intent_confidence == 0.41
    assert "ana.gil" not in row.question and "30.123.456" not in row.question and "carnet" in row.question
    assert row.sender_hash == interaction_sender_hash(KEY, "c-guess") and row.channel == "rest"
    with sessions() as session:  # the console's intent review lists it
        assert [r.id for r in store.low_confidence(session, threshold=0.6)] == [row.id]


def test_core_fallback_is_recorded_as_fallback(sessions: sessionmaker[Session]) -> None:
    lost = Script("c-lost", time.time() - 30).session()
    lost.user("quiero hablar del tema ese", "chitchat", confidence=0.72).action("action_default_fallback")
    lost.bot("utter_default").action("action_listen")
    _record(sessions, lost.events)
    [row] = _rows(sessions)
    assert row.reason == Reason.FALLBACK and row.question == "quiero hablar del tema ese"
    assert row.intent == "chitchat" and row.intent_confidence == 0.72


def test_form_answers_are_never_recorded(sessions: sessionmaker[Session]) -> None:
    form = Script("c-form", time.time() - 30).session()
    form.user("Ana Gil Pérez", "inform", confidence=0.2).action("case_form")
    form.slot("full_name", "Ana Gil Pérez").action("action_listen")
    rejected = Script("c-rejected", time.time() - 30).session()
    rejected.user("Juana de Arco", "inform", confidence=0.3)
    rejected.events.append({"sender_id": "c-rejected", "timestamp": rejected.ts + 0.1, "event": "active_loop",
                            "name": "case_form"})  # fmt: skip
    rejected.action("action_default_fallback").action("action_listen")
    _record(sessions, form.events + rejected.events)
    assert _rows(sessions) == []


def test_a_turn_the_action_server_recorded_or_a_replay_is_not_recorded_twice(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:  # what actions/unanswered.py stored during the turn, before Rasa published it
        store.record(
            session, sender_hash=interaction_sender_hash(KEY, "c-acted"), channel="rest", reason=Reason.ABSTAINED,
            question=GUESS, intent="ask_fees", intent_confidence=0.41, candidates=[], case_code_prefix="EXP",
        )  # fmt: skip
        session.commit()
    acted = _guessed("c-acted")
    guessed = _guessed("c-once")
    _record(sessions, acted.events + guessed.events)
    _record(sessions, guessed.events)  # the broker delivered the batch again (a crash before the ack)
    rows = _rows(sessions)
    assert [(r.reason, r.sender_hash) for r in rows] == [
        (Reason.ABSTAINED, interaction_sender_hash(KEY, "c-acted")),
        (Reason.LOW_CONFIDENCE, interaction_sender_hash(KEY, "c-once")),
    ]


@pytest.mark.slow  # starts Rasa's interpreter (imports Rasa: ~10 s)
def test_through_rasas_sql_broker_and_the_backends_drain(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    if not RASA_PY.exists():
        pytest.skip("no .venv-rasa")
    lost = Script("c-broker-lost", time.time() - 30).session()
    lost.user("necesito lo del coso municipal", "chitchat", confidence=0.7).action("action_default_fallback")
    lost.bot("utter_default").action("action_listen")
    events_db = tmp_path / "rasa_events.db"
    publish(str(events_db), [_guessed("c-broker-guess"), lost], kind="sql")
    drain = SqlDrain(str(events_db), sessions, recorder_for(SETTINGS), batch=500)
    assert drain.drain_once() == len(lost.events) + len(_guessed("x").events)
    rows = _rows(sessions)
    assert [(r.reason, r.sender_hash) for r in rows] == [
        (Reason.LOW_CONFIDENCE, interaction_sender_hash(KEY, "c-broker-guess")),
        (Reason.FALLBACK, interaction_sender_hash(KEY, "c-broker-lost")),
    ]
    assert "ana.gil" not in rows[0].question
