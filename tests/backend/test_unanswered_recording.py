"""Unanswered turns are recorded masked, the same through SQL (SQLite, PostgreSQL) and HTTP.

The masking acceptance test of issue 16: a DNI, CURP, RUT, cédula, a phone, an e-mail and a
case code never reach ``unanswered_questions``; the case form's values (``secrets``) neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.db import create_schema, make_engine
from backend.http_interactions import HttpInteractionRepository
from backend.interactions import Candidate, InteractionRepository, InteractionStore
from backend.scratch_schema import scratch_schema
from backend.unanswered import store
from backend.unanswered.models import Reason
from tests.backend.conftest import HASH_KEY, SERVICE_TOKEN, LiveBackend

PERSONAL = {
    "DNI": "30.123.456",
    "CURP": "GODE561231HDFRRN09",
    "RUT": "12.345.678-5",
    "cédula": "1.023.456.789",
    "teléfono": "+54 9 11 5555-1234",
    "correo": "maria.gomez@example.org",
    "expediente": "EXP-2026-000123",
}


@dataclass
class Subject:
    repo: InteractionRepository
    engine: Engine


@pytest.fixture(params=["sql-sqlite", pytest.param("sql-postgres", marks=pytest.mark.postgres), "http"])
def subject(request: pytest.FixtureRequest, tmp_path) -> Iterator[Subject]:  # type: ignore[no-untyped-def]
    if request.param == "http":
        live: LiveBackend = request.getfixturevalue("live_backend")
        engine = make_engine(live.settings.effective_database_url)
        repo = HttpInteractionRepository(live.url, token=SERVICE_TOKEN)
        yield Subject(repo, engine)
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
        yield Subject(InteractionStore(engine, hash_key=HASH_KEY), engine)
        engine.dispose()


def _rows(engine: Engine, sender: str) -> list[store.UnansweredQuestion]:
    with Session(engine) as session:
        return [r for r in store.open_rows(session) if r.channel == sender]


def test_personal_data_never_reaches_the_table(subject: Subject) -> None:
    channel = f"t-{uuid.uuid4().hex[:8]}"
    text = "Soy Ana Luz Pérez; " + ", ".join(f"mi {k} es {v}" for k, v in PERSONAL.items()) + ". ¿Cómo sigo?"
    subject.repo.record_unanswered(
        sender_id="citizen-1",
        channel=channel,
        reason=Reason.ABSTAINED,
        question=text,
        intent="ask_procedure",
        intent_confidence=0.41,
        candidates=[Candidate("renovacion-dni", 0.52), Candidate("licencia-conducir", 0.61)],
        secrets=["Ana Luz Pérez"],
    )
    (row,) = _rows(subject.engine, channel)
    for value in [*PERSONAL.values(), "Ana Luz", "30123456", "5555"]:
        assert value not in row.question
    assert "[correo]" in row.question and "[expediente]" in row.question and "[número]" in row.question
    assert row.question.endswith("¿Cómo sigo?")
    assert row.intent == "ask_procedure" and row.intent_confidence == pytest.approx(0.41)
    assert [c["procedure_id"] for c in row.candidates] == ["licencia-conducir", "renovacion-dni"]
    assert row.sender_hash and "citizen-1" not in row.sender_hash


def test_an_unknown_reason_is_refused_and_nothing_is_written(subject: Subject) -> None:
    channel = f"t-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ValueError):
        subject.repo.record_unanswered(
            sender_id="c",
            channel=channel,
            reason="whatever",
            question="¿dónde pago la tasa?",
            intent="",
            intent_confidence=None,
            candidates=[],
            secrets=[],
        )
    assert _rows(subject.engine, channel) == []


def test_a_vector_given_with_the_question_is_stored_for_the_grouping(subject: Subject) -> None:
    channel = f"t-{uuid.uuid4().hex[:8]}"
    subject.repo.record_unanswered(
        sender_id="c",
        channel=channel,
        reason=Reason.FALLBACK,
        question="¿dónde pago la tasa de cementerio?",
        intent="nlu_fallback",
        intent_confidence=0.2,
        candidates=[],
        secrets=[],
        embedding=[3.0, 4.0] + [0.0] * 14,
        embedding_model="fake",
    )
    (row,) = _rows(subject.engine, channel)
    assert row.embedding_model == "fake"
    assert np.frombuffer(row.embedding or b"", dtype=np.float32).tolist()[:3] == pytest.approx([0.6, 0.8, 0.0])
