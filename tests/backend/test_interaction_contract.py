"""One contract, two implementations: every InteractionRepository behaves the same.

Runs against the SQL store (SQLite and PostgreSQL) and against HttpInteractionRepository
talking to the real backend served by uvicorn (what the action server uses when
``VENTANILLA_CASE_REPOSITORY=http``). What was written is read back with the SQL store on
the same database: the staff side always reads there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import pytest

from backend.db import create_schema, make_engine
from backend.http_interactions import HttpInteractionRepository
from backend.interactions import InteractionRepository, InteractionStore
from backend.scratch_schema import scratch_schema
from backend.service_client import CaseServiceError
from tests.backend.conftest import HASH_KEY, SERVICE_TOKEN, LiveBackend


@dataclass
class Subject:
    repo: InteractionRepository
    reader: InteractionStore  # the staff side, on the same database


@pytest.fixture(params=["sql-sqlite", pytest.param("sql-postgres", marks=pytest.mark.postgres), "http"])
def subject(request: pytest.FixtureRequest, tmp_path) -> Iterator[Subject]:  # type: ignore[no-untyped-def]
    if request.param == "http":
        live: LiveBackend = request.getfixturevalue("live_backend")
        engine = make_engine(live.settings.effective_database_url)
        repo = HttpInteractionRepository(live.url, token=SERVICE_TOKEN)
        yield Subject(repo, InteractionStore(engine, hash_key=HASH_KEY))
        repo.close()
        engine.dispose()
        return
    if request.param == "sql-sqlite":
        where: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'cases.db'}")
    else:
        where = scratch_schema(request.getfixturevalue("postgres_url"))
    with where as url:
        engine = make_engine(url)
        create_schema(engine)
        store = InteractionStore(engine, hash_key=HASH_KEY)
        yield Subject(store, store)
        engine.dispose()


def _sender() -> str:
    return f"sender-{uuid.uuid4().hex[:10]}"


def test_a_handoff_is_opened_and_only_its_citizen_leaves_a_message(subject: Subject) -> None:
    sender = _sender()
    reference = subject.repo.open_handoff(
        sender_id=sender, channel="telegram", during_office_hours=False, summary="Motivo: x\n- dni 30111222"
    )
    assert reference.startswith("ATN-")
    assert not subject.repo.leave_message(reference=reference, sender_id=_sender(), message="hola equipo")
    assert not subject.repo.leave_message(reference="ATN-NOPE00", sender_id=sender, message="hola equipo")
    assert subject.repo.leave_message(reference=reference, sender_id=sender, message="llamen al 11 5555 1234")
    view = subject.reader.handoff(reference)
    assert view is not None and view.state == "message_left" and view.channel == "telegram"
    assert view.message == "llamen al [número]"
    assert "30111222" not in view.summary
    assert subject.reader.find_conversation(reference, ["x", sender]) == sender


def test_a_suggestion_gets_its_topic(subject: Subject) -> None:
    topic = subject.repo.record_suggestion(sender_id=_sender(), channel="rest", text="pongan más colectivos al barrio")
    assert topic == "transporte"
    chosen = subject.repo.record_suggestion(sender_id=_sender(), channel="rest", text="algo", topic="salud")
    assert chosen == "salud"


def test_feedback_and_ratings_are_accepted(subject: Subject) -> None:
    subject.repo.record_answer_feedback(sender_id=_sender(), channel="rest", procedure_id="pasaporte", helpful=True)
    subject.repo.record_answer_feedback(sender_id=_sender(), channel="rest", procedure_id=None, helpful=False)
    subject.repo.record_rating(sender_id=_sender(), channel="rest", score=5, comment=None)
    subject.repo.record_rating(sender_id=_sender(), channel="rest", score=None, comment="muy útil")


def test_bad_input_is_refused_with_value_error(subject: Subject) -> None:
    with pytest.raises(ValueError):
        subject.repo.record_rating(sender_id=_sender(), channel="rest", score=6, comment=None)
    with pytest.raises(ValueError):
        subject.repo.record_rating(sender_id=_sender(), channel="rest", score=None, comment="   ")
    with pytest.raises(ValueError):
        subject.repo.record_suggestion(sender_id=_sender(), channel="rest", text="   ")


def test_the_http_repository_needs_the_service_token(live_backend: LiveBackend) -> None:
    repo = HttpInteractionRepository(live_backend.url, token="wrong-token")
    with pytest.raises(CaseServiceError, match="HTTP 401"):
        repo.record_rating(sender_id=_sender(), channel="rest", score=4, comment=None)
    repo.close()


def test_the_http_repository_reports_an_unreachable_service() -> None:
    repo = HttpInteractionRepository("http://127.0.0.1:9", token=SERVICE_TOKEN, timeout=1.0)
    with pytest.raises(CaseServiceError, match="unreachable"):
        repo.open_handoff(sender_id=_sender(), channel="rest", during_office_hours=True, summary="s")
    repo.close()
